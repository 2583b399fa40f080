"""The interface every transfer method implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from spectrostyle.core.spectrogram import (
    DEFAULT_ITERATIONS,
    Spectrogram,
    SpectrogramConfig,
)

PHASE_INITS = ("content", "random")


class TransferMethod:
    """Base class of transfer methods (see module docstring)."""

    name: ClassVar[str] = ""
    needs_style: ClassVar[bool] = True
    # Phase reconstruction of the result: Griffin-Lim from random phase ("random"), or warm-started from the
    # content's own STFT phase ("content"; for methods whose output keeps the content's time structure, where
    # a few iterations then reach what 64 from random phase do), and its default number of iterations.
    phase_init: ClassVar[str] = "random"
    phase_iterations: ClassVar[int] = DEFAULT_ITERATIONS

    @dataclass
    class Options:
        seed: int = 0
        device: str = "cpu"

    def __init__(self, options: Any = None):
        self.options = options if options is not None else self.Options()

    def stylise(self, content: Spectrogram, styles: Sequence[Spectrogram], *, progress: bool = False
                ) -> tuple[Tensor, dict[str, list[float]]]:
        """The result image ``(F, T)`` in [0, 1] (T of the content) and loss curves by name."""
        raise NotImplementedError

    def prepare_styles(self, styles: Sequence[Tensor]) -> Any:
        """What :meth:`stylise_batch` needs of the style images ``(1, 1, F, T')``, worked out once for many calls
        (AdaIN: their feature statistics) and passed to it as its ``styles``. Default: the images themselves."""
        return styles

    def stylise_batch(self, images: Tensor, styles: Any = ()) -> Tensor:
        """Result images ``(B, 1, F, T)`` in [0, 1] for content images ``(B, 1, F, T)``, every one with the same
        styles: style images (each ``(1, 1, F, T')``) or what :meth:`prepare_styles` made of them. This default
        runs :meth:`stylise` on each image; feed-forward methods override it with one batched pass."""
        config = self.spectrogram_config
        style_specs = [Spectrogram(s[0, 0].cpu(), 0.0, config.padded_samples(s.shape[-1]), config) for s in styles]
        results = [self.stylise(Spectrogram(image[0].cpu(), 0.0, config.padded_samples(image.shape[-1]), config),
                                style_specs)[0] for image in images]
        return torch.stack(results).unsqueeze(1)

    @property
    def spectrogram_config(self) -> SpectrogramConfig:
        """The spectrogram config this method's models were made for."""
        return SpectrogramConfig()


def to_batch(spec: Spectrogram, device: torch.device) -> Tensor:
    """A spectrogram's image as a ``(1, 1, F, T)`` float32 batch on ``device``."""
    return spec.image.to(device, torch.float32)[None, None]
