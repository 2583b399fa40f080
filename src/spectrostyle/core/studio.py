"""A method's result as studio material: the content's sample rate and channels, and the full band.

Every shipped model works on 16 kHz mono spectrograms (their band ends at 8 kHz). :func:`studio_audio` takes a
result to the output's rate and channels in one STFT at that rate:

- **Band extension** (spectral band replication, as HE-AAC's SBR): the band above the crossover (0.9 of the model's
  Nyquist frequency) is patched from the octave below it by frequency shifts of whole multiples of 4 STFT bins
  (with the hop a quarter of the frame, a shifted bin's phase advances as its new frequency needs: a clean
  single-sideband shift), then each sixth-octave band is set, frame by frame, to the share of the frame's
  low-band energy that the same band holds in the style (:func:`high_band_profile`). The temporal envelope thus
  follows the result, the spectral envelope the style; a style without a high band gives none.
- **Stereo image** (parametric stereo, as HE-AAC v2): per band and frame, each channel's level against the content's
  mid and the channels' correlation are measured on the content and given to the mono result, the part the
  channels do not share made by a decorrelated copy (a different short delay per band).

These are written here because no maintained library does either to a given signal; the STFTs are torch's.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import soxr
import torch

from spectrostyle.core.audio import fit_length
from spectrostyle.core.filters import held_peaks, moving_average

CROSSOVER_OF_NYQUIST = 0.9  # the band made here starts at this share of the model's Nyquist frequency
FRAME_SECONDS = 0.046  # STFT frame (a power of two near this: 2048 samples at 44.1 and 48 kHz), hop a quarter
BANDS_PER_OCTAVE = 3
HIGH_BANDS_PER_OCTAVE = 6  # band extension's bands: sixth octaves follow the envelope within a third-octave's span
LOWEST_BAND_HZ = 150.0  # stereo bands: one band below this, third octaves above
MAX_BAND_GAIN_DB = 24.0  # band extension never lifts a patched band by more than this (no hiss from near-silence)
MAX_MONO_LIFT = 8.0  # what the mono mix lost of channels that do not share a band is restored up to 18 dB
SMOOTHING_FRAMES = 5  # band energies are averaged over this many frames before levels and correlations are taken
DECORRELATION_DELAYS_S = (0.0007, 0.0049)  # the decorrelated copy's per-band delays are drawn from this range
DECORRELATION_SEED = 1770
ENVELOPE_SECONDS = 0.1  # follow_transients: a band's envelope is at least its mean over this long, centred (ahead of
TRANSIENT_RELEASE_S = 0.15  # a hit it rises with it) and its peaks held, falling back over this long (after a hit)
TRANSIENT_GAIN_DB = (-30.0, 12.0)  # follow_transients: the most a frame of a band is cut or lifted
SILENCE_DB = (-40.0, -60.0)  # silence_gain_db: below the first (dB under the content's body) the gate starts to
# close, below the second it is shut: the result is then no louder against its own body than the content is
MAX_SILENCE_CUT_DB = 100.0
EDGE_FADE_S = 0.002  # follow_edges: a result's first and last samples are eased to the content's over this long


def frame_size(sample_rate: int) -> int:
    """The STFT frame in samples at ``sample_rate``: the power of two nearest :data:`FRAME_SECONDS`."""
    return 2 ** max(5, round(math.log2(FRAME_SECONDS * sample_rate)))


def power_of(spectrum: torch.Tensor) -> torch.Tensor:
    """``|spectrum|^2`` of a complex tensor, real, same shape: without the square root that ``abs()`` takes first
    (several times slower on CPU)."""
    return spectrum.real.square() + spectrum.imag.square()


def studio_stft(audio: np.ndarray, n_fft: int) -> torch.Tensor:
    """``(channels, samples)`` -> ``(channels, n_fft // 2 + 1, frames)`` complex (centred Hann frames, hop n_fft/4)."""
    signal = torch.as_tensor(np.ascontiguousarray(audio, dtype=np.float32))
    return torch.stft(signal, n_fft, n_fft // 4, window=torch.hann_window(n_fft), center=True, pad_mode="constant",
                      return_complex=True)


def studio_istft(spectra: torch.Tensor, n_fft: int, num_samples: int) -> np.ndarray:
    """Inverse of :func:`studio_stft`: ``(channels, bins, frames)`` -> ``(channels, num_samples)`` float32."""
    audio = torch.istft(spectra, n_fft, n_fft // 4, window=torch.hann_window(n_fft), center=True,
                        length=num_samples)
    return audio.numpy().astype(np.float32)


def band_edges(low_hz: float, high_hz: float, first_edge_hz: float | None = None,
               per_octave: int = BANDS_PER_OCTAVE) -> np.ndarray:
    """Band edges in Hz from ``low_hz`` to ``high_hz``, ``per_octave`` bands an octave (``first_edge_hz``: an extra
    edge below)."""
    count = max(1, math.ceil(per_octave * math.log2(high_hz / low_hz)))
    edges = low_hz * 2.0 ** (np.arange(count + 1) / per_octave)
    edges[-1] = high_hz
    return np.concatenate([[first_edge_hz], edges]) if first_edge_hz is not None else edges


def image_band_edges(sample_rate: int) -> np.ndarray:
    """The bands in which :func:`follow_transients` and :func:`stereo_image` measure a sound at ``sample_rate``: one
    below :data:`LOWEST_BAND_HZ`, third octaves above it up to the Nyquist frequency (Hz)."""
    return band_edges(LOWEST_BAND_HZ, sample_rate / 2, first_edge_hz=0.0)


def image_bands(spectra: torch.Tensor, sample_rate: int) -> np.ndarray:
    """The energy of ``spectra`` ``(channels, bins, frames)`` (of :func:`studio_stft` at ``sample_rate``) in each of
    :func:`image_band_edges`' bands -> ``(channels, bands, frames)`` float64."""
    return band_energies(power_of(spectra), sample_rate / (2 * (spectra.shape[-2] - 1)), image_band_edges(sample_rate))


def band_energies(power: torch.Tensor, bin_hz: float, edges_hz: np.ndarray, *, signed: bool = False) -> np.ndarray:
    """``power`` ``(..., bins, frames)`` summed over each band -> ``(..., bands, frames)`` float64 (one matrix product
    with the bands' 0/1 membership; ``signed`` values, such as cross-spectra, may be negative)."""
    bins = np.clip(np.round(edges_hz / bin_hz).astype(int), 0, power.shape[-2])
    membership = _membership(tuple(int(b) for b in bins), power.shape[-2])
    sums = torch.matmul(membership, power.float()).double().numpy()
    return sums if signed else np.maximum(sums, 0.0)


@functools.lru_cache(maxsize=32)
def _membership(bins: tuple[int, ...], num_bins: int) -> torch.Tensor:
    """``(bands, num_bins)`` float32: 1 where a bin lies in a band (band ``i``: bins ``bins[i]`` to ``bins[i+1]``)."""
    matrix = torch.zeros(len(bins) - 1, num_bins)
    for band, (low, high) in enumerate(zip(bins[:-1], bins[1:], strict=True)):
        matrix[band, low:high] = 1.0
    return matrix


def _per_bin(values: np.ndarray, bin_hz: float, edges_hz: np.ndarray, num_bins: int) -> torch.Tensor:
    """Band values ``(..., bands, frames)`` spread to their bins -> ``(..., num_bins, frames)`` float32: each bin takes
    the value of the band :func:`band_energies` sums it in (bins outside every band take the nearest band's)."""
    return torch.as_tensor(np.asarray(values, dtype=np.float32)).index_select(-2, _band_of_bin(bin_hz, edges_hz,
                                                                                                num_bins))


def _band_of_bin(bin_hz: float, edges_hz: np.ndarray, num_bins: int) -> torch.Tensor:
    """``(num_bins,)`` int64: the band of each bin, as :func:`band_energies` rounds the edges to bins."""
    bins = np.clip(np.round(np.asarray(edges_hz) / bin_hz).astype(int), 0, num_bins)
    return torch.as_tensor(np.clip(np.searchsorted(bins, np.arange(num_bins), side="right") - 1, 0, len(bins) - 2))


def high_band_profile(audio: np.ndarray, sample_rate: int, model_rate: int) -> np.ndarray:
    """The high band of ``audio`` (``(samples,)`` or ``(samples, channels)`` at ``sample_rate``) as band extension
    uses it: the energy of each band above the crossover over the energy below it, summed over the sound ->
    ``(bands,)`` for the bands of :func:`high_band_edges` (0 where the sound has no band: above its Nyquist
    frequency)."""
    mono = np.asarray(audio, dtype=np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    return _profile_of(power_of(studio_stft(mono[None], frame_size(sample_rate))[0]), sample_rate, model_rate)


def _profile_of(power: torch.Tensor, sample_rate: int, model_rate: int) -> np.ndarray:
    """:func:`high_band_profile` of a sound of STFT power ``power`` ``(bins, frames)`` at ``sample_rate``."""
    edges = high_band_edges(model_rate)
    n_fft = 2 * (power.shape[0] - 1)
    bin_hz = sample_rate / n_fft
    low = float(band_energies(power, bin_hz, np.array([0.0, edges[0]])).sum())
    inside = _within(edges, sample_rate, n_fft)
    high = np.zeros(len(edges) - 1)
    high[: len(inside) - 1] = band_energies(power, bin_hz, inside).sum(axis=-1)
    return high / low if low > 0 else np.zeros(len(edges) - 1)


def _within(edges_hz: np.ndarray, sample_rate: int, n_fft: int) -> np.ndarray:
    """The band edges that fall below the Nyquist frequency of ``sample_rate``, the last band reaching past it so
    that it holds the Nyquist bin."""
    nyquist = sample_rate / 2
    kept = edges_hz[edges_hz < nyquist * 0.999]
    return kept if len(kept) == len(edges_hz) else np.append(kept, nyquist + sample_rate / n_fft / 2)


def high_band_edges(model_rate: int) -> np.ndarray:
    """The band-extension bands' edges in Hz: sixth octaves from the crossover up to 24 kHz."""
    return band_edges(CROSSOVER_OF_NYQUIST * model_rate / 2, 24_000.0, per_octave=HIGH_BANDS_PER_OCTAVE)


def extend_band(spectrum: torch.Tensor, sample_rate: int, model_rate: int, profile: np.ndarray) -> torch.Tensor:
    """``spectrum`` ``(bins, frames)`` (of :func:`studio_stft` at ``sample_rate``) with its band above the crossover
    made from the octave below it and shaped by ``profile`` (:func:`high_band_profile`)."""
    n_fft = 2 * (spectrum.shape[0] - 1)
    bin_hz = sample_rate / n_fft
    edges = high_band_edges(model_rate)
    first = int(round(edges[0] / bin_hz))
    width = 4 * max(1, round(first / 2 / 4))  # the source band: about an octave, a multiple of 4 bins
    if first >= spectrum.shape[0] or first - width < 1:
        return spectrum
    targets = torch.arange(first, spectrum.shape[0])
    sources = first - width + (targets - first) % width
    extended = spectrum.clone()
    extended[first:] = spectrum[sources]
    power = power_of(extended)
    low = band_energies(power[None], bin_hz, np.array([0.0, edges[0]]))[0, 0]  # (frames,)
    inside = _within(edges, sample_rate, n_fft)
    patched = band_energies(power[None], bin_hz, inside)[0]  # (bands, frames)
    wanted = np.asarray(profile, dtype=np.float64)[: len(inside) - 1, None] * low[None]
    # energies over three frames, so that the gains do not flutter from frame to frame (averaging the gains instead
    # would let a transient through where the wanted band is empty)
    wanted, patched = (np.maximum(moving_average(e, 3), 0.0) for e in (wanted, patched))
    tiny = 1e-12 * max(float(low.max()), 1e-30)
    gain_db = np.minimum(10.0 * (np.log10(wanted + tiny) - np.log10(patched + tiny)), MAX_BAND_GAIN_DB)
    gains = _per_bin(10.0 ** (gain_db / 20.0), bin_hz, inside, spectrum.shape[0]).to(spectrum.real.dtype)
    extended[first:] = extended[first:] * gains[first:]
    return extended


def follow_transients(spectrum: torch.Tensor, content_bands: np.ndarray, sample_rate: int, strength: float = 1.0
                      ) -> torch.Tensor:
    """``spectrum`` ``(bins, frames)`` with the fine time structure of a content of band energies ``content_bands``
    ``(channels, bands, frames)`` (:func:`image_bands`, on the same frames): in each third-octave band, the energy of
    every frame against the band's envelope is set to the content's, to the power ``strength`` (0: unchanged).
    Attacks rise, tails decay and gaps fall where the content's do, under the result's own envelope and spectrum; the
    gain is held within :data:`TRANSIENT_GAIN_DB`.

    The envelope is the larger of the band's centred mean over :data:`ENVELOPE_SECONDS` and its peaks held, falling
    back over :data:`TRANSIENT_RELEASE_S`. Against the mean alone, a content's tail comes back up to its envelope once
    the window has left the hit, and a result whose hits are smeared over their tails comes back up with it: a second
    onset about 0.1 s after each hit (Slow on drum loops). The held peaks keep the tail under the envelope until the
    next hit; the centred mean rises ahead of a hit and keeps the result's smear before it down."""
    if strength <= 0:
        return spectrum
    num_bins, frames = spectrum.shape
    n_fft = 2 * (num_bins - 1)
    bin_hz = sample_rate / n_fft
    edges = image_band_edges(sample_rate)
    hop_s = (n_fft // 4) / sample_rate
    width = max(3, round(ENVELOPE_SECONDS / hop_s) | 1)
    release = math.exp(-hop_s / TRANSIENT_RELEASE_S)  # the held peaks' fall per frame
    content_energy = content_bands.sum(axis=0)  # (bands, frames)
    result_energy = image_bands(spectrum[None], sample_rate)[0]  # (bands, frames), as the content's

    def fine(energy: np.ndarray) -> np.ndarray:
        floor = 1e-6 * energy.max(axis=-1, keepdims=True) + 1e-20  # below -60 dB of the band's peak: no structure
        envelope = np.maximum(moving_average(energy, width), held_peaks(energy, release))
        return (energy + floor) / (envelope + floor)

    gain_db = np.clip(10.0 * strength * np.log10(fine(content_energy) / fine(result_energy)), *TRANSIENT_GAIN_DB)
    gain_db = gain_db + strength * silence_gain_db(content_energy.sum(axis=0),
                                                   (result_energy * 10.0 ** (gain_db / 10.0)).sum(axis=0))
    gains = _per_bin(10.0 ** (gain_db / 20.0), bin_hz, edges, num_bins).to(spectrum.real.dtype)
    return spectrum * gains


def silence_gain_db(content_energy: np.ndarray, result_energy: np.ndarray) -> np.ndarray:
    """The gate that keeps the content's silences silent: frame energies ``(frames,)`` of the content and the result ->
    the result's gain per frame in dB (``(frames,)``, at most 0).

    Each sound's level is taken against its body (the energy-weighted mean frame energy, which silence does not
    lower). Where the content falls below :data:`SILENCE_DB` under its body (a pause, a tail, digital silence), the
    result is brought down to the content's level against its body, wherever it is louder than that: no hiss or
    drone fills a gap the content leaves. Above the first threshold nothing changes; between the two the cut is
    eased in."""
    content_energy, result_energy = (np.maximum(moving_average(e, 3), 0.0) for e in (content_energy, result_energy))
    content_db, result_db = level_against_body_db(content_energy), level_against_body_db(result_energy)
    closed = np.clip((SILENCE_DB[0] - content_db) / (SILENCE_DB[0] - SILENCE_DB[1]), 0.0, 1.0)
    return -closed * np.clip(result_db - content_db, 0.0, MAX_SILENCE_CUT_DB)


def level_against_body_db(energy: np.ndarray) -> np.ndarray:
    """Frame energies ``(frames,)`` -> each frame's level in dB against the sound's body, the energy-weighted mean
    frame energy (which silence does not lower); floored at -150 dB."""
    body = float((energy ** 2).sum() / max(float(energy.sum()), 1e-300))
    return 10.0 * np.log10(energy / max(body, 1e-300) + 1e-15)


def match_high_band(spectrum: torch.Tensor, sample_rate: int, model_rate: int, profile: np.ndarray) -> torch.Tensor:
    """``spectrum`` ``(bins, frames)`` with each band above the crossover scaled by one gain over the whole sound, so
    that its energy against the band below the crossover is the ``profile``'s again (after :func:`follow_transients`
    lifted its attacks frame by frame)."""
    n_fft = 2 * (spectrum.shape[0] - 1)
    bin_hz = sample_rate / n_fft
    edges = _within(high_band_edges(model_rate), sample_rate, n_fft)
    power = power_of(spectrum)
    low = float(band_energies(power[None], bin_hz, np.array([0.0, edges[0]]))[0, 0].sum())
    held = band_energies(power[None], bin_hz, edges)[0].sum(axis=-1)  # (bands,)
    wanted = np.asarray(profile, dtype=np.float64)[: len(edges) - 1] * low
    gains = np.sqrt((wanted + 1e-30) / (held + 1e-30))[:, None]
    first = int(round(edges[0] / bin_hz))
    scaled = spectrum.clone()
    scaled[first:] *= _per_bin(gains, bin_hz, edges, spectrum.shape[0])[first:].to(spectrum.real.dtype)
    return scaled


def _decorrelation_phase(num_bins: int, sample_rate: int, edges_hz: np.ndarray, seed: int) -> torch.Tensor:
    """The phase shift ``(num_bins,)`` float64 (radians) of each bin of a copy delayed by a different short time in
    each band: a copy that sounds the same but correlates little with the original."""
    rng = np.random.default_rng(seed)
    centres = np.sqrt(np.maximum(edges_hz[:-1], edges_hz[1] / 2) * edges_hz[1:])
    # a quarter period at the band's centre (the copy is then in quadrature there) plus whole periods to come near a
    # delay drawn for the band: neighbouring bands differ, so the copy's phase wanders across the spectrum
    periods = np.round(rng.uniform(*DECORRELATION_DELAYS_S, size=len(centres)) * centres)
    delays = (periods + 0.25) / centres
    bin_hz = sample_rate / (2 * (num_bins - 1))
    # each bin takes the delay of the band its centre lies in
    band = np.clip(np.searchsorted(edges_hz, np.arange(num_bins) * bin_hz, side="right") - 1, 0, len(delays) - 1)
    delay = torch.as_tensor(delays[band])
    return -2.0 * math.pi * torch.arange(num_bins, dtype=torch.float64) * bin_hz * delay


def _decorrelated(spectrum: torch.Tensor, sample_rate: int, edges_hz: np.ndarray, seed: int) -> torch.Tensor:
    """``spectrum`` ``(bins, frames)`` delayed by a different short time in each band (:func:`_decorrelation_phase`)."""
    phase = _decorrelation_phase(spectrum.shape[0], sample_rate, edges_hz, seed)
    return spectrum * torch.polar(torch.ones_like(phase), phase).to(spectrum.dtype)[:, None]


def _cross_power(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """``Re(first * conj(second))`` of two complex tensors of one shape, real: without the complex product (and
    without a sum over a last axis of two, several times slower on CPU)."""
    return first.real * second.real + first.imag * second.imag


def stereo_image(spectrum: torch.Tensor, content: torch.Tensor, sample_rate: int, content_bands: np.ndarray
                 ) -> torch.Tensor:
    """The mono ``spectrum`` ``(bins, frames)`` given the stereo image of ``content`` ``(channels, bins, frames)``, of
    band energies ``content_bands`` (:func:`image_bands`): per band and frame each channel's level against the
    content's mid, and (two channels) their correlation -> ``(channels, bins, frames)``."""
    channels, num_bins, frames = content.shape
    n_fft = 2 * (num_bins - 1)
    bin_hz = sample_rate / n_fft
    edges = image_band_edges(sample_rate)

    def banded(power: torch.Tensor) -> np.ndarray:  # band sums frame by frame, signed (cross-spectra may be < 0)
        return band_energies(power, bin_hz, edges, signed=True)

    def smoothed(energy: np.ndarray, signed: bool = False) -> np.ndarray:
        # a moving average over frames: energies can come out a rounding error below 0, so they are clamped
        averaged = moving_average(energy, SMOOTHING_FRAMES)
        return averaged if signed else np.maximum(averaged, 0.0)

    channel_bands = content_bands  # (channels, bands, frames)
    if channels == 2:  # the mid's energy from the channels' and their cross-spectrum: |(a + b) / 2|^2
        cross_bands = banded(_cross_power(content[0], content[1]))
        mid_energy = smoothed((channel_bands[0] + channel_bands[1] + 2.0 * cross_bands) / 4.0)
    else:
        mid = content.mean(dim=0)
        mid_energy = smoothed(banded(power_of(mid)))  # (bands, frames)
    channel_energy = smoothed(channel_bands)  # (channels, bands, frames)
    # where the content is (nearly) silent but the result is not, a band takes its image over the whole sound
    floor = 1e-4 * mid_energy.mean(axis=-1, keepdims=True) + 1e-20
    weight = mid_energy / (mid_energy + floor)

    def now_or_overall(now: np.ndarray, overall: np.ndarray) -> np.ndarray:
        return weight * now + (1 - weight) * overall

    total = channel_energy.sum(axis=0)  # each channel's share of the energy gives the level differences exactly
    share = now_or_overall(np.sqrt(channels * channel_energy / (total + 1e-30)),
                           np.sqrt(channels * channel_energy.sum(-1, keepdims=True)
                                   / (total.sum(-1, keepdims=True) + 1e-30)))
    # the mono mix loses what the channels do not share (down to nothing for opposite channels): the same lift
    # for every channel gives it back, up to a limit
    lift = now_or_overall(np.sqrt(total / (channels * mid_energy + 1e-30)),
                          np.sqrt(total.sum(-1, keepdims=True) / (channels * mid_energy.sum(-1, keepdims=True)
                                                                   + 1e-30)))
    levels = share * np.minimum(lift, MAX_MONO_LIFT)
    result_power = power_of(spectrum)
    result_bands = banded(result_power)  # (bands, frames)
    wanted = levels ** 2 * smoothed(result_bands)[None]  # (channels, bands, frames)
    if channels == 2:
        cross = smoothed(cross_bands, signed=True)
        both = np.sqrt(channel_energy[0] * channel_energy[1]) + 1e-30
        overall = cross.sum(-1, keepdims=True) / (np.sqrt((channel_energy[0].sum(-1, keepdims=True))
                                                          * channel_energy[1].sum(-1, keepdims=True)) + 1e-30)
        correlation = np.clip(now_or_overall(cross / both, overall), -1.0, 1.0)
        # the channels: shared * result +- apart * copy, the copy the result with each bin's phase turned by phi.
        # Within a band (where shared and apart are constant) a channel then holds shared^2 + apart^2 = 1 times
        # the result's energy, +- 2 shared apart times the band sum of Re(result * conj(copy)) = |result|^2 cos phi;
        # each band and frame is set to what it should hold, keeping the level differences exact
        shared, apart = np.sqrt((1 + correlation) / 2), np.sqrt((1 - correlation) / 2)
        phase = _decorrelation_phase(num_bins, sample_rate, edges, DECORRELATION_SEED)
        turned = banded(result_power * torch.cos(phase).to(result_power.dtype)[:, None])
        mixed_sign = np.array([1.0, -1.0])[:, None, None]
        held = smoothed(result_bands[None] + mixed_sign * 2.0 * shared * apart * turned[None])
        gains = np.sqrt(wanted / (held + 1e-30))  # (channels, bands, frames)
        on_result = _per_bin(gains * shared, bin_hz, edges, num_bins)  # (channels, bins, frames)
        on_copy = _per_bin(mixed_sign * gains * apart, bin_hz, edges, num_bins)
        cos, sin = (f(phase).to(on_copy.dtype)[:, None] for f in (torch.cos, torch.sin))
        return spectrum * torch.complex(on_result + on_copy * cos, on_copy * sin).to(spectrum.dtype)
    parts = []  # three or more channels: each shares with the mid as much as the content's does
    for index in range(channels):
        cross = smoothed(banded(_cross_power(content[index], mid)), signed=True)
        correlation = np.clip(cross / (np.sqrt(channel_energy[index] * mid_energy) + 1e-30), 0.0, 1.0)
        other = _decorrelated(spectrum, sample_rate, edges, DECORRELATION_SEED + index)
        parts.append(_per_bin(np.sqrt(correlation), bin_hz, edges, num_bins) * spectrum
                     + _per_bin(np.sqrt(1 - correlation), bin_hz, edges, num_bins) * other)
    mixed = torch.stack(parts)  # (channels, bins, frames)
    # the copy is not orthogonal to the result bin by bin, so a channel's energy strays from the wanted share: each
    # band and frame is set to what it should hold, keeping the level differences exact
    held = smoothed(banded(power_of(mixed)))
    gains = _per_bin(np.sqrt(wanted / (held + 1e-30)), bin_hz, edges, num_bins)
    return (gains * mixed).to(spectrum.dtype)


def studio_audio(result: np.ndarray, model_rate: int, *, sample_rate: int, channels: int,
                 content: np.ndarray | None = None, content_rate: int | None = None,
                 profile: np.ndarray | None = None, content_share: float = 0.0, num_samples: int | None = None,
                 max_processing_rate: int = 48_000, transients: float = 0.0) -> np.ndarray:
    """``result`` ``(samples,)`` mono at ``model_rate`` -> ``(num_samples, channels)`` float32 at ``sample_rate``.

    Above the model's band, the band of ``profile`` (:func:`high_band_profile` of the style) mixed with the content's
    own at ``content_share`` (0..1): none where neither is given; the stereo image of ``content`` ``(samples, content
    channels)`` at ``content_rate`` when both it and the output have two channels or more (a mono content is copied to
    every channel, a mono output is the mid). Made at ``sample_rate`` up to ``max_processing_rate``, above it
    resampled to ``sample_rate``. ``num_samples`` defaults to the result's length at ``sample_rate``. ``transients``
    (0..1): how closely the result's attacks and gaps follow the content's (:func:`follow_transients`).
    """
    result = np.asarray(result, dtype=np.float32)
    working_rate = min(sample_rate, max_processing_rate)
    if num_samples is None:
        num_samples = round(len(result) * sample_rate / model_rate)
    working_samples = round(num_samples * working_rate / sample_rate)
    mono = soxr.resample(result, model_rate, working_rate, quality="HQ") if working_rate != model_rate else result
    mono = fit_length(np.asarray(mono, dtype=np.float32), working_samples)
    n_fft = frame_size(working_rate)
    content_channels = 1 if content is None else np.atleast_2d(content.T).shape[0]
    extended = (profile is not None or content_share > 0) and working_rate / 2 > model_rate / 2 * 1.01
    layout = None  # the content's STFT at the working rate, where something reads it
    if content is not None and (transients > 0 or channels > 1 and content_channels > 1 or extended and
                                content_share > 0):
        layout = np.asarray(content, dtype=np.float32).reshape(len(content), -1)
        if content_rate != working_rate:
            layout = soxr.resample(layout, content_rate, working_rate, quality="HQ")
        layout = studio_stft(fit_length(layout, working_samples).T, n_fft)  # (content channels, bins, frames)
    if extended:
        own = np.zeros(len(high_band_edges(model_rate)) - 1) if layout is None or content_share <= 0 else \
            _profile_of(power_of(layout.mean(dim=0)), working_rate, model_rate)
        profile = content_share * own + (1.0 - content_share) * (0.0 if profile is None else np.asarray(profile))
    spectrum = studio_stft(mono[None], n_fft)[0]
    if extended:
        spectrum = extend_band(spectrum, working_rate, model_rate, profile)
    bands = None if layout is None else image_bands(layout, working_rate)  # (content channels, bands, frames)
    if bands is not None and transients > 0:
        spectrum = follow_transients(spectrum, bands, working_rate, transients)
        if extended:
            spectrum = match_high_band(spectrum, working_rate, model_rate, profile)
    if channels > 1 and layout is not None and content_channels > 1:
        image = stereo_image(spectrum, layout, working_rate, bands)
        if content_channels != channels:  # e.g. 5.1 content asked for as stereo: fold to the channels wanted
            image = torch.stack([image[i::channels].mean(dim=0) for i in range(channels)])
        spectra = image
    else:
        spectra = spectrum[None].expand(channels, -1, -1)
    audio = studio_istft(spectra, n_fft, working_samples).T  # (samples, channels)
    if working_rate != sample_rate:
        audio = fit_length(soxr.resample(audio, working_rate, sample_rate, quality="HQ"), num_samples)
    return np.ascontiguousarray(audio, dtype=np.float32)


def follow_edges(audio: np.ndarray, content: np.ndarray, sample_rate: int) -> np.ndarray:
    """``audio`` ``(samples,)`` or ``(samples, channels)`` float32 (changed in place) with its first and last samples
    no further from silence, against its peak, than ``content``'s (``(samples,)`` or ``(samples, channels)``, any
    rate) are against its own: where the result would start or end with a step the content does not have (a click as
    a player starts it: phase reconstruction leaves a frame's full level at a file's edge), it is eased in or out
    over :data:`EDGE_FADE_S` from the content's level. A content cut mid-sound (a loop starting on its hit) keeps its
    hard edge."""
    size = max(1, round(EDGE_FADE_S * sample_rate))
    content = np.asarray(content, dtype=np.float32).reshape(len(content), -1)
    channels = audio.reshape(len(audio), -1)  # a view: the ramps go into audio
    audio_peak, content_peak = float(np.abs(audio).max(initial=0.0)), float(np.abs(content).max(initial=0.0))
    if len(audio) < 4 * size or audio_peak == 0.0 or content_peak == 0.0:
        return audio
    rise = (0.5 - 0.5 * np.cos(np.pi * np.arange(size) / size)).astype(np.float32)  # 0 to nearly 1
    for edge, first in ((slice(0, size), 0), (slice(len(audio) - size, len(audio)), -1)):
        wanted = float(np.abs(content[first]).max()) / content_peak
        held = float(np.abs(audio[first]).max()) / audio_peak
        start = min(1.0, wanted / held) if held > 0 else 1.0
        if start < 1.0:
            ramp = start + (1.0 - start) * (rise if first == 0 else rise[::-1])
            channels[edge] *= ramp[:, None]
    return audio
