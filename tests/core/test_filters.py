"""The numpy moving average and running minimum equal scipy.ndimage's (mode "nearest"); held peaks follow their
recursion."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from spectrostyle.core.filters import held_peaks, moving_average, running_minimum


@pytest.mark.parametrize(("n", "size"), [(1, 1), (5, 3), (100, 7), (1000, 441), (10, 21), (1001, 5)])
def test_they_equal_scipy_ndimage(n, size):
    values = np.random.default_rng(n).standard_normal(n)
    np.testing.assert_allclose(moving_average(values, size), uniform_filter1d(values, size, mode="nearest"),
                               atol=1e-12)
    np.testing.assert_array_equal(running_minimum(values, size), minimum_filter1d(values, size, mode="nearest"))


def test_the_average_runs_along_any_axis_and_needs_an_odd_window():
    values = np.random.default_rng(0).standard_normal((4, 50))
    for axis in (0, 1, -1):
        np.testing.assert_allclose(moving_average(values, 3, axis=axis),
                                   uniform_filter1d(values, 3, axis=axis, mode="nearest"), atol=1e-12)
    with pytest.raises(ValueError, match="odd"):
        moving_average(values, 4)
    with pytest.raises(ValueError, match="odd"):
        running_minimum(values[0], 0)


def test_a_short_window_keeps_small_values_after_large_ones_exact():
    # energies in a silence after loud frames: a running sum would leave its rounding error (1e-16 of 1e12) there
    values = np.concatenate([np.full(50, 1e12), np.zeros(20), np.full(30, 1e-6)])
    averaged = moving_average(values, 5)
    np.testing.assert_allclose(averaged[-20:], 1e-6, rtol=1e-12)
    assert (averaged[55:68] == 0.0).all()


def test_held_peaks_fall_back_as_their_recursion_says():
    rng = np.random.default_rng(2)
    values = rng.random((3, 400)) ** 6
    values[:, 150:220] = 0.0  # a silence: the held value keeps falling through it
    release = 0.9
    expected = np.empty_like(values)
    current = values[:, 0]
    for t in range(values.shape[1]):
        current = np.maximum(values[:, t], release * current)
        expected[:, t] = current
    np.testing.assert_allclose(held_peaks(values, release), expected, rtol=1e-9)
    assert held_peaks(np.zeros(5), 0.5).tolist() == [0.0] * 5
    with pytest.raises(ValueError, match="between 0 and 1"):
        held_peaks(values, 1.0)
