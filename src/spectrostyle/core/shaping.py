"""A method's result image shaped by its sources, before phase reconstruction: the content's pitch put back under the
result's spectral envelope (:func:`with_content_pitch`), and the result's long-term spectrum moved toward the styles'
(:func:`with_style_balance`). Both work on the log-magnitude images in [0, 1] that every method makes."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from spectrostyle.core.errors import InputError
from spectrostyle.core.filters import moving_average

PITCH_ENVELOPE_BINS = 9  # with_content_pitch: a frame's spectral envelope, a moving average over this many bins
PITCH_BAND_HZ = (3000.0, 4500.0)  # with_content_pitch: the content's fine structure in full below the first, faded
# out up to the second; above it the result keeps its own detail (the pitch is heard in the lower partials). A
# method may take a narrower band (TransferMethod.pitch_band_hz)


def with_content_pitch(image: Tensor, content: Tensor, strength: float = 1.0, *, bin_hz: float | None = None,
                       band_hz: tuple[float, float] = PITCH_BAND_HZ, envelope_bins: int = PITCH_ENVELOPE_BINS
                       ) -> Tensor:
    """``image`` ``(F, T)`` with the harmonic fine structure of ``content`` (same shape; both in [0, 1], log
    magnitude): in every frame the image's spectral envelope (its moving average over ``envelope_bins`` frequency
    bins) plus the content's detail around its own envelope, blended in by ``strength`` (0: ``image`` unchanged).
    With ``bin_hz`` (the rows' spacing in Hz) only in ``band_hz`` (in full below its first frequency, faded out up to
    its second); without it, over every row.

    A method's result keeps its timbre, the envelope, while its partials sit where the content's do: the content's
    pitch, which networks blur on low notes (at 16 kHz a bin is 15.6 Hz, a 98 Hz note's partials six bins apart).
    The band above is left alone: the content's detail there adds no pitch, and the band extension above the
    model's band copies its octave below, where the content's detail under another envelope came out as bursts.
    Written here because it is a per-frame source-filter split of our own images, which no library does on them."""
    if strength <= 0:
        return image
    if image.shape != content.shape:
        raise InputError(f"the content's image {tuple(content.shape)} does not match the result's {tuple(image.shape)}")
    result, source = (np.asarray(x.detach().cpu(), dtype=np.float64) for x in (image, content))
    kept = moving_average(result, envelope_bins, axis=0) + source - moving_average(source, envelope_bins, axis=0)
    weight = float(strength)
    if bin_hz is not None:
        low, high = band_hz
        weight = strength * np.clip((high - np.arange(image.shape[0]) * bin_hz) / (high - low), 0.0, 1.0)[:, None]
    blended = np.clip(result + weight * (kept - result), 0.0, 1.0)
    return torch.as_tensor(blended, dtype=image.dtype, device=image.device)


BALANCE_LIMIT_DB = 6.0  # with_style_balance: the most a frequency is lifted or cut toward the style's balance
BALANCE_SMOOTH_HZ = 640.0  # with_style_balance: the balance is compared over this wide a band, wider than the partials'
# spacing of most notes, so that a style note's harmonic comb is averaged out (its envelope is what is matched)


def spectral_balance(image: Tensor, db_range: float) -> np.ndarray:
    """The long-term spectrum of an image ``(F, T)`` in [0, 1] (log magnitude over ``db_range`` dB): each row's mean,
    every frame weighted by its loudness (silence says nothing of a timbre) -> ``(F,)`` in pixel units."""
    pixels = np.asarray(image.detach().cpu(), dtype=np.float64)
    loudness = (10.0 ** (pixels * db_range / 20.0)).sum(axis=0)
    # a product and a sum rather than ``@``: numpy's BLAS would wake threads that then spin against torch's
    return (pixels * (loudness / max(float(loudness.sum()), 1e-300))).sum(axis=1)


def with_style_balance(image: Tensor, balance: np.ndarray | None, strength: float, db_range: float, *,
                       bin_hz: float, limit_db: float = BALANCE_LIMIT_DB) -> Tensor:
    """``image`` ``(F, T)`` (rows ``bin_hz`` apart) with its spectral balance moved toward ``balance`` (``(F,)``, a
    style's :func:`spectral_balance`) by ``strength`` (0..1): one gain per frequency over the whole sound (a matching
    equaliser), the difference smoothed over :data:`BALANCE_SMOOTH_HZ` (twice), level-neutral where the image is
    loud, and held within +-``limit_db`` dB, so that the result takes the style's tonal balance without its drums
    losing their hits or a quiet band turning into hiss. None or 0: ``image`` unchanged.

    The style methods move the fine texture; the average spectrum, which ears (and MFCCs) hear first as timbre, they
    move only part of the way. Written here because it is an equaliser on our own images."""
    if balance is None or strength <= 0:
        return image
    own = spectral_balance(image, db_range)
    width = max(1, round(BALANCE_SMOOTH_HZ / bin_hz)) | 1
    difference = moving_average(moving_average(np.asarray(balance, dtype=np.float64) - own, width), width)  # twice:
    # a triangular window, whose side lobes let far less of a comb through than one average's
    weights = 10.0 ** (own * db_range / 20.0)
    difference -= float(difference @ weights) / max(float(weights.sum()), 1e-300)
    limit = limit_db / db_range
    gains = strength * np.clip(difference, -limit, limit)
    pixels = np.asarray(image.detach().cpu(), dtype=np.float64)
    shifted = np.where(pixels > 0, np.clip(pixels + gains[:, None], 0.0, 1.0), 0.0)  # silence stays silent
    return torch.as_tensor(shifted, dtype=image.dtype, device=image.device)
