"""Fast's transformation network (Johnson et al. 2016), sized for CPU."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.nets.base import SpectrogramModel
from spectrostyle.nets.layers import ResidualBlock, _conv, _conv_norm_relu, pad_to_multiple


@dataclass(frozen=True)
class TransformNetConfig:
    """Architecture of a :class:`TransformNet`.

    ``channels``: widths of the downsampling levels (each halves frequency and time; the first is a 5 x 5
    strided convolution from the image); ``residual_blocks``: 3 x 3 residual blocks at the deepest level. The
    way up mirrors the way down with nearest-neighbour upsampling + 3 x 3 convolution (no transposed
    convolutions, so no checkerboard artefacts), and a last upsampling + convolution to the one-channel residual.
    """

    channels: tuple[int, ...] = (16, 32, 64)
    residual_blocks: int = 4
    spectrogram: SpectrogramConfig = field(default_factory=SpectrogramConfig)

    def __post_init__(self) -> None:
        if not self.channels or any(c < 1 for c in self.channels):
            raise InputError(f"channels must be one or more positive widths, got {self.channels}")
        if self.residual_blocks < 0:
            raise InputError(f"residual_blocks must be >= 0, got {self.residual_blocks}")

    def to_dict(self) -> dict[str, Any]:
        return {"channels": list(self.channels), "residual_blocks": self.residual_blocks,
                "spectrogram": self.spectrogram.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TransformNetConfig:
        return cls(channels=tuple(values["channels"]), residual_blocks=int(values["residual_blocks"]),
                   spectrogram=SpectrogramConfig.from_dict(values["spectrogram"]))


class TransformNet(SpectrogramModel):
    """Image transformation network: ``(B, 1, F, T)`` in [0, 1] -> ``(B, 1, F, T)`` in [0, 1].

    Any F and T work (padded with silence to multiples of ``2 ** len(channels)`` inside, then cropped).
    The last convolution starts at zero, so an untrained network returns its input.
    """

    kind = "fast_transformer"

    def __init__(self, config: TransformNetConfig | None = None):
        super().__init__()
        self.config = config or TransformNetConfig()
        self.spectrogram = self.config.spectrogram
        channels = self.config.channels
        down: list[nn.Module] = [_conv_norm_relu(1, channels[0], kernel_size=5, stride=2)]
        down += [_conv_norm_relu(a, b, stride=2) for a, b in zip(channels, channels[1:], strict=False)]
        self.down = nn.Sequential(*down)
        self.residual = nn.Sequential(*[ResidualBlock(channels[-1]) for _ in range(self.config.residual_blocks)])
        up: list[nn.Module] = []
        for a, b in zip(channels[::-1], channels[::-1][1:], strict=False):
            up += [nn.Upsample(scale_factor=2, mode="nearest"), _conv_norm_relu(a, b)]
        self.up = nn.Sequential(*up)
        self.head = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), _conv(channels[0], 1))
        nn.init.zeros_(self.head[1].weight)
        nn.init.zeros_(self.head[1].bias)

    @property
    def multiple(self) -> int:
        """Image sides are padded to multiples of this."""
        return 2 ** len(self.config.channels)

    def forward(self, images: Tensor) -> Tensor:
        self.check_input(images)
        freq, frames = images.shape[-2:]
        x = pad_to_multiple(images, self.multiple)
        residual = self.head(self.up(self.residual(self.down(x))))
        return (x + residual)[..., :freq, :frames].clamp(0.0, 1.0)

    def config_dict(self) -> dict[str, Any]:
        return self.config.to_dict()

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> TransformNet:
        return cls(TransformNetConfig.from_dict(values))
