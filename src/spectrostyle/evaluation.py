"""Measurements of new sounds: pitch kept, and (later) classifier and embedding tests of the paper's experiment."""

from __future__ import annotations

import librosa
import numpy as np

PYIN_FMIN = 40.0  # Hz, below the lowest bass notes rendered (MIDI 28 = 41 Hz)
PYIN_FMAX = 2100.0  # Hz, above the highest flute notes rendered (MIDI 96 = 2093 Hz)


def f0_track(audio: np.ndarray, sample_rate: int, *, fmin: float = PYIN_FMIN, fmax: float = PYIN_FMAX,
             frame_length: int = 2048, hop_length: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """pYIN fundamental frequency (Hz, NaN where unvoiced) and voiced flags, one per frame."""
    f0, voiced, _ = librosa.pyin(np.asarray(audio, dtype=np.float32), fmin=fmin, fmax=fmax, sr=sample_rate,
                                 frame_length=frame_length, hop_length=hop_length)
    return f0, voiced


def pitch_error_cents(reference: np.ndarray, audio: np.ndarray, sample_rate: int, **pyin_options) -> float:
    """Median absolute f0 difference in cents between ``audio`` and ``reference`` over frames voiced in both.

    Returns ``inf`` when no frame is voiced in both (the pitch was lost).
    """
    length = min(len(reference), len(audio))
    f0_ref, voiced_ref = f0_track(reference[:length], sample_rate, **pyin_options)
    f0_out, voiced_out = f0_track(audio[:length], sample_rate, **pyin_options)
    both = voiced_ref & voiced_out & np.isfinite(f0_ref) & np.isfinite(f0_out)
    if not both.any():
        return float("inf")
    return float(np.median(np.abs(1200.0 * np.log2(f0_out[both] / f0_ref[both]))))


def midi_to_hz(pitch: float) -> float:
    return float(440.0 * 2 ** ((pitch - 69) / 12))


def pitch_error_to_note_cents(audio: np.ndarray, sample_rate: int, midi_pitch: float, **pyin_options) -> float:
    """Median absolute difference in cents between the voiced f0 of ``audio`` and a MIDI note's frequency."""
    f0, voiced = f0_track(audio, sample_rate, **pyin_options)
    usable = voiced & np.isfinite(f0)
    if not usable.any():
        return float("inf")
    return float(np.median(np.abs(1200.0 * np.log2(f0[usable] / midi_to_hz(midi_pitch)))))
