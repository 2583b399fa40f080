"""The result's level: the content's integrated loudness (BS.1770) or a target, a true peak of at most -1 dBTP."""

from __future__ import annotations

import numpy as np
import pytest

from spectrostyle.core.loudness import integrated_loudness, limit, set_level, true_peak_db

RATE = 16_000


def tone(level: float = 0.05, seconds: float = 4.0, spike: float | None = None) -> np.ndarray:
    audio = (level * np.sin(2 * np.pi * 220 * np.arange(int(seconds * RATE)) / RATE)).astype(np.float32)
    if spike is not None:
        audio[RATE: RATE + 10] = spike
    return audio


def test_a_sine_has_the_loudness_bs1770_gives_it():
    # a full-scale 997 Hz sine reads -3.01 LUFS in BS.1770 (its K-weighting is ~0 dB there)
    full = np.sin(2 * np.pi * 997 * np.arange(5 * 48_000) / 48_000)
    assert integrated_loudness(full, 48_000) == pytest.approx(-3.01, abs=0.05)
    assert integrated_loudness(np.zeros(RATE), RATE) is None  # silent
    assert integrated_loudness(tone(seconds=0.3), RATE) is None  # shorter than one 400 ms block


def test_true_peak_sees_between_the_samples():
    # a sine at a quarter of the sample rate sampled at 45 degrees: samples at 0.707, true peak 1.0 (0 dBTP)
    samples = np.sin(2 * np.pi * 0.25 * np.arange(4000) + np.pi / 4).astype(np.float32)
    assert 20 * np.log10(np.abs(samples).max()) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_db(samples, RATE) == pytest.approx(0.0, abs=0.2)


def test_the_limiter_keeps_the_ceiling_and_leaves_the_rest():
    audio = tone(spike=0.99)
    limited = limit(audio, RATE, -1.0)
    assert true_peak_db(limited, RATE) <= -1.0 + 1e-3
    far = slice(2 * RATE, 3 * RATE)  # a second away from the spike: untouched
    np.testing.assert_allclose(limited[far], audio[far], atol=1e-7)
    quiet = tone()
    np.testing.assert_array_equal(limit(quiet, RATE, -1.0), quiet)  # under the ceiling: unchanged


@pytest.mark.parametrize("target", [-30.0, -14.0])
def test_set_level_reaches_a_target_or_the_reference_within_a_tenth_of_a_lu(target):
    audio = set_level(tone(spike=0.99), RATE, target_lufs=target)
    assert integrated_loudness(audio, RATE) == pytest.approx(target, abs=0.1)
    assert true_peak_db(audio, RATE) <= -1.0 + 1e-3
    matched = set_level(tone(level=0.001), RATE, reference=tone(level=0.2))
    assert integrated_loudness(matched, RATE) == pytest.approx(integrated_loudness(tone(level=0.2), RATE), abs=0.1)
    assert not np.any(set_level(np.zeros(10, np.float32), RATE, reference=tone()))


@pytest.mark.parametrize(("shape", "rate"), [((48_000,), 16_000), ((88_200, 2), 44_100), ((240_000, 5), 48_000),
                                             ((9_000,), 22_050)])
def test_the_meter_reads_as_pyloudnorm_does(shape, rate):
    pyloudnorm = pytest.importorskip("pyloudnorm")
    rng = np.random.default_rng(3)
    t = np.arange(shape[0]) / rate
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t)  # loud and quiet stretches: both gates at work
    audio = (0.2 * rng.standard_normal(shape) * (envelope if len(shape) == 1 else envelope[:, None]))
    ours = integrated_loudness(audio.astype(np.float32), rate)
    theirs = pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float32).astype(np.float64))
    assert ours == pytest.approx(theirs, abs=0.01)


@pytest.mark.parametrize("spike", [None, 0.99])  # a plain gain, and one the limiter shapes
def test_set_level_in_place_writes_the_same_result_into_the_given_array(spike):
    audio = np.stack([tone(spike=spike), 0.5 * tone(spike=spike)], axis=1)
    expected = set_level(audio, RATE, target_lufs=-16.0)
    given = audio.copy()
    result = set_level(given, RATE, target_lufs=-16.0, in_place=True)
    assert result is given
    np.testing.assert_array_equal(result, expected)
    assert integrated_loudness(result, RATE) == pytest.approx(-16.0, abs=0.1)
    assert true_peak_db(result, RATE) <= -1.0 + 1e-3
    np.testing.assert_array_equal(audio, np.stack([tone(spike=spike), 0.5 * tone(spike=spike)], axis=1))


def test_the_envelope_streams_long_signals_in_chunks_without_seams(monkeypatch):
    from spectrostyle.core import loudness

    rng = np.random.default_rng(5)
    audio = (0.3 * rng.standard_normal((5_000, 2))).astype(np.float32)
    whole = loudness.peak_envelope(audio, RATE)
    monkeypatch.setattr(loudness, "ENVELOPE_CHUNK", 777)
    np.testing.assert_allclose(loudness.peak_envelope(audio, RATE), whole, atol=1e-6)
    assert loudness.true_peak_db(audio, RATE) == pytest.approx(20 * np.log10(whole.max()), abs=1e-4)
    assert whole.shape == (5_000,) and np.all(whole >= np.abs(audio).max(axis=1))


@pytest.mark.parametrize("level", [0.003, 0.03])
@pytest.mark.parametrize("target", [-14.0, -23.0])
def test_a_decaying_note_lands_on_the_target_though_its_tail_crosses_the_gate(level, target):
    # a plain gain moves the tail's blocks across the absolute gate, which moves the relative one: the level search
    # must see the gated loudness at each gain, not the start's plus the gain
    t = np.arange(5 * RATE) / RATE
    note = (level * np.where(t < 1.0, 1.0, np.exp(-3.0 * (t - 1.0))) * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    assert integrated_loudness(set_level(note, RATE, target_lufs=target), RATE) == pytest.approx(target, abs=0.05)


@pytest.mark.parametrize("chunk", [None, 500])
def test_the_limiter_gain_filters_only_near_peaks_yet_equals_filtering_the_whole(monkeypatch, chunk):
    from spectrostyle.core import loudness
    from spectrostyle.core.filters import moving_average, running_minimum

    span = int(loudness.LIMITER_SPAN_S * RATE) | 1
    envelope = np.full(20 * span, 0.2, dtype=np.float32)
    # peaks as far apart as the stretches around them can be and still touch, one sample farther, and far apart
    for at in (3 * span, 7 * span + 1, 11 * span + 3, 17 * span):
        envelope[at] = 2.0
    if chunk is not None:
        monkeypatch.setattr(loudness, "STREAM_CHUNK", chunk)
    for scale in (0.5, 1.0, 4.0, 40.0):
        wanted = np.minimum(1.0, 10 ** (-1 / 20) / (scale * envelope))
        whole = scale * moving_average(running_minimum(wanted, 2 * span + 1), span)
        np.testing.assert_allclose(loudness._limiter_gain(envelope, RATE, -1.0, scale), whole, rtol=1e-6)


def test_the_loudness_under_a_limiter_gain_reads_from_the_energy_as_measured():
    from spectrostyle.core import loudness

    rng = np.random.default_rng(0)
    t = np.arange(8 * 44_100) / 44_100
    hits = (0.5 * rng.standard_normal((len(t), 2)) * np.exp(-20 * (t % 0.5))[:, None]).astype(np.float32)
    energy = loudness.weighted_energy(hits, 44_100)
    envelope = loudness.peak_envelope(hits, 44_100)
    for gain_db in (0.0, 6.0, 18.0):  # from a few peaks limited to a fifth of the samples and more
        gain = loudness._limiter_gain(envelope, 44_100, -1.0, 10 ** (gain_db / 20))
        estimated = loudness.gated_loudness(loudness.energy_block_powers(energy, 44_100, gain))
        assert estimated == pytest.approx(integrated_loudness(hits * gain[:, None], 44_100), abs=0.05)
    assert loudness.gated_loudness(loudness.energy_block_powers(energy, 44_100)) == pytest.approx(
        integrated_loudness(hits, 44_100), abs=1e-4)


def test_the_envelope_is_bs1770s_interpolator_sample_by_sample():
    # the annex's filter as its phases convolved with the signal (y_p[n] = sum_k h_p[k] x[n - k], centred on tap 6):
    # each sample's envelope is the largest of it and the four points from it towards the next sample
    from spectrostyle.core import loudness

    rng = np.random.default_rng(7)
    audio = (0.4 * rng.standard_normal((3_000, 2)) * np.linspace(0.1, 1.0, 3_000)[:, None]).astype(np.float32)
    phases = np.array(loudness.INTERPOLATOR_PHASES)
    phases = np.concatenate([phases, phases[::-1, ::-1]])
    centre = loudness.INTERPOLATOR_CENTRE
    points = np.stack([[np.convolve(channel, taps)[centre:centre + len(audio)] for taps in phases]
                       for channel in audio.T])  # (channels, phases, samples)
    expected = np.maximum(np.abs(points).max(axis=(0, 1)), np.abs(audio).max(axis=1))
    np.testing.assert_allclose(loudness.peak_envelope(audio, RATE), expected, rtol=1e-5, atol=1e-6)
