"""Phase reconstruction: fast Griffin-Lim with momentum (Perraudin, Balazs & Sondergaard 2013), in torch.

Written by hand rather than taken from librosa: librosa's ``griffinlim`` is numpy-only (no batches on a
GPU, no torch tensors from the networks) and costs about 4x more per iteration here than torch's STFT. The inverse
STFT inside the loop is an overlap-add with the window envelope computed once (:class:`OverlapAdd`), not
``torch.istft``, which recomputes the envelope on every call: 2.5x faster for a 4 s note on 2 cores (measured
170 -> 67 ms for 64 iterations), with the same result to float rounding.
"""

from __future__ import annotations

import torch
from torch import Tensor

from spectrostyle.spectrogram import (
    SpectrogramConfig,
    add_nyquist,
    full_scale_magnitude,
    image_to_magnitude,
    istft,
    magnitude,
    magnitude_to_image,
    stft,
)

DEFAULT_ITERATIONS = 64
DEFAULT_MOMENTUM = 0.99


class OverlapAdd:
    """Inverse centred STFT for a fixed config and frame count, with the squared-window envelope computed once.

    Equals ``torch.istft(spec, n_fft, hop, window, center=True, length=config.padded_samples(frames))`` to float
    rounding. ``usable`` is False when the overlap-add cannot stand in for ``torch.istft`` (``n_fft`` not a
    multiple of the hop, or an envelope too small to divide by); calls then go to ``torch.istft``.
    """

    def __init__(self, config: SpectrogramConfig, num_frames: int, device: torch.device | str | None = None):
        self.n_fft, self.hop, self.frames = config.n_fft, config.hop_length, num_frames
        self.window = config.window_tensor(device=device)
        self.overlap = self.n_fft // self.hop
        self.start, self.length = self.n_fft // 2, config.padded_samples(num_frames)
        self.usable = self.n_fft % self.hop == 0
        if self.usable:
            envelope = self._overlap_add((self.window ** 2).expand(1, num_frames, self.n_fft))[0]
            envelope = envelope[self.start: self.start + self.length]
            self.usable = bool(envelope.min() > 1e-11)
            self.inverse_envelope = 1.0 / envelope

    def _overlap_add(self, frames: Tensor) -> Tensor:
        """``(B, frames, n_fft)`` -> ``(B, n_fft + hop * (frames - 1))``: each frame added in at ``k * hop``."""
        batch = frames.shape[0]
        pieces = frames.reshape(batch, self.frames, self.overlap, self.hop)
        out = frames.new_zeros(batch, self.frames + self.overlap - 1, self.hop)
        for k in range(self.overlap):
            out[:, k: k + self.frames] += pieces[:, :, k]
        return out.reshape(batch, -1)

    def __call__(self, spec: Tensor) -> Tensor:
        """``(B, n_fft // 2 + 1, frames)`` complex -> ``(B, padded_samples(frames))`` audio."""
        if not self.usable:
            return torch.istft(spec, self.n_fft, self.hop, window=self.window, length=self.length)
        frames = torch.fft.irfft(spec.transpose(-1, -2), n=self.n_fft, dim=-1) * self.window
        audio = self._overlap_add(frames)[:, self.start: self.start + self.length]
        return audio * self.inverse_envelope


def griffin_lim(
    mag: Tensor,
    config: SpectrogramConfig,
    *,
    n_iter: int = DEFAULT_ITERATIONS,
    momentum: float = DEFAULT_MOMENTUM,
    init: str | Tensor = "random",
    seed: int = 0,
    num_samples: int | None = None,
) -> Tensor:
    """Audio whose STFT magnitude approximates ``mag``.

    ``mag``: ``(..., freq, frames)`` (Nyquist dropped, as made by :func:`spectrostyle.spectrogram.magnitude`).
    Returns ``(..., samples)`` with ``samples = num_samples`` or the padded length. ``momentum`` 0 is the
    classic algorithm; ~0.99 converges several times faster. ``init`` is ``"random"`` (seeded uniform phase)
    or ``"zeros"``, or a tensor of phase angles in radians shaped like ``mag`` (e.g. the content's phase, from
    :func:`stft_phase`: a warm start that needs far fewer iterations). Runs without autograd; batched over
    leading dimensions.
    """
    if n_iter < 0:
        raise ValueError(f"n_iter must be >= 0, got {n_iter}")
    with torch.no_grad():
        # Work on unscaled STFT values with raw torch.stft/istft: per-iteration overhead matters here.
        target = add_nyquist(mag.to(torch.float32)) * full_scale_magnitude(config)
        if isinstance(init, Tensor):
            if init.shape != mag.shape:
                raise ValueError(f"init phase has shape {tuple(init.shape)}, the magnitude {tuple(mag.shape)}")
            angles = add_nyquist(init.to(target.device, torch.float32))
        elif init == "random":
            generator = torch.Generator(device="cpu").manual_seed(seed)
            angles = (torch.rand(target.shape, generator=generator) * (2 * torch.pi)).to(target.device)
        elif init == "zeros":
            angles = torch.zeros_like(target)
        else:
            raise ValueError(f"init must be 'random' or 'zeros', got '{init}'")
        batch_shape, (n_bins, n_frames) = target.shape[:-2], target.shape[-2:]
        target = target.reshape(-1, n_bins, n_frames)
        spec = torch.polar(target, angles.reshape(target.shape))
        inverse = OverlapAdd(config, n_frames, device=target.device)
        previous = torch.zeros_like(spec)
        # projected + momentum * (projected - previous), divided by (1 + momentum): only its phase is kept
        keep_previous = -momentum / (1.0 + momentum)
        for _ in range(n_iter):
            projected = torch.stft(inverse(spec), config.n_fft, config.hop_length, window=inverse.window,
                                   pad_mode="constant", return_complex=True)
            spec = torch.add(projected, previous, alpha=keep_previous).sgn_().mul_(target)
            previous = projected
        audio = inverse(spec)
        if num_samples is not None:
            audio = audio[..., :num_samples]
        return audio.reshape(*batch_shape, audio.shape[-1])


def stft_phase(audio: Tensor, config: SpectrogramConfig, num_frames: int | None = None) -> Tensor:
    """Phase angles (radians) of ``audio``'s STFT, ``(..., samples)`` -> ``(..., freq, frames)`` (Nyquist dropped),
    aligned with :func:`spectrostyle.spectrogram.magnitude`."""
    return torch.angle(stft(audio, config, num_frames)[..., : config.n_freq, :])


def heard_image(images: Tensor, phases: Tensor, config: SpectrogramConfig) -> Tensor:
    """The image of the sound that spectrogram ``images`` ``(B, 1, F, T)`` make with the phase angles ``phases``
    ``(B, F, T)`` (radians, e.g. the content's, from :func:`stft_phase`): their magnitudes with that phase, inverse
    STFT, analysed again; ``(B, 1, F, T)`` in [0, 1], each at its own peak. Differentiable: a training loss on it
    scores what is heard after phase reconstruction warm-started from that phase (an image that no sound has,
    such as a fit to the loss network's pixel grid, loses what the sound cannot keep)."""
    mag = image_to_magnitude(images[:, 0], config, 0.0)
    audio = istft(add_nyquist(torch.polar(mag, phases)), config)
    return magnitude_to_image(stft(audio, config, images.shape[-1]).abs()[:, : config.n_freq], config)[0][:, None]


def spectral_convergence_db(target_mag: Tensor, audio: Tensor, config: SpectrogramConfig) -> Tensor:
    """Spectral convergence of ``audio`` against ``target_mag``: 20 log10(||S - |STFT(x)||| / ||S||), dB.

    ``target_mag``: ``(..., freq, frames)``; ``audio``: ``(..., samples)``. Returns ``(...)``; lower is better.
    """
    rebuilt = magnitude(audio, config, num_frames=target_mag.shape[-1])
    error = torch.linalg.vector_norm(target_mag - rebuilt, dim=(-2, -1))
    reference = torch.linalg.vector_norm(target_mag, dim=(-2, -1)).clamp_min(1e-12)
    return 20.0 * torch.log10(error.clamp_min(1e-12) / reference)
