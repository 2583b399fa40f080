"""Phase reconstruction: fast Griffin-Lim with momentum (Perraudin, Balazs & Sondergaard 2013), in torch.

Written by hand rather than taken from librosa: librosa's ``griffinlim`` is numpy-only (no batches on a
GPU, no torch tensors from the networks) and costs about 4x more per iteration here than torch's STFT.
"""

from __future__ import annotations

import torch
from torch import Tensor

from spectrostyle.spectrogram import SpectrogramConfig, add_nyquist, full_scale_magnitude, magnitude, stft

DEFAULT_ITERATIONS = 64
DEFAULT_MOMENTUM = 0.99


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
        window = config.window_tensor(device=target.device)
        length = config.padded_samples(n_frames)
        previous = torch.zeros_like(spec)
        for _ in range(n_iter):
            audio = torch.istft(spec, config.n_fft, config.hop_length, window=window, length=length)
            projected = torch.stft(audio, config.n_fft, config.hop_length, window=window,
                                   pad_mode="constant", return_complex=True)
            accelerated = projected + momentum * (projected - previous)
            previous = projected
            spec = target * accelerated / accelerated.abs().clamp_min(1e-12)
        audio = torch.istft(spec, config.n_fft, config.hop_length, window=window, length=length)
        if num_samples is not None:
            audio = audio[..., :num_samples]
        return audio.reshape(*batch_shape, audio.shape[-1])


def stft_phase(audio: Tensor, config: SpectrogramConfig, num_frames: int | None = None) -> Tensor:
    """Phase angles (radians) of ``audio``'s STFT, ``(..., samples)`` -> ``(..., freq, frames)`` (Nyquist dropped),
    aligned with :func:`spectrostyle.spectrogram.magnitude`."""
    return torch.angle(stft(audio, config, num_frames)[..., : config.n_freq, :])


def spectral_convergence_db(target_mag: Tensor, audio: Tensor, config: SpectrogramConfig) -> Tensor:
    """Spectral convergence of ``audio`` against ``target_mag``: 20 log10(||S - |STFT(x)||| / ||S||), dB.

    ``target_mag``: ``(..., freq, frames)``; ``audio``: ``(..., samples)``. Returns ``(...)``; lower is better.
    """
    rebuilt = magnitude(audio, config, num_frames=target_mag.shape[-1])
    error = torch.linalg.vector_norm(target_mag - rebuilt, dim=(-2, -1))
    reference = torch.linalg.vector_norm(target_mag, dim=(-2, -1)).clamp_min(1e-12)
    return 20.0 * torch.log10(error.clamp_min(1e-12) / reference)
