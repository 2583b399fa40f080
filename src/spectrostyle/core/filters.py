"""Moving averages, running minima and held peaks over one axis, in numpy.

Written here rather than taken from ``scipy.ndimage``: the result's level and stereo image use them on every transfer,
and importing ``scipy.ndimage`` costs a command 0.3 s of start-up, as much as its whole budget. Both are centred, over
an odd number of samples, and repeat the edge values beyond the ends (``scipy.ndimage``'s ``mode="nearest"``; the
tests hold the two equal).
"""

from __future__ import annotations

import numpy as np


def _padded(values: np.ndarray, half: int, axis: int) -> np.ndarray:
    pad = [(0, 0)] * values.ndim
    pad[axis] = (half, half)
    return np.pad(values, pad, mode="edge")


SHIFTED_SUM_MAX = 31  # windows up to this size are summed from shifted copies, longer ones by running sums


def moving_average(values: np.ndarray, size: int, axis: int = -1) -> np.ndarray:
    """The mean over ``size`` (odd) neighbours centred on each value along ``axis``.

    Windows up to :data:`SHIFTED_SUM_MAX` add shifted copies, so a value far below the rest keeps its precision
    (energies in a silence after loud frames: a running sum would bury them under the sum's rounding error); longer
    windows take running sums, whose error is relative to the largest values."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"the window must be an odd number of values, got {size}")
    values = np.ascontiguousarray(values, dtype=np.float64)  # slices along any axis then read whole rows
    axis = axis % values.ndim
    padded = _padded(values, size // 2, axis)
    length = padded.shape[axis] - size + 1

    def along(array: np.ndarray, start: int) -> np.ndarray:  # ``length`` values along ``axis`` from ``start``: a view
        index = [slice(None)] * array.ndim
        index[axis] = slice(start, start + length)
        return array[tuple(index)]

    if size <= SHIFTED_SUM_MAX:
        total = along(padded, 0).copy()
        for shift in range(1, size):
            total += along(padded, shift)
        return total / size
    zeros = np.zeros(padded.shape[:axis] + (1,) + padded.shape[axis + 1:])
    running = np.concatenate([zeros, np.cumsum(padded, axis=axis)], axis=axis)
    return (along(running, size) - along(running, 0)) / size


def running_minimum(values: np.ndarray, size: int) -> np.ndarray:
    """The minimum over ``size`` (odd) neighbours centred on each value of ``values`` ``(n,)``, in linear time
    (van Herk and Gil-Werman: minima running forward and backward within blocks of ``size``)."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"the window must be an odd number of values, got {size}")
    values = np.asarray(values)
    n = len(values)
    padded = _padded(values, size // 2, 0)
    blocks = -(-len(padded) // size)
    filled = np.concatenate([padded, np.full(blocks * size - len(padded), padded[-1], dtype=padded.dtype)])
    shaped = filled.reshape(blocks, size)
    forward = np.minimum.accumulate(shaped, axis=1).ravel()
    backward = np.minimum.accumulate(shaped[:, ::-1], axis=1)[:, ::-1].ravel()
    starts = np.arange(n)
    return np.minimum(backward[starts], forward[starts + size - 1])


def held_peaks(values: np.ndarray, release: float) -> np.ndarray:
    """``values`` ``(..., n)`` (>= 0) with each peak held and falling back by the factor ``release`` (0..1) per step
    along the last axis: ``held[t] = max(values[t], release * held[t - 1])``, a peak meter's envelope.

    Vectorised in the log domain, where it is a running maximum: ``log held[t] = t log r + max_{s <= t} (log
    values[s] - s log r)`` (exact; no loop over the steps)."""
    values = np.asarray(values, dtype=np.float64)
    if not 0.0 < release < 1.0:
        raise ValueError(f"the release factor must lie between 0 and 1, got {release}")
    slope = np.log(release) * np.arange(values.shape[-1])
    with np.errstate(divide="ignore"):
        logs = np.log(values)
    return np.exp(slope + np.maximum.accumulate(logs - slope, axis=-1))
