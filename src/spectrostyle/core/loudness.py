"""The level of a result: its integrated loudness (ITU-R BS.1770-4) set to the content's or to a target, its true
peak (4x oversampled by BS.1770's annex 2 interpolating filter) kept at or below a ceiling.

Style transfer rebuilds a sound from a spectrogram image whose level is the content's peak, so results came out
anywhere from a few to 24 LU quieter or louder than their content. :func:`set_level` makes the level predictable:
the same loudness as the content by default, any target on request, never over the ceiling.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from spectrostyle.core.filters import moving_average, running_minimum

if TYPE_CHECKING:  # torch is imported where it is used: the meter alone starts without it
    import torch

TRUE_PEAK_CEILING_DB = -1.0  # dBTP: the usual ceiling for material that will be encoded or mixed
# BS.1770-4 annex 2: the true peak is read from the signal oversampled 4x by this 48-tap FIR, given as its first two
# phases of 12 taps (the other two are these reversed); phase p interpolates between a sample and the next
INTERPOLATOR_PHASES = (
    (0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000, -0.0594482421875, 0.1373291015625,
     0.9721679687500, -0.1022949218750, 0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500),
    (-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250, -0.1665039062500, 0.4650878906250,
     0.7797851562500, -0.2003173828125, 0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375),
)
INTERPOLATOR_CENTRE = 6  # the tap of phase 0 that weighs the sample itself
ENVELOPE_CHUNK = 1 << 16  # samples: the true-peak envelope is made this many at a time (they stay in cache)
LIMITER_SPAN_S = 0.005  # the limiter's gain falls over this long before a peak and recovers over this long after
BLOCK_S, BLOCK_STEP = 0.4, 0.25  # BS.1770's gating blocks: 400 ms, a new one every quarter block
ABSOLUTE_GATE_LUFS, RELATIVE_GATE_LU = -70.0, 10.0
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs
STREAM_CHUNK = 1 << 20  # samples: long signals are filtered and oversampled this much at a time
LEVEL_ROUNDS = 6  # gain then limit, this many more times at most, to land on the target despite the limiting
LEVEL_TOLERANCE_LU = 0.1  # close enough to the target
MAX_LEVEL_STEP_DB = 12.0  # the largest change of gain from one try to the next


def _biquad(kind: str, gain_db: float, q: float, hz: float, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """The K-weighting's two stages as pyloudnorm designs them at any rate (RBJ cookbook biquads): ``(b, a)``."""
    amplitude, w0 = 10.0 ** (gain_db / 40.0), 2.0 * np.pi * hz / sample_rate
    alpha, cos = np.sin(w0) / (2.0 * q), np.cos(w0)
    if kind == "high_shelf":
        root = 2.0 * np.sqrt(amplitude) * alpha
        b = amplitude * np.array([(amplitude + 1) + (amplitude - 1) * cos + root,
                                  -2.0 * ((amplitude - 1) + (amplitude + 1) * cos),
                                  (amplitude + 1) + (amplitude - 1) * cos - root])
        a = np.array([(amplitude + 1) - (amplitude - 1) * cos + root, 2.0 * ((amplitude - 1) - (amplitude + 1) * cos),
                      (amplitude + 1) - (amplitude - 1) * cos - root])
    else:  # high pass
        b = np.array([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2])
        a = np.array([1 + alpha, -2.0 * cos, 1 - alpha])
    return b / a[0], a / a[0]


def _k_weighted(audio: np.ndarray, sample_rate: int):
    """``audio`` ``(samples, channels)`` through BS.1770's K-weighting (a +4 dB shelf above 1.5 kHz, a high pass at 38
    Hz) -> ``(channels, samples)`` float32 tensor, applied as the two biquads' exact response in one zero-padded FFT:
    the same as filtering sample by sample (to 1e-6 of the level) once the filters' tails, far shorter than the
    padding, have died away."""
    import torch

    length = audio.shape[0]
    size = _fast_length(length + sample_rate // 2)  # half a second of padding holds the tails
    spectra = torch.fft.rfft(torch.as_tensor(np.ascontiguousarray(audio.T), dtype=torch.float32), n=size)
    return torch.fft.irfft(spectra * _k_response(size, sample_rate), n=size)[:, :length]


def _fast_length(length: int) -> int:
    """The smallest FFT length of the form 2^a 3^b 5^c at or above ``length`` (at most 1.25 times it, against up to 2
    times for a power of two)."""
    best = 1 << int(np.ceil(np.log2(max(length, 1))))
    fives = 1
    while fives < best:
        threes = fives
        while threes < best:
            candidate = threes << max(0, int(np.ceil(np.log2(length / threes))))
            best = min(best, candidate) if candidate >= length else best
            threes *= 3
        fives *= 5
    return best


@functools.lru_cache(maxsize=8)
def _k_response(size: int, sample_rate: int):
    """The K-weighting's frequency response on the ``size // 2 + 1`` bins of a ``size``-point real FFT (complex64)."""
    import torch

    frequency = torch.linspace(0.0, np.pi, size // 2 + 1, dtype=torch.float64)  # radians per sample
    z = torch.polar(torch.ones_like(frequency), -frequency)  # complex128: e^-iw
    response = torch.ones_like(z)
    for stage in (("high_shelf", 4.0, 1.0 / np.sqrt(2.0), 1500.0), ("high_pass", 0.0, 0.5, 38.0)):
        b, a = _biquad(*stage, sample_rate)
        response *= (b[0] + z * (b[1] + b[2] * z)) / (a[0] + z * (a[1] + a[2] * z))
    return response.to(torch.complex64)


def _k_weighted_squares(audio: np.ndarray, sample_rate: int) -> Iterator[tuple[int, torch.Tensor]]:
    """The square of the K-weighted ``audio`` ``(samples, channels)`` a chunk at a time: ``(start, (channels,
    chunk samples) float32 tensor)``, in order, covering every sample once. Each chunk is filtered from half a second
    early so that the filters have settled (their tails die away far sooner): a long file needs no whole-length
    spectrum."""
    warm = sample_rate // 2
    for start in range(0, len(audio), STREAM_CHUNK):
        first = max(0, start - warm)
        yield start, _k_weighted(audio[first:start + STREAM_CHUNK], sample_rate)[:, start - first:].square()


def _running_energy(audio: np.ndarray, sample_rate: int, at: np.ndarray) -> np.ndarray:
    """The K-weighted signal's energy summed from the start up to each index of ``at`` -> ``(len(at), channels)``,
    filtered a chunk at a time (:func:`_k_weighted_squares`); each chunk's energy is summed between the indices only
    (no running sum of every sample)."""
    points = np.unique(at)
    between = np.zeros((len(points) + 1, audio.shape[1]))  # [k]: the energy from points[k - 1] up to points[k]
    for start, squares in _k_weighted_squares(audio, sample_rate):
        squared = squares.numpy().T
        end = start + len(squared)
        cuts = np.unique(np.concatenate([[0], points[(points > start) & (points < end)] - start]))
        sums = np.add.reduceat(squared, cuts, axis=0, dtype=np.float64)  # from each cut to the next
        np.add.at(between, np.searchsorted(points, start + cuts, side="right"), sums)
    return np.cumsum(between, axis=0)[np.searchsorted(points, at)]


def weighted_energy(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The K-weighted energy of each sample of ``audio`` ``(samples, channels)``, summed over the channels with
    BS.1770's channel weights -> ``(samples,)`` float32: what a gain that changes slowly (a limiter's) scales by its
    square, so that the loudness under many such gains follows without filtering again. Filtered a chunk at a time
    (:func:`_k_weighted_squares`)."""
    import torch

    audio = np.asarray(audio, dtype=np.float32).reshape(len(audio), -1)
    weights = torch.as_tensor(_channel_weights(audio.shape[1]), dtype=torch.float32)[:, None]
    energy = np.empty(len(audio), dtype=np.float32)
    for start, squares in _k_weighted_squares(audio, sample_rate):
        # summed in torch: a numpy product this long would wake numpy's BLAS threads, which then spin against
        # torch's on the same cores
        energy[start:start + squares.shape[1]] = (squares * weights).sum(dim=0).numpy()
    return energy


def _channel_weights(channels: int) -> np.ndarray:
    """BS.1770's weight of each of ``channels`` channels ``(channels,)`` (1 past the fifth)."""
    return np.array(CHANNEL_WEIGHTS[:channels] + (1.0,) * max(0, channels - len(CHANNEL_WEIGHTS)))


def _block_edges(length: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The first and one-past-last sample of each of BS.1770's gating blocks of a ``length``-sample signal; None when
    it is shorter than one block."""
    block = int(round(BLOCK_S * sample_rate))
    if length < block + 1:
        return None
    blocks = int(np.round((length / sample_rate - BLOCK_S) / (BLOCK_S * BLOCK_STEP))) + 1
    starts = (BLOCK_S * BLOCK_STEP * np.arange(blocks) * sample_rate).astype(int)
    ends = np.minimum((BLOCK_S * (BLOCK_STEP * np.arange(blocks) + 1) * sample_rate).astype(int), length)
    return starts, ends


def energy_block_powers(energy: np.ndarray, sample_rate: int, gain: np.ndarray | float = 1.0) -> np.ndarray | None:
    """The gating blocks' mean power ``(blocks, 1)`` (channel weights applied) of a signal of per-sample
    :func:`weighted_energy` ``energy`` ``(samples,)`` under ``gain`` (one number, or ``(samples,)``): the gain taken
    as changing slowly against the K-weighting's response, so that it scales each sample's energy by its square;
    None when the signal is shorter than one block."""
    edges = _block_edges(len(energy), sample_rate)
    if edges is None:
        return None
    starts, ends = edges
    points = np.unique(np.concatenate([[0], starts, ends]))
    cuts = points[points < len(energy)]
    between = np.zeros(len(cuts))  # [k]: the energy from cuts[k] up to the next cut (or the end)
    for start in range(0, len(energy), STREAM_CHUNK):  # a chunk at a time: no whole-length product
        end = min(len(energy), start + STREAM_CHUNK)
        piece = energy[start:end] if np.isscalar(gain) else energy[start:end] * np.square(gain[start:end])
        inside = np.unique(np.concatenate([[0], cuts[(cuts > start) & (cuts < end)] - start]))
        np.add.at(between, np.searchsorted(cuts, start + inside, side="right") - 1,
                  np.add.reduceat(piece, inside, dtype=np.float64))
    running = np.concatenate([[0.0], np.cumsum(between)])
    factor = float(gain) ** 2 if np.isscalar(gain) else 1.0
    at = np.searchsorted(points, starts), np.searchsorted(points, ends)
    return (factor * (running[at[1]] - running[at[0]]) / int(round(BLOCK_S * sample_rate)))[:, None]


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float | None:
    """BS.1770-4 integrated loudness of ``audio`` ``(samples,)`` or ``(samples, channels)`` in LUFS; None when it has
    none (shorter than one 400 ms block, or silent below the absolute gate).

    K-weighting, 400 ms blocks every 100 ms, the absolute gate at -70 LUFS and the relative gate 10 LU below, channel
    weights 1, 1, 1, 1.41, 1.41: as pyloudnorm measures (the tests hold the two within 0.01 LU). Written here because
    pyloudnorm's filters import scipy.signal, which alone takes longer than the 0.3 s a command may spend starting."""
    powers = block_powers(audio, sample_rate)
    return None if powers is None else gated_loudness(powers)


def block_powers(audio: np.ndarray, sample_rate: int) -> np.ndarray | None:
    """The mean K-weighted power of each of BS.1770's gating blocks of ``audio`` ``(samples,)`` or ``(samples,
    channels)`` -> ``(blocks, channels)``: what the loudness is gated from
    (a plain gain ``g`` scales every block by ``g ** 2``); None when it has no block (under 400 ms, or silent)."""
    audio = np.asarray(audio, dtype=np.float32)  # a long file is filtered in chunks: no whole-length copies
    audio = audio[:, None] if audio.ndim == 1 else audio
    edges = _block_edges(audio.shape[0], sample_rate)
    if edges is None or not np.any(audio):
        return None
    starts, ends = edges
    running = _running_energy(audio, sample_rate, np.concatenate([starts, ends]))
    return (running[len(starts):] - running[:len(starts)]) / int(round(BLOCK_S * sample_rate))


def gated_loudness(power: np.ndarray) -> float | None:
    """The integrated loudness (LUFS) of blocks of mean power ``power`` ``(blocks, channels)`` (:func:`block_powers`):
    the absolute and relative gates, the channel weights; None when no block passes."""
    weights = _channel_weights(power.shape[1])

    def loudness(mean_power: np.ndarray) -> np.ndarray:
        return -0.691 + 10.0 * np.log10(np.maximum(mean_power @ weights, 1e-300))

    levels = loudness(power)
    kept = levels >= ABSOLUTE_GATE_LUFS
    if not kept.any():
        return None
    relative = loudness(power[kept].mean(axis=0)) - RELATIVE_GATE_LU
    kept &= levels > relative
    if not kept.any():
        return None
    value = float(loudness(power[kept].mean(axis=0)))
    return value if np.isfinite(value) else None


def file_loudness(path: str | os.PathLike) -> float | None:
    """The integrated loudness of an audio file as it is (its own sample rate and channels, as BS.1770 sums them),
    or None when it has none or cannot be read here (the caller then measures the decoded content instead)."""
    import soundfile

    try:
        audio, sample_rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError, TypeError):
        return None
    return integrated_loudness(audio, sample_rate) if len(audio) else None


def _envelope_pieces(audio: np.ndarray, gain: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """The true-peak envelope of ``audio`` ``(samples, channels)`` (times ``gain`` ``(samples,)``) a chunk at a time:
    ``(start, envelope of the samples from start)``, in order, covering every sample once. Each sample's value is
    the largest magnitude, over the channels, of it and of the four points the interpolator makes from it towards
    the next sample (the 12-sample windows around it times the four phases' taps, in one matrix product)."""
    import torch

    taps = _interpolator_taps()  # (4, 12)
    width = taps.shape[1]
    before, after = INTERPOLATOR_CENTRE - 1, width - INTERPOLATOR_CENTRE  # the samples a window holds around its own
    for start in range(0, len(audio), ENVELOPE_CHUNK):
        end = min(len(audio), start + ENVELOPE_CHUNK)
        first, last = max(0, start - before), min(len(audio), end + after)
        chunk = audio[first:last] if gain is None else audio[first:last] * gain[first:last, None]
        signal = torch.as_tensor(np.ascontiguousarray(chunk.T, dtype=np.float32))  # (channels, samples)
        signal = torch.nn.functional.pad(signal, (before - (start - first), after - (last - end)))  # zeros past ends
        windows = signal.unfold(1, width, 1)  # (channels, end - start, 12), a view
        points = torch.matmul(taps, windows.transpose(1, 2)).abs_().amax(dim=1)  # (channels, end - start)
        own = signal[:, before:before + end - start].abs()  # the samples themselves count too
        yield start, functools.reduce(torch.maximum, [*points, *own]).numpy()


@functools.lru_cache(maxsize=1)
def _interpolator_taps():
    """BS.1770's interpolating filter as ``(4, 12)`` float32: row p holds phase p's taps in window order (the oldest
    sample first)."""
    import torch

    phases = np.array(INTERPOLATOR_PHASES)
    phases = np.concatenate([phases, phases[::-1, ::-1]])  # (4, 12): phases 2 and 3 mirror 1 and 0
    return torch.as_tensor(np.ascontiguousarray(phases[:, ::-1]), dtype=torch.float32)


def peak_envelope(audio: np.ndarray, sample_rate: int, gain: np.ndarray | None = None) -> np.ndarray:
    """The true-peak envelope of ``audio`` ``(samples,)`` or ``(samples, channels)``: for each sample the largest
    magnitude, over the channels, of it and of the signal oversampled 4x from it to the next sample -> ``(samples,)``
    float32. The oversampling goes a chunk at a time, so a long file needs no 4x copy of itself. ``gain``
    ``(samples,)``: the envelope of ``audio`` times it, without making that product whole."""
    channels = np.asarray(audio, dtype=np.float32).reshape(len(audio), -1)
    envelope = np.zeros(len(channels), dtype=np.float32)
    for start, piece in _envelope_pieces(channels, gain):
        envelope[start:start + len(piece)] = piece
    return envelope


def true_peak_db(audio: np.ndarray, sample_rate: int) -> float:
    """The true peak of ``audio`` in dBTP (the largest magnitude of the signal oversampled 4x by BS.1770's
    interpolator, the same filter at every ``sample_rate``); -inf when silent."""
    audio = np.asarray(audio, dtype=np.float32)
    if not audio.size or not np.any(audio):
        return float("-inf")
    peak = max(float(piece.max()) for _, piece in _envelope_pieces(audio.reshape(len(audio), -1))
               if len(piece))
    return float(20.0 * np.log10(peak))


def limit(audio: np.ndarray, sample_rate: int, ceiling_db: float = TRUE_PEAK_CEILING_DB, *, in_place: bool = False
          ) -> np.ndarray:
    """``audio`` ``(samples,)`` or ``(samples, channels)`` with its true peak brought to at most ``ceiling_db`` by a
    look-ahead peak limiter (one gain for all channels): the gain falls ahead of each peak that would pass the
    ceiling (so nothing is clipped) and recovers after it.

    Written here because the maintained audio libraries we use (librosa, pyloudnorm) do not limit;
    it works on the 4x-oversampled magnitude, so the true peak, not only the sample peak, stays under the ceiling.
    ``in_place``: a float32 ``audio`` is overwritten with the result.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if not audio.size:
        return audio
    envelope = peak_envelope(audio, sample_rate)
    if envelope.max() <= 10.0 ** (ceiling_db / 20.0):
        return audio
    return _applied(audio, _limiter_gain(envelope, sample_rate, ceiling_db), sample_rate, ceiling_db,
                    in_place=in_place)


def _limiter_gain(envelope: np.ndarray, sample_rate: int, ceiling_db: float, scale: float = 1.0) -> np.ndarray:
    """The limiter's gain ``(samples,)`` for a signal of true-peak ``envelope`` scaled by ``scale`` (the scale
    included): a minimum over +-`span` of what each sample needs, then a moving average over `span`. Every average
    covers only minima whose windows hold the sample itself, so the gain is at or below what each sample needs, and
    it changes smoothly (falling ahead of a peak, recovering after it) rather than sample by sample.

    Only the samples within two spans of one that passes the ceiling can differ from ``scale``: those are taken out
    and filtered one after another (the stretches between them hold unlimited samples, farther apart than the two
    filters reach, so the values match filtering the whole), the rest is ``scale``."""
    ceiling = 10.0 ** (ceiling_db / 20.0)
    span = max(1, int(LIMITER_SPAN_S * sample_rate)) | 1  # odd: the windows are centred
    margin = 2 * span  # the two filters together reach 1.5 spans
    gain = np.full(len(envelope), scale, dtype=np.float32)
    over = np.flatnonzero(scale * envelope > ceiling)
    if not len(over):
        return gain
    # stretches of samples near the ones over, at least one sample between two (their edges never meet)
    apart = np.flatnonzero(np.diff(over) > 2 * margin + 1)
    edges = np.zeros(len(envelope) + 1, dtype=np.int8)
    edges[np.maximum(over[np.concatenate([[0], apart + 1])] - margin, 0)] = 1
    edges[np.minimum(over[np.concatenate([apart, [len(over) - 1]])] + margin + 1, len(envelope))] = -1
    near = np.flatnonzero(np.cumsum(edges[:-1], dtype=np.int8))
    for start in range(0, len(near), STREAM_CHUNK):  # a chunk at a time, each seeing `margin` past its ends
        end = min(len(near), start + STREAM_CHUNK)
        first, last = max(0, start - margin), min(len(near), end + margin)
        wanted = np.minimum(1.0, ceiling / np.maximum(scale * envelope[near[first:last]], 1e-12))
        part = moving_average(running_minimum(wanted, 2 * span + 1), span)
        gain[near[start:end]] = scale * part[start - first:end - first]
    return gain


def _applied(audio: np.ndarray, gain: np.ndarray, sample_rate: int, ceiling_db: float, *, in_place: bool = False
             ) -> np.ndarray:
    """``audio`` times ``gain`` ``(samples,)``, scaled down by what its true peak still passes the ceiling (written
    over ``audio`` when ``in_place``)."""
    factor = gain if audio.ndim == 1 else gain[:, None]
    limited = np.multiply(audio, factor, out=audio) if in_place else (audio * factor).astype(np.float32, copy=False)
    excess = true_peak_db(limited, sample_rate) - ceiling_db
    if excess > 0:
        limited *= np.float32(10.0 ** (-excess / 20.0))
    return limited


def set_level(audio: np.ndarray, sample_rate: int, *, reference: np.ndarray | None = None,
              target_lufs: float | None = None, ceiling_db: float = TRUE_PEAK_CEILING_DB, in_place: bool = False
              ) -> np.ndarray:
    """``audio`` ``(samples,)`` or ``(samples, channels)`` at the loudness of ``reference`` (or at ``target_lufs``,
    which wins), its true peak at most ``ceiling_db``. Where either has no integrated loudness (under 0.4 s, silent),
    only the ceiling applies. ``in_place``: a float32 ``audio`` is overwritten with the result (no second copy of a
    long signal)."""
    audio = np.asarray(audio, dtype=np.float32)
    target = target_lufs if target_lufs is not None else (
        integrated_loudness(reference, sample_rate) if reference is not None else None)
    energy = weighted_energy(audio, sample_rate) if target is not None else None
    powers = energy_block_powers(energy, sample_rate) if energy is not None else None
    start = gated_loudness(powers) if powers is not None else None
    if start is None:
        return limit(audio, sample_rate, ceiling_db, in_place=in_place)
    gain = _level_gain(audio, sample_rate, energy, target, ceiling_db)
    if np.isscalar(gain):  # under the ceiling as it is: the true peak is the envelope's, scaled
        return np.multiply(audio, np.float32(gain), out=audio if in_place else None)
    return _applied(audio, gain, sample_rate, ceiling_db, in_place=in_place)


def _level_gain(audio: np.ndarray, sample_rate: int, energy: np.ndarray, target: float, ceiling_db: float
                ) -> np.ndarray | float:
    """The gain ``(samples,)`` (or one number, where nothing is limited) that brings ``audio`` ``(samples,)`` or
    ``(samples, channels)``, of per-sample energy ``energy`` (:func:`weighted_energy`), to ``target`` LUFS once its
    peaks are limited to ``ceiling_db`` (the closest of the tries when none lands within
    :data:`LEVEL_TOLERANCE_LU`). The loudness under a limiter's gain is taken from ``energy`` (the gain changes over
    :data:`LIMITER_SPAN_S`, slowly against the K-weighting's response: the tests hold it within 0.05 LU of the
    measured loudness)."""
    powers = energy_block_powers(energy, sample_rate)
    start = gated_loudness(powers)
    envelope = peak_envelope(audio, sample_rate)  # once: a gain scales it, the limiter reads it
    peak = float(envelope.max())
    ceiling = 10.0 ** (ceiling_db / 20.0)

    def gain_at(gain_db: float) -> np.ndarray | float:
        """The limiter's gain ``(samples,)`` at ``gain_db``, or the plain gain where no sample passes the ceiling."""
        scale = 10.0 ** (gain_db / 20.0)
        return scale if scale * peak <= ceiling else _limiter_gain(envelope, sample_rate, ceiling_db, scale=scale)

    def level(gain_db: float) -> float:
        """How far the loudness at ``gain_db`` lands from the target (LU)."""
        gain = gain_at(gain_db)
        if np.isscalar(gain):  # a plain gain scales every block's power: the loudness follows without filtering
            return (gated_loudness(powers * gain ** 2) or -200.0) - target
        return (gated_loudness(energy_block_powers(energy, sample_rate, gain)) or -200.0) - target

    # the gain that lands on the target once the limiter has taken the peaks. The loudness reached rises with the
    # gain but not always steadily (a limiter working harder can take more than it gives), so the search brackets
    # the target between a gain that falls short and one that overshoots, then narrows the bracket (regula falsi,
    # Illinois variant), keeping the closest try; where even the loudest try falls short, the ceiling wins
    low = target - start
    miss = level(low)
    best = (abs(miss), low)  # the closest try (its gain is made again at the end: one long array held at a time)
    if abs(miss) >= LEVEL_TOLERANCE_LU:
        high, high_miss = low, miss
        slope = 1.0  # LU of loudness per dB of gain: 1 with nothing limited, less as the limiter takes more
        for _ in range(LEVEL_ROUNDS):  # find a gain past the target
            if high_miss > 0:
                break
            low, miss = high, high_miss
            high = high + min(MAX_LEVEL_STEP_DB, max(0.05, -1.5 * high_miss / slope))  # a little past it
            high_miss = level(high)
            best = min(best, (abs(high_miss), high))
            slope = min(1.0, max(0.05, (high_miss - miss) / (high - low)))
        side = 0
        for _ in range(LEVEL_ROUNDS if high_miss > 0 > miss else 0):
            if best[0] < LEVEL_TOLERANCE_LU:
                break
            middle = high - high_miss * (high - low) / (high_miss - miss)
            middle_miss = level(middle)
            best = min(best, (abs(middle_miss), middle))
            if middle_miss > 0:
                high, high_miss = middle, middle_miss
                miss = miss / 2 if side == 1 else miss
                side = 1
            else:
                low, miss = middle, middle_miss
                high_miss = high_miss / 2 if side == -1 else high_miss
                side = -1
    return gain_at(best[1])
