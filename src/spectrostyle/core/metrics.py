"""Measures of sounds and of classifications: pitch (pYIN), spectral shares, statistics."""

from __future__ import annotations

import librosa
import numpy as np
from torch import Tensor

from spectrostyle.core.studio import level_against_body_db

PYIN_FMIN = 40.0  # Hz, below the lowest bass notes rendered (MIDI 28 = 41 Hz)


PYIN_FMAX = 2100.0  # Hz, above the highest flute notes rendered (MIDI 96 = 2093 Hz)


PITCH_OFF_CENTS = 50.0  # a sound further than a quarter tone from its content note (or unvoiced) lost the pitch


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


def power_share_above(audio: np.ndarray, hz: float, sample_rate: int, start_s: float = 0.5, end_s: float = 2.5
                      ) -> float:
    """Share (0-1) of the power spectrum of ``audio`` between ``start_s`` and ``end_s`` (a 4 s note's held
    middle by default) above ``hz``: energy a method added where a note has little, such as whistling tones."""
    middle = audio[int(start_s * sample_rate): int(end_s * sample_rate)]
    power = np.abs(np.fft.rfft(middle)) ** 2
    frequencies = np.fft.rfftfreq(middle.size, 1 / sample_rate)
    return float(power[frequencies > hz].sum() / power.sum())


def midi_to_hz(pitch: float) -> float:
    return float(440.0 * 2 ** ((pitch - 69) / 12))


def pitch_error_to_note_cents(audio: np.ndarray, sample_rate: int, midi_pitch: float, **pyin_options) -> float:
    """Median absolute difference in cents between the voiced f0 of ``audio`` and a MIDI note's frequency."""
    f0, voiced = f0_track(audio, sample_rate, **pyin_options)
    usable = voiced & np.isfinite(f0)
    if not usable.any():
        return float("inf")
    return float(np.median(np.abs(1200.0 * np.log2(f0[usable] / midi_to_hz(midi_pitch)))))


def note_pitch_range(midi_pitch: float, semitones: float = 14.0) -> dict[str, float]:
    """pYIN search range ``{"fmin", "fmax"}`` of ``semitones`` either side of a MIDI note: wide enough to see an
    octave error (1200 cents), and about 15x faster than the full :data:`PYIN_FMIN`..:data:`PYIN_FMAX` range."""
    return {"fmin": midi_to_hz(midi_pitch - semitones), "fmax": midi_to_hz(midi_pitch + semitones)}


def bootstrap_ci(values: np.ndarray, statistic=np.mean, *, resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(values)``: rows of ``values`` ``(N, ...)`` are drawn with
    replacement ``resamples`` times (seeded). E.g. ``values`` = per-item correctness (0/1) and ``np.mean`` gives
    an interval for accuracy; ``(N, 2)`` rows of (true, predicted) and :func:`balanced_accuracy` one for that.
    Rows are treated as independent. Returns ``(nan, nan)`` for no rows."""
    values = np.asarray(values)
    if len(values) == 0:
        return float("nan"), float("nan")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(values), size=(resamples, len(values)))
    stats = np.array([statistic(values[rows]) for rows in draws], dtype=np.float64)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.nanpercentile(stats, [tail, 100 - tail])
    return float(low), float(high)


def precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision and recall ``(C,)`` from a ``(true, predicted)`` confusion matrix ``(C, C)``; NaN for a
    class never predicted (precision) or absent from the test (recall)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    hits = np.diag(matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(matrix.sum(0) > 0, hits / matrix.sum(0), np.nan)
        recall = np.where(matrix.sum(1) > 0, hits / matrix.sum(1), np.nan)
    return precision, recall


def balanced_accuracy(true: np.ndarray, predicted: np.ndarray | None = None) -> float:
    """Mean per-class recall over the classes present in ``true`` (chance is ``1 / classes`` however unequal
    the classes are). ``true`` may also be ``(N, 2)`` rows of (true, predicted), as :func:`bootstrap_ci` passes."""
    true = np.asarray(true)
    if predicted is None:
        true, predicted = true[:, 0], true[:, 1]
    predicted = np.asarray(predicted)
    classes = np.unique(true)
    if len(classes) == 0:
        return float("nan")
    return float(np.mean([np.mean(predicted[true == c] == c) for c in classes]))


def silhouette_by_group(features: np.ndarray, labels, *, metric: str = "euclidean") -> dict[str, float]:
    """Mean silhouette of each group's points ``{label: s}`` plus ``"all"`` (the mean over every point), for
    ``features`` ``(N, D)`` and one label per point. +1: a tight group far from the others; 0: on a border;
    < 0: closer to another group than to its own. Needs two or more groups; NaN otherwise."""
    from sklearn.metrics import silhouette_samples

    labels = np.asarray([str(label) for label in labels])
    names = list(dict.fromkeys(labels))
    if len(names) < 2 or len(names) >= len(labels):
        return {**{name: float("nan") for name in names}, "all": float("nan")}
    samples = silhouette_samples(np.asarray(features, dtype=np.float64), labels, metric=metric)
    scores = {name: float(samples[labels == name].mean()) for name in names}
    scores["all"] = float(samples.mean())
    return scores


def timbre_position(points: np.ndarray, source_a: np.ndarray, source_b: np.ndarray) -> dict[str, np.ndarray]:
    """Where each point ``(N, D)`` sits between two groups of source points ``(Na, D)`` and ``(Nb, D)``.

    Distances go to each source's centroid, in units of the distance between the two centroids:
    ``to_a``/``to_b`` ``(N,)`` (0 = at that source's centre; 1 = as far as the other source's centre is), and
    ``position`` = ``to_a / (to_a + to_b)`` ``(N,)``: 0 at A, 1 at B, 0.5 equally far from both. Standardise the
    features first if their dimensions have different scales."""
    points, source_a, source_b = (np.asarray(x, dtype=np.float64) for x in (points, source_a, source_b))
    centre_a, centre_b = source_a.mean(0), source_b.mean(0)
    span = max(float(np.linalg.norm(centre_a - centre_b)), 1e-12)
    to_a = np.linalg.norm(points - centre_a, axis=1) / span
    to_b = np.linalg.norm(points - centre_b, axis=1) / span
    return {"to_a": to_a, "to_b": to_b, "position": to_a / np.maximum(to_a + to_b, 1e-12)}


def confusion_matrix(labels: Tensor, predicted: Tensor, num_classes: int) -> np.ndarray:
    """``(true, predicted)`` counts, ``(C, C)`` int."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels.numpy(), predicted.numpy()), 1)
    return matrix


def stereo_image(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stereo image of ``audio`` ``(samples, 2)`` by third-octave band (150 Hz up; one band below):
    inter-channel level difference in dB (left over right), correlation (-1..1, the normalised real cross-spectrum,
    as a correlation meter reads a band), and each band's share of the energy -> three ``(bands,)`` arrays."""
    from spectrostyle.core.studio import band_energies, frame_size, image_band_edges, studio_stft

    n_fft = frame_size(sample_rate)
    spectra = studio_stft(np.asarray(audio, dtype=np.float32).T, n_fft)
    edges = image_band_edges(sample_rate)  # the bands the studio stage sets the image in
    bin_hz = sample_rate / n_fft
    energy = band_energies(spectra.abs() ** 2, bin_hz, edges).sum(axis=-1)  # (2, bands)
    cross = band_energies((spectra[0] * spectra[1].conj()).real, bin_hz, edges, signed=True).sum(axis=-1)
    level_db = 10.0 * np.log10((energy[0] + 1e-20) / (energy[1] + 1e-20))
    correlation = cross / (np.sqrt(energy[0] * energy[1]) + 1e-20)
    return level_db, correlation, energy.sum(axis=0) / max(float(energy.sum()), 1e-20)


def stereo_image_error(reference: np.ndarray, audio: np.ndarray, sample_rate: int, *, min_share: float = 1e-3
                       ) -> tuple[float, float]:
    """How far the stereo image of ``audio`` is from ``reference``'s (both ``(samples, 2)`` at ``sample_rate``):
    the energy-weighted mean absolute difference of the bands' level differences (dB) and of their correlations,
    over the bands holding at least ``min_share`` of both sounds' energy."""
    level_a, correlation_a, share_a = stereo_image(reference, sample_rate)
    level_b, correlation_b, share_b = stereo_image(audio, sample_rate)
    used = (share_a >= min_share) & (share_b >= min_share)
    weight = share_a[used] / share_a[used].sum()
    return (float(np.sum(weight * np.abs(level_a[used] - level_b[used]))),
            float(np.sum(weight * np.abs(correlation_a[used] - correlation_b[used]))))


def high_band_share_db(audio: np.ndarray, sample_rate: int, above_hz: float = 8000.0) -> float:
    """The share of ``audio``'s energy (``(samples,)`` or ``(samples, channels)``, channels mixed) above
    ``above_hz``, in dB (-inf when it has none, or its rate has no band there). Frames lie within the sound: a frame
    over a file's edge would count the step from the silence around it (a loop cut on its hit) as a burst of every
    frequency; the studio stage's edges are measured by :func:`clicks`."""
    mono = np.asarray(audio, dtype=np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    if len(mono) < 2048:
        mono = np.pad(mono, (0, 2048 - len(mono)))
    power = np.abs(librosa.stft(mono, n_fft=2048, hop_length=512, center=False)) ** 2
    frequencies = librosa.fft_frequencies(sr=sample_rate, n_fft=2048)
    share = power[frequencies >= above_hz].sum() / max(float(power.sum()), 1e-30)
    return float(10.0 * np.log10(share)) if share > 0 else float("-inf")


ONSET_TOLERANCE_S = 0.05  # an onset found within this of a reference onset counts as the same hit


def onsets(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Onset times in seconds of ``audio`` (``(samples,)`` or ``(samples, channels)``, channels mixed), by librosa's
    spectral-flux detector with backtracking off."""
    mono = np.asarray(audio, dtype=np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    return librosa.onset.onset_detect(y=mono, sr=sample_rate, units="time", hop_length=256)


def onset_f_measure(reference: np.ndarray, estimated: np.ndarray, tolerance: float = ONSET_TOLERANCE_S) -> float:
    """F-measure of ``estimated`` onset times against ``reference`` (seconds): each reference onset matches at most
    one estimate within ``tolerance``, nearest first (the MIREX onset rule; written here rather than adding mir_eval
    for these few lines). 1 when both are empty."""
    reference, estimated = np.sort(np.asarray(reference, float)), np.sort(np.asarray(estimated, float))
    if not len(reference) and not len(estimated):
        return 1.0
    if not len(reference) or not len(estimated):
        return 0.0
    gaps = np.abs(reference[:, None] - estimated[None, :])
    pairs = sorted(zip(*np.nonzero(gaps <= tolerance), strict=True), key=lambda ij: gaps[ij])
    used_reference, used_estimate = set(), set()
    for i, j in pairs:
        if i not in used_reference and j not in used_estimate:
            used_reference.add(i)
            used_estimate.add(j)
    hits = len(used_reference)
    return 2.0 * hits / (len(reference) + len(estimated))


def pitch_accuracy(audio: np.ndarray, sample_rate: int, notes: list[tuple[float, float, float]], *,
                   cents: float = PITCH_OFF_CENTS) -> float:
    """The share of frames inside the score's notes (``(onset_s, offset_s, midi)``; chords: any of the notes sounding)
    where pYIN hears a voiced pitch within ``cents`` of a sounding note; unvoiced frames count as misses."""
    mono = np.asarray(audio, dtype=np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    if sample_rate > 22_050:  # pYIN needs no more than 22 kHz; its cost grows with the rate
        mono = librosa.resample(mono, orig_sr=sample_rate, target_sr=22_050, res_type="soxr_hq")
        sample_rate = 22_050
    hop = 256
    f0, voiced = f0_track(mono, sample_rate, hop_length=hop, frame_length=2048)
    times = librosa.frames_to_time(np.arange(len(f0)), sr=sample_rate, hop_length=hop)
    hits = total = 0
    for index, t in enumerate(times):
        sounding = [midi for onset, offset, midi in notes if onset + 0.03 <= t <= offset - 0.03]
        if not sounding:
            continue
        total += 1
        if voiced[index] and np.isfinite(f0[index]):
            heard = 69.0 + 12.0 * np.log2(f0[index] / 440.0)
            hits += min(abs(heard - midi) for midi in sounding) * 100.0 <= cents
    return hits / total if total else float("nan")


def mean_mfcc(audio: np.ndarray, sample_rate: int, n_mfcc: int = 20) -> np.ndarray:
    """The mean over time of ``audio``'s MFCCs 1..n_mfcc-1 (the 0th, the level, left out), on its band up to 8 kHz
    at 16 kHz, so sounds of any rate compare: ``(n_mfcc - 1,)``."""
    mono = np.asarray(audio, dtype=np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    if sample_rate != 16_000:
        mono = librosa.resample(mono, orig_sr=sample_rate, target_sr=16_000, res_type="soxr_hq")
    mfcc = librosa.feature.mfcc(y=mono, sr=16_000, n_mfcc=n_mfcc)
    loud = librosa.feature.rms(y=mono)[0]
    frames = min(mfcc.shape[1], len(loud))
    weight = loud[:frames] / max(float(loud[:frames].sum()), 1e-12)  # silent frames say nothing of timbre
    return (mfcc[1:, :frames] * weight).sum(axis=1)


def clicks(audio: np.ndarray, sample_rate: int, *, ratio: float = 30.0) -> int:
    """Clicks in ``audio``: samples whose second difference (a jump in the waveform's slope) stands ``ratio`` times
    above its median over the surrounding 10 ms and above -40 dBFS, counted once per 10 ms."""
    from scipy.ndimage import median_filter

    mono = np.asarray(audio, dtype=np.float64)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    if len(mono) < 3:
        return 0
    curvature = np.abs(np.diff(mono, n=2))
    span = max(3, int(0.01 * sample_rate) | 1)
    typical = median_filter(curvature, size=span, mode="nearest") + 1e-9
    marked = np.nonzero((curvature > ratio * typical) & (curvature > 0.01))[0]
    if not len(marked):
        return 0
    return int(1 + np.count_nonzero(np.diff(marked) > span))


SILENT_BELOW_DB = -50.0  # silence_level_db: a 50 ms frame this far under the sound's body is silent


def silence_level_db(reference: np.ndarray, audio: np.ndarray, sample_rate: int, *, frame_s: float = 0.05
                     ) -> float | None:
    """How loud ``audio`` is where ``reference`` is silent (both ``(samples,)`` or ``(samples, channels)`` at
    ``sample_rate``): the mean level in dB, against ``audio``'s body, of its 50 ms frames where ``reference`` lies
    :data:`SILENT_BELOW_DB` under its own body (:func:`~spectrostyle.core.studio.level_against_body_db`, as the
    studio stage's silence gate measures); None where ``reference`` has no such frame."""

    def frame_levels(sound: np.ndarray) -> np.ndarray:
        mono = np.asarray(sound, dtype=np.float64)
        mono = mono.mean(axis=1) if mono.ndim == 2 else mono
        size = max(1, int(frame_s * sample_rate))
        count = len(mono) // size
        return level_against_body_db(np.square(mono[: count * size].reshape(count, size)).mean(axis=1))

    reference_db, audio_db = frame_levels(reference), frame_levels(audio)
    count = min(len(reference_db), len(audio_db))
    silent = reference_db[:count] < SILENT_BELOW_DB
    return float(audio_db[:count][silent].mean()) if silent.any() else None
