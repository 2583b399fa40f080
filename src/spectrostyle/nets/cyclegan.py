"""CycleGAN's pair of generators (A to B and B to A)."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from spectrostyle.core.errors import InputError
from spectrostyle.core.vocabulary import DIRECTIONS
from spectrostyle.nets.base import SpectrogramModel
from spectrostyle.nets.transform_net import TransformNet, TransformNetConfig

DEFAULT_CHANNELS = (16, 32, 64)


DEFAULT_RESIDUAL_BLOCKS = 6


class CycleGANGenerators(SpectrogramModel):
    """Both generators of a CycleGAN: ``forward(images, direction)``, ``(B, 1, F, T)`` in [0, 1] -> the same shape
    in [0, 1], by ``g_ab`` (``direction="a2b"``) or ``g_ba`` (``"b2a"``); any F of the config and any T."""

    kind = "cyclegan_generator"

    def __init__(self, config: TransformNetConfig | None = None):
        super().__init__()
        self.config = config or TransformNetConfig(channels=DEFAULT_CHANNELS, residual_blocks=DEFAULT_RESIDUAL_BLOCKS)
        self.spectrogram = self.config.spectrogram
        self.g_ab = TransformNet(self.config)
        self.g_ba = TransformNet(self.config)

    def generator(self, direction: str) -> TransformNet:
        if direction not in DIRECTIONS:
            raise InputError(f"direction must be one of {', '.join(DIRECTIONS)}, got '{direction}'")
        return self.g_ab if direction == "a2b" else self.g_ba

    def forward(self, images: Tensor, direction: str = "a2b") -> Tensor:
        self.check_input(images)
        return self.generator(direction)(images)

    def config_dict(self) -> dict[str, Any]:
        return self.config.to_dict()

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> CycleGANGenerators:
        return cls(TransformNetConfig.from_dict(values))
