"""The base of every network over spectrogram images: it knows its spectrogram config."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from spectrostyle.core.errors import ConfigMismatchError, InputError
from spectrostyle.core.spectrogram import SpectrogramConfig


class SpectrogramModel(nn.Module):
    """Base for models over spectrogram images: knows its spectrogram config and checks its inputs."""

    kind: str = ""
    spectrogram: SpectrogramConfig

    def check_input(self, images: Tensor) -> None:
        """Raise a clear error unless ``images`` is ``(batch, 1, n_freq, frames)`` for this model's config."""
        expected = self.spectrogram.n_freq
        if images.ndim != 4 or images.shape[1] != 1:
            raise InputError(f"{self.kind} expects images of shape (batch, 1, {expected}, frames), "
                             f"got {tuple(images.shape)}")
        if images.shape[2] != expected:
            raise ConfigMismatchError(
                f"{self.kind} was built for spectrograms with {expected} frequency rows (n_fft "
                f"{self.spectrogram.n_fft}); the input has {images.shape[2]}")

    def config_dict(self) -> dict[str, Any]:
        raise NotImplementedError
