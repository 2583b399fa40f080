"""Keys of an instrument: root keys from file names or from the pitch, key ranges between roots, key lists."""

from __future__ import annotations

import re

import numpy as np

from spectrostyle.core.errors import InputError

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# a trailing note name (C4, F#3, Bb2, c-1) or MIDI number (0-127) after a separator, at the end of the file's stem
_TRAILING_NAME = re.compile(r"(?:^|[_\-\s.])([A-Ga-g])([#b]?)(-?\d)$")
_TRAILING_NUMBER = re.compile(r"(?:^|[_\-\s.])(\d{1,3})$")


def note_name(midi: int) -> str:
    """``60`` -> ``"C4"`` (MIDI 60 is middle C, C4)."""
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def root_key_from_name(stem: str) -> int | None:
    """The root key a sample's file name gives: a trailing MIDI number (``flute_67``) or note name (``flute_G4``,
    ``pad-Bb2``), None when it gives none."""
    found = _TRAILING_NAME.search(stem)
    if found:
        letter, accidental, octave = found.group(1).upper(), found.group(2), int(found.group(3))
        semitone = NOTE_NAMES.index(letter) + {"#": 1, "b": -1, "": 0}[accidental]
        midi = semitone + 12 * (octave + 1)
        return midi if 0 <= midi <= 127 else None
    found = _TRAILING_NUMBER.search(stem)
    if found and int(found.group(1)) <= 127:
        return int(found.group(1))
    return None


PITCH_RATE = 22_050  # pitch is heard at this rate: enough for pYIN's range, and four times faster than 44.1 kHz
PITCH_FMAX = 4200.0  # Hz: the top of pYIN's search, above C8 (the keys an instrument's preview plays reach there)
REFINE_CENTS = 20.0  # refine_pitch looks this far either side of pYIN's pitch (whose grid is 10 cents)
SEARCH = 2.0 ** (REFINE_CENTS / 1200.0)
HARMONIC_RANGE_DB = 30.0  # refine_pitch reads the harmonics within this of the strongest
MISSING_DB = 40.0  # a fundamental this far below its octave's peak is not there (pYIN slipped an octave down)


def detect_root_key(audio: np.ndarray, sample_rate: int) -> tuple[int | None, float]:
    """The MIDI key nearest the pitch heard in ``audio`` ``(samples,)``, and that pitch as a fractional MIDI number;
    ``(None, nan)`` for a sound with no pitch (under a fifth of its frames voiced).

    pYIN's median f0 (on a grid of 10 cents), refined to a fraction of a cent by the peaks of the sound's first
    harmonics in a long spectrum of its loudest second (:func:`refine_pitch`), within the span of pYIN's frames."""
    import soxr

    from spectrostyle.core.metrics import f0_track

    mono = np.asarray(audio, dtype=np.float32)
    if sample_rate > PITCH_RATE:
        mono, sample_rate = soxr.resample(mono, sample_rate, PITCH_RATE, quality="HQ"), PITCH_RATE
    mono = _loudest(mono, sample_rate)
    f0, voiced = f0_track(mono, sample_rate, frame_length=2048, hop_length=512, fmax=PITCH_FMAX)
    heard = f0[voiced & np.isfinite(f0)]
    if len(heard) < max(3, 0.2 * len(f0)):
        return None, float("nan")
    median = float(np.median(heard))
    f0_hz = _above_missing_fundamental(mono, sample_rate, median)
    pitch = refine_pitch(mono, sample_rate, f0_hz, heard_hz=heard * (f0_hz / median))
    return int(np.clip(round(pitch), 0, 127)), pitch


def _above_missing_fundamental(audio: np.ndarray, sample_rate: int, f0_hz: float) -> float:
    """``f0_hz`` doubled while the spectrum holds next to nothing there (more than :data:`MISSING_DB` below the peak
    at twice it): pYIN's sub-octave slips, where a sound's envelope repeats at half its period."""
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)))) + 1e-12
    bin_hz = sample_rate / len(audio)

    def level(hz: float) -> float:
        centre = int(round(hz / bin_hz))
        return 20.0 * np.log10(spectrum[max(0, centre - 3):centre + 4].max()) if centre + 4 < len(spectrum) else -300.0

    while 2 * f0_hz < PITCH_FMAX and level(f0_hz) < level(2 * f0_hz) - MISSING_DB:
        f0_hz *= 2
    return f0_hz


def _loudest(audio: np.ndarray, sample_rate: int, seconds: float = 1.0) -> np.ndarray:
    """The loudest ``seconds`` of ``audio`` (all of it when shorter)."""
    window = int(seconds * sample_rate)
    if len(audio) <= window:
        return audio
    power = np.cumsum(np.concatenate([[0.0], np.asarray(audio, dtype=np.float64) ** 2]))
    start = int(np.argmax(power[window:] - power[:-window]))
    return audio[start:start + window]


def refine_pitch(audio: np.ndarray, sample_rate: int, f0_hz: float, harmonics: int = 4, *,
                 heard_hz: np.ndarray | None = None) -> float:
    """The fractional MIDI pitch of ``audio`` within :data:`REFINE_CENTS` of ``f0_hz``: the peaks of its first
    ``harmonics`` harmonics in the zero-padded spectrum of its loudest second, each placed between bins by a parabola
    through the log magnitudes, divided by their number, averaged by magnitude (``f0_hz`` itself where they
    disagree).

    The refinement is trusted within one step of pYIN's grid (half :data:`REFINE_CENTS`) of ``f0_hz``, or of the
    10th to 90th percentile of pYIN's frames ``heard_hz`` (Hz) where given: the median of grid readings that wander
    across steps may sit more than a step from the note the harmonics show."""
    segment = _loudest(np.asarray(audio, dtype=np.float64), sample_rate)
    window = len(segment)
    segment = segment * np.hanning(window)
    size = 1 << int(np.ceil(np.log2(8 * window)))
    log_magnitude = np.log(np.abs(np.fft.rfft(segment, size)) + 1e-12)
    bin_hz = sample_rate / size
    estimates, weights = [], []
    for harmonic in range(1, harmonics + 1):
        centre = harmonic * f0_hz / bin_hz
        low, high = int(centre / SEARCH), int(np.ceil(centre * SEARCH)) + 1
        if high + 1 >= len(log_magnitude) or low < 1:
            break
        peak = low + int(np.argmax(log_magnitude[low:high]))
        a, b, c = log_magnitude[peak - 1:peak + 2]
        offset = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
        estimates.append((peak + offset) * bin_hz / harmonic)
        weights.append(np.exp(b))
    if not estimates:
        return float(69.0 + 12.0 * np.log2(f0_hz / 440.0))
    estimates, weights = np.array(estimates), np.array(weights)
    strong = weights >= weights.max() * 10 ** (-HARMONIC_RANGE_DB / 20)  # a weak harmonic's peak may be noise
    estimates, weights = estimates[strong], weights[strong]
    if np.ptp(1200 * np.log2(estimates / estimates[0])) > 2 * REFINE_CENTS:  # the peaks disagree: keep pYIN's
        return float(69.0 + 12.0 * np.log2(f0_hz / 440.0))
    refined = float(np.log2(np.average(estimates, weights=weights) / f0_hz))
    low, high = 0.0, 0.0
    if heard_hz is not None and len(heard_hz):
        spread = 1200.0 * np.log2(np.percentile(np.asarray(heard_hz, dtype=np.float64), [10, 90]) / f0_hz)
        low, high = min(low, float(spread[0])), max(high, float(spread[1]))
    low, high = low - REFINE_CENTS / 2, high + REFINE_CENTS / 2
    if not low <= 1200.0 * refined <= high:  # further than pYIN heard: a smeared peak, keep pYIN's
        refined = 0.0
    return float(69.0 + 12.0 * (np.log2(f0_hz / 440.0) + refined))


def key_ranges(roots: list[int]) -> list[tuple[int, int]]:
    """The keys each root plays, for sorted distinct ``roots``: split halfway between neighbours, the lowest root
    down to key 0 and the highest up to 127."""
    ranges = []
    for index, root in enumerate(roots):
        low = 0 if index == 0 else (roots[index - 1] + root) // 2 + 1
        high = 127 if index == len(roots) - 1 else (root + roots[index + 1]) // 2
        ranges.append((low, high))
    return ranges


def parse_keys(text: str, step: int = 1) -> list[int]:
    """``"36-96"`` with ``step`` 3 -> 36, 39, ..., 96 (the top key always included); ``"60,64,67"`` as listed."""
    try:
        if "-" in text.strip("-"):
            low, high = (int(part) for part in text.split("-"))
            keys = list(range(low, high + 1, max(1, step)))
            if keys and keys[-1] != high:
                keys.append(high)
        else:
            keys = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise InputError(f"keys must be LOW-HIGH or a comma-separated list of MIDI keys, got '{text}'") from None
    if not keys or any(not 0 <= key <= 127 for key in keys) or keys != sorted(set(keys)):
        raise InputError(f"keys must be rising MIDI keys in 0..127, got '{text}'")
    return keys


def parse_velocities(text: str) -> list[int]:
    """``"64,127"`` -> ``[64, 127]``: rising MIDI velocities in 1..127, one per velocity layer."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"velocities must be comma-separated MIDI velocities, got '{text}'") from None
    if not values or any(not 1 <= v <= 127 for v in values) or values != sorted(set(values)):
        raise InputError(f"velocities must be rising MIDI velocities in 1..127, got '{text}'")
    return values


def velocity_ranges(velocities: list[int]) -> list[tuple[int, int]]:
    """The velocities each layer plays: up to its own velocity from the one below (the first from 1; the loudest
    layer up to 127)."""
    lows = [1] + [v + 1 for v in velocities[:-1]]
    highs = velocities[:-1] + [127]
    return list(zip(lows, highs, strict=True))
