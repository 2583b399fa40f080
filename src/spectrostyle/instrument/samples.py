"""One sample of an instrument made playable: trimmed, tuned to its root key, looped on its sustained part.

Samplers loop a held note between two points; the loop must not click where it jumps back. The loop points are found
where the waveform and its spectrum match (whole periods apart, by normalised cross-correlation around the points),
and the last stretch before the loop's end is cross-faded with the stretch before its start, so the sample flows
from the end into the start as it flowed there in the first place. Written here: samplers do this at authoring time
and no maintained Python library does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import soxr

SILENCE_DB = -60.0  # trimmed: what lies below this under the sample's peak at its start and end
FADE_OUT_S = 0.01
ENVELOPE_S = 0.02  # the envelope's frame for finding the sustained part
SUSTAIN_SPREAD_DB = 6.0  # a note sustains when its level stays within this over the part to loop
MIN_LOOP_S = 0.25
CROSSFADE_S = 0.05  # at most; a quarter of the loop for short loops
TUNE_TOLERANCE_CENTS = 1.0  # a sample this close to its root key is left as it is
RETUNE_CENTS = 3.0  # make_playable tunes a sample again when it is still further than this from its root


@dataclass
class Sample:
    """An instrument's sample: ``audio`` ``(samples, channels)`` float32 at ``sample_rate``, its ``root`` key, and
    its loop ``(start, end)`` in samples (playback goes from ``end - 1`` to ``start``) or None (one shot)."""

    audio: np.ndarray
    sample_rate: int
    root: int
    loop: tuple[int, int] | None = None
    cents_off: float = 0.0  # how far the sample was from its root before tuning


def trim(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """``audio`` ``(samples, channels)`` without the silence before its start and after its end (below
    :data:`SILENCE_DB` under its peak), the end faded over :data:`FADE_OUT_S`."""
    level = np.abs(audio).max(axis=1)
    peak = float(level.max())
    if peak <= 0:
        return audio
    loud = np.nonzero(level >= peak * 10 ** (SILENCE_DB / 20))[0]
    start = max(0, int(loud[0]) - int(0.002 * sample_rate))
    end = min(len(audio), int(loud[-1]) + int(FADE_OUT_S * sample_rate))
    trimmed = audio[start:end].copy()
    fade = min(len(trimmed), int(FADE_OUT_S * sample_rate))
    trimmed[len(trimmed) - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    return trimmed


def tune(audio: np.ndarray, sample_rate: int, pitch: float, root: int) -> np.ndarray:
    """``audio`` heard at fractional MIDI ``pitch`` resampled so that, played at ``sample_rate``, it sounds at
    ``root`` (within soxr's precision)."""
    cents = 100.0 * (pitch - root)
    if abs(cents) < TUNE_TOLERANCE_CENTS or not np.isfinite(cents):
        return audio
    stretch = 2.0 ** (cents / 1200.0)  # sharp: more samples, so it plays lower
    return soxr.resample(audio, sample_rate, sample_rate * stretch, quality="VHQ").astype(np.float32)


def _envelope_db(mono: np.ndarray, frame: int) -> np.ndarray:
    frames = len(mono) // frame
    power = (mono[: frames * frame].reshape(frames, frame) ** 2).mean(axis=1)
    return 10.0 * np.log10(power + 1e-12)


def sustained_part(mono: np.ndarray, sample_rate: int) -> tuple[int, int] | None:
    """The stretch ``(start, end)`` in samples after the attack where the level stays within
    :data:`SUSTAIN_SPREAD_DB` of a steady value, at least :data:`MIN_LOOP_S` long; None for a note that decays."""
    frame = max(1, int(ENVELOPE_S * sample_rate))
    level = _envelope_db(mono, frame)
    if len(level) < 4:
        return None
    peak_frame = int(np.argmax(level))
    best: tuple[int, int] | None = None
    first = peak_frame + max(1, int(0.05 * sample_rate / frame))  # past the attack's peak
    for start in range(first, len(level)):
        reference = level[start]
        if reference < level.max() - 30.0:
            break
        stop = start
        while stop + 1 < len(level) and abs(level[stop + 1] - reference) <= SUSTAIN_SPREAD_DB / 2:
            stop += 1
        if best is None or stop - start > best[1] - best[0]:
            best = (start, stop)
        if stop == len(level) - 1:
            break
    if best is None or (best[1] - best[0]) * frame < MIN_LOOP_S * sample_rate:
        return None
    return best[0] * frame, best[1] * frame


def _similarity(mono: np.ndarray, a: int, b: int, half: int) -> float:
    """Normalised cross-correlation of the waveform around ``a`` and around ``b`` (``half`` samples each side)."""
    x, y = mono[a - half:a + half], mono[b - half:b + half]
    norm = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / norm) if norm > 0 else 0.0


def find_loop(mono: np.ndarray, sample_rate: int, f0_hz: float | None) -> tuple[int, int] | None:
    """Loop points ``(start, end)`` on the sustained part of ``mono``, or None when the note does not sustain.

    The start lies early in the sustained part at a point of small slope; the end near its close, chosen among the
    points a whole number of periods (of ``f0_hz``; any shift for an unpitched sound) away where the waveform around
    it best matches the waveform around the start.
    """
    part = sustained_part(mono, sample_rate)
    if part is None:
        return None
    period = sample_rate / f0_hz if f0_hz and np.isfinite(f0_hz) and f0_hz > 0 else None
    half = max(16, int(2 * period) if period else int(0.005 * sample_rate))
    crossfade = int(CROSSFADE_S * sample_rate)
    low, high = part[0] + max(half, crossfade), part[1] - half
    if high - low < MIN_LOOP_S * sample_rate:
        return None
    steps = np.abs(np.diff(mono))
    window = slice(low, low + max(half, int(0.02 * sample_rate)))
    start = window.start + int(np.argmin(steps[window]))  # where the waveform is flattest
    target = high
    if period:
        candidates = start + np.round(np.arange(1, (target - start) / period + 1) * period).astype(int)
        candidates = candidates[(candidates >= target - 8 * period) & (candidates <= target)]
    else:
        candidates = np.arange(max(start + 1, target - int(0.02 * sample_rate)), target)
    candidates = candidates[candidates + half < len(mono)]
    if not len(candidates):
        return None
    end = int(max(candidates, key=lambda e: _similarity(mono, start, int(e), half)))
    return start, end


def crossfade_loop(audio: np.ndarray, sample_rate: int, loop: tuple[int, int]) -> np.ndarray:
    """``audio`` ``(samples, channels)`` with the stretch before the loop's end cross-faded (equal power) into the
    stretch before its start, so that playing on from ``end - 1`` to ``start`` continues as the sound did."""
    start, end = loop
    length = min(int(CROSSFADE_S * sample_rate), (end - start) // 4, start)
    if length < 2:
        return audio
    out = audio.copy()
    rising = np.sin(0.5 * np.pi * np.linspace(0.0, 1.0, length, dtype=np.float32))[:, None]
    falling = np.cos(0.5 * np.pi * np.linspace(0.0, 1.0, length, dtype=np.float32))[:, None]
    out[end - length:end] = audio[end - length:end] * falling + audio[start - length:start] * rising
    return out


def seam_jump(audio: np.ndarray, loop: tuple[int, int]) -> float:
    """The loop's seam against its typical step: the sample-to-sample jump from ``end - 1`` to ``start`` over the
    90th percentile of the jumps inside the loop (at most 1: no larger than a typical step; worst channel)."""
    start, end = loop
    ratios = []
    for channel in np.atleast_2d(audio.T):
        typical = float(np.percentile(np.abs(np.diff(channel[start:end])), 90)) + 1e-12
        ratios.append(abs(float(channel[start] - channel[end - 1])) / typical)
    return max(ratios)


def make_playable(audio: np.ndarray, sample_rate: int, root: int, pitch: float, *, loop: bool = True,
                  hear: Callable[[np.ndarray, int], float] | None = None) -> Sample:
    """``audio`` ``(samples, channels)`` heard at fractional MIDI ``pitch`` as a sample of key ``root``: trimmed,
    tuned, and (``loop``) looped on its sustained part where it has one. ``hear(mono, rate)`` (a fractional MIDI
    pitch) checks the tuned sample once more and tunes what is left over :data:`RETUNE_CENTS` away."""
    audio = tune(trim(np.asarray(audio, dtype=np.float32), sample_rate), sample_rate, pitch, root)
    if hear is not None:
        heard = hear(audio.mean(axis=1), sample_rate)
        if RETUNE_CENTS < abs(100.0 * (heard - root)) < 100.0:
            audio = tune(audio, sample_rate, heard, root)
    points = None
    if loop:
        f0 = 440.0 * 2.0 ** ((root - 69) / 12.0)
        points = find_loop(audio.mean(axis=1), sample_rate, f0)
        if points is not None:
            audio = crossfade_loop(audio, sample_rate, points)
    return Sample(audio=np.ascontiguousarray(audio, dtype=np.float32), sample_rate=sample_rate, root=root,
                  loop=points, cents_off=100.0 * (pitch - root) if np.isfinite(pitch) else 0.0)
