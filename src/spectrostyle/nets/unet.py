"""pix2pix's U-Net generator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.nets.base import SpectrogramModel
from spectrostyle.nets.layers import instance_norm, pad_to_multiple

DEFAULT_CHANNELS = (16, 32, 64, 64, 64)


@dataclass(frozen=True)
class UNetConfig:
    """Architecture of a :class:`UNet`: ``channels``, the widths of the halving levels (the first without norm)."""

    channels: tuple[int, ...] = DEFAULT_CHANNELS
    spectrogram: SpectrogramConfig = field(default_factory=SpectrogramConfig)

    def __post_init__(self) -> None:
        if len(self.channels) < 2 or any(c < 1 for c in self.channels):
            raise InputError(f"channels must be two or more positive widths, got {self.channels}")

    def to_dict(self) -> dict[str, Any]:
        return {"channels": list(self.channels), "spectrogram": self.spectrogram.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> UNetConfig:
        return cls(channels=tuple(values["channels"]), spectrogram=SpectrogramConfig.from_dict(values["spectrogram"]))


def _conv(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, padding_mode="reflect")


class UNet(SpectrogramModel):
    """pix2pix generator: ``(B, 1, F, T)`` in [0, 1] -> ``(B, 1, F, T)`` in [0, 1] (see the module docstring).

    Any F and T work (padded with silence to multiples of ``2 ** len(channels)`` inside, then cropped). An
    untrained network returns its input.
    """

    kind = "pix2pix_generator"

    def __init__(self, config: UNetConfig | None = None):
        super().__init__()
        self.config = config or UNetConfig()
        self.spectrogram = self.config.spectrogram
        c = self.config.channels
        down: list[nn.Module] = [nn.Sequential(_conv(1, c[0], 2), nn.LeakyReLU(0.2, inplace=True))]
        down += [nn.Sequential(_conv(a, b, 2), instance_norm(b), nn.LeakyReLU(0.2, inplace=True))
                 for a, b in zip(c, c[1:], strict=False)]
        self.down = nn.ModuleList(down)
        # level i (from the deepest) -> level i - 1; its input is the deepest features, then features + skip
        self.up = nn.ModuleList(
            nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                          _conv(c[i] if i == len(c) - 1 else 2 * c[i], c[i - 1]), instance_norm(c[i - 1]),
                          nn.ReLU(inplace=True))
            for i in range(len(c) - 1, 0, -1))
        self.head = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), _conv(2 * c[0], 1))
        nn.init.zeros_(self.head[1].weight)
        nn.init.zeros_(self.head[1].bias)

    @property
    def multiple(self) -> int:
        return 2 ** len(self.config.channels)

    def forward(self, images: Tensor, direction: str = "a2b") -> Tensor:
        self.check_input(images)
        if direction != "a2b":
            raise InputError(f"a pix2pix generator translates a2b only, not {direction}")
        freq, frames = images.shape[-2:]
        x = pad_to_multiple(images, self.multiple)
        skips = []
        features = x
        for layer in self.down:
            features = layer(features)
            skips.append(features)
        for layer, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            features = torch.cat([layer(features), skip], dim=1)
        return (x + self.head(features))[..., :freq, :frames].clamp(0.0, 1.0)

    def config_dict(self) -> dict[str, Any]:
        return self.config.to_dict()

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> UNet:
        return cls(UNetConfig.from_dict(values))
