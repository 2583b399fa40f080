"""The level of a result: its integrated loudness (ITU-R BS.1770, by pyloudnorm) set to the content's or to a
target, its true peak (4x oversampled, as BS.1770's annex 2 measures it) kept at or below a ceiling.

Style transfer rebuilds a sound from a spectrogram image whose level is the content's peak, so results came out
anywhere from a few to 24 LU quieter or louder than their content. :func:`set_level` makes the level predictable:
the same loudness as the content by default, any target on request, never over the ceiling.
"""

from __future__ import annotations

import os

import numpy as np
import soxr

TRUE_PEAK_CEILING_DB = -1.0  # dBTP: the usual ceiling for material that will be encoded or mixed
OVERSAMPLING = 4  # BS.1770-4 annex 2: true peak from the signal oversampled 4x
LIMITER_SPAN_S = 0.005  # the limiter's gain falls over this long before a peak and recovers over this long after
LEVEL_ROUNDS = 6  # gain then limit, this many more times at most, to land on the target despite the limiting
LEVEL_TOLERANCE_LU = 0.1  # close enough to the target
MAX_LEVEL_STEP_DB = 12.0  # the largest change of gain from one try to the next


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float | None:
    """BS.1770 integrated loudness of ``audio`` ``(samples,)`` or ``(samples, channels)`` in LUFS; None when it has
    none (shorter than one 400 ms block, or silent below the absolute gate)."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.shape[0] < int(0.4 * sample_rate) + 1 or not np.any(audio):
        return None
    import pyloudnorm  # imports scipy.signal (0.6 s): only where a loudness is measured

    loudness = pyloudnorm.Meter(sample_rate).integrated_loudness(audio)
    return float(loudness) if np.isfinite(loudness) else None


def file_loudness(path: str | os.PathLike) -> float | None:
    """The integrated loudness of an audio file as it is (its own sample rate and channels, as BS.1770 sums them),
    or None when it has none or cannot be read here (the caller then measures the decoded content instead)."""
    import soundfile

    try:
        audio, sample_rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError, TypeError):
        return None
    return integrated_loudness(audio, sample_rate) if len(audio) else None


def true_peak_db(audio: np.ndarray, sample_rate: int) -> float:
    """The true peak of ``audio`` in dBTP (the largest magnitude of the signal oversampled 4x); -inf when silent."""
    audio = np.asarray(audio, dtype=np.float32)
    if not audio.size or not np.any(audio):
        return float("-inf")
    upsampled = soxr.resample(audio, sample_rate, sample_rate * OVERSAMPLING, quality="HQ")
    peak = max(float(np.abs(upsampled).max()), float(np.abs(audio).max()))
    return 20.0 * np.log10(peak)


def limit(audio: np.ndarray, sample_rate: int, ceiling_db: float = TRUE_PEAK_CEILING_DB) -> np.ndarray:
    """``audio`` ``(samples,)`` or ``(samples, channels)`` with its true peak brought to at most ``ceiling_db`` by a
    look-ahead peak limiter (one gain for all channels): the gain falls ahead of each peak that would pass the
    ceiling (so nothing is clipped) and recovers after it.

    Written here because the maintained audio libraries we use (librosa, soxr, pyloudnorm) measure but do not limit;
    it works on the 4x-oversampled magnitude, so the true peak, not only the sample peak, stays under the ceiling.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    audio = np.asarray(audio, dtype=np.float32)
    ceiling = 10.0 ** (ceiling_db / 20.0)
    if not audio.size or true_peak_db(audio, sample_rate) <= ceiling_db:
        return audio
    channels = audio if audio.ndim == 2 else audio[:, None]  # (samples, channels): one gain for all (linked)
    upsampled = np.abs(soxr.resample(channels, sample_rate, sample_rate * OVERSAMPLING, quality="HQ")).max(axis=1)
    whole = len(upsampled) // OVERSAMPLING
    envelope = np.maximum(upsampled[: whole * OVERSAMPLING].reshape(-1, OVERSAMPLING).max(axis=1),
                          np.abs(channels[:whole]).max(axis=1))
    envelope = np.pad(envelope, (0, len(audio) - len(envelope)), mode="edge") if len(envelope) < len(audio) else \
        envelope[: len(audio)]
    wanted = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-12))  # the gain each sample needs on its own
    # a minimum over +-`span` then a moving average over `span`: every average covers only minima whose windows
    # hold the sample itself, so the gain is at or below what each sample needs, and it changes smoothly (falling
    # ahead of a peak, recovering after it) rather than sample by sample
    span = max(1, int(LIMITER_SPAN_S * sample_rate))
    gain = uniform_filter1d(minimum_filter1d(wanted, size=2 * span + 1, mode="nearest"), size=span, mode="nearest")
    limited = (audio * (gain if audio.ndim == 1 else gain[:, None])).astype(np.float32)
    excess = true_peak_db(limited, sample_rate) - ceiling_db
    return limited if excess <= 0 else (limited * 10.0 ** (-excess / 20.0)).astype(np.float32)


def set_level(audio: np.ndarray, sample_rate: int, *, reference: np.ndarray | None = None,
              target_lufs: float | None = None, ceiling_db: float = TRUE_PEAK_CEILING_DB) -> np.ndarray:
    """``audio`` ``(samples,)`` or ``(samples, channels)`` at the loudness of ``reference`` (or at ``target_lufs``,
    which wins), its true peak at most ``ceiling_db``. Where either has no integrated loudness (under 0.4 s, silent),
    only the ceiling applies."""
    audio = np.asarray(audio, dtype=np.float32)
    target = target_lufs if target_lufs is not None else (
        integrated_loudness(reference, sample_rate) if reference is not None else None)
    start = integrated_loudness(audio, sample_rate) if target is not None else None
    if start is None:
        return limit(audio, sample_rate, ceiling_db)

    def level(gain_db: float) -> tuple[np.ndarray, float]:
        made = limit((audio * 10.0 ** (gain_db / 20.0)).astype(np.float32), sample_rate, ceiling_db)
        return made, (integrated_loudness(made, sample_rate) or -200.0) - target

    # the gain that lands on the target once the limiter has taken the peaks: loudness rises with the gain, ever more
    # slowly as the limiter works harder, so steps from the secant through the last two tries (the first: 1 LU/dB)
    gains = [target - start]
    made, miss = level(gains[0])
    misses = [miss]
    for _ in range(LEVEL_ROUNDS):
        if abs(misses[-1]) < LEVEL_TOLERANCE_LU:
            break
        slope = 1.0 if len(gains) < 2 else (misses[-1] - misses[-2]) / (gains[-1] - gains[-2] or 1e-9)
        step = -misses[-1] / max(slope, 0.05)
        gains.append(gains[-1] + float(np.clip(step, -MAX_LEVEL_STEP_DB, MAX_LEVEL_STEP_DB)))
        made, miss = level(gains[-1])
        misses.append(miss)
    return made
