"""Adaptive instance normalisation and the decoder that turns audio-CNN features into images."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.nets.audio_cnn import AudioCNN
from spectrostyle.nets.base import SpectrogramModel

STATS_EPS = 1e-5


def channel_stats(features: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel mean and standard deviation over positions: ``(B, C, H, W)`` -> two ``(B, C, 1, 1)``."""
    flat = features.flatten(2)
    mean = flat.mean(2)
    std = (flat.var(2, unbiased=False) + STATS_EPS).sqrt()
    return mean[..., None, None], std[..., None, None]


def adain(content: Tensor, style_mean: Tensor, style_std: Tensor) -> Tensor:
    """Adaptive instance normalisation: ``content`` ``(B, C, H, W)`` normalised per channel, then scaled by
    ``style_std`` and shifted by ``style_mean`` (each ``(B or 1, C, 1, 1)``)."""
    mean, std = channel_stats(content)
    return (content - mean) / std * style_std + style_mean


def encoder_blocks(encoder: AudioCNN) -> tuple[tuple[int, ...], ...]:
    """Channels of the encoder's convolutions up to ``relu4_1``, by block: ``((8, 8), (16, 16), (32,) * 4, (64,))``
    for the width-1/8 audio CNN."""
    blocks = encoder.config.channels()
    return tuple(tuple(block) for block in blocks[:3]) + ((blocks[3][0],),)


@dataclass(frozen=True)
class AdainDecoderConfig:
    """Architecture of an :class:`AdainDecoder` (the mirror of ``encoder_blocks``), and the encoder it fits:
    ``encoder_name`` (shipped name or path at training time) and ``encoder_sha256`` (of its weights file)."""

    encoder_blocks: tuple[tuple[int, ...], ...] = ((8, 8), (16, 16), (32, 32, 32, 32), (64,))
    encoder_name: str = "default"
    encoder_sha256: str = ""
    spectrogram: SpectrogramConfig = field(default_factory=SpectrogramConfig)

    def to_dict(self) -> dict[str, Any]:
        return {"encoder_blocks": [list(b) for b in self.encoder_blocks], "encoder_name": self.encoder_name,
                "encoder_sha256": self.encoder_sha256, "spectrogram": self.spectrogram.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AdainDecoderConfig:
        return cls(encoder_blocks=tuple(tuple(int(c) for c in b) for b in values["encoder_blocks"]),
                   encoder_name=str(values["encoder_name"]), encoder_sha256=str(values["encoder_sha256"]),
                   spectrogram=SpectrogramConfig.from_dict(values["spectrogram"]))


class AdainDecoder(SpectrogramModel):
    """Decoder: ``relu4_1`` features ``(B, C, F / 8, T / 8)`` -> images ``(B, 1, F, T)`` clamped into [0, 1].

    Mirrors the encoder: each of its 3 x 3 convolutions reversed (ReLU after all but the last), nearest-neighbour
    upsampling where the encoder pooled, reflection padding, no normalisation. The last convolution is linear, as
    in the paper: training reads the unclamped output (``clamp=False``), since a squashing output (sigmoid, or
    a clamp during training) lets the mostly-silent spectrogram images drive it into saturation, where the
    gradients vanish and the decoder learns nothing.
    """

    kind = "adain_decoder"

    def __init__(self, config: AdainDecoderConfig | None = None):
        super().__init__()
        self.config = config or AdainDecoderConfig()
        self.spectrogram = self.config.spectrogram
        blocks = self.config.encoder_blocks
        pairs, in_channels = [], 1
        for block in blocks:  # the encoder's (in, out) channels, block by block
            pairs.append([])
            for out_channels in block:
                pairs[-1].append((in_channels, out_channels))
                in_channels = out_channels
        self.in_channels = in_channels
        layers: list[nn.Module] = []
        for b in reversed(range(len(blocks))):
            for encoder_in, encoder_out in reversed(pairs[b]):
                layers.append(nn.Conv2d(encoder_out, encoder_in, 3, padding=1, padding_mode="reflect"))
                layers.append(nn.ReLU(inplace=True))
            if b > 0:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        self.layers = nn.Sequential(*layers[:-1])  # no ReLU after the last convolution (to 1 channel)

    def forward(self, features: Tensor, clamp: bool = True) -> Tensor:
        if features.ndim != 4 or features.shape[1] != self.in_channels:
            raise InputError(f"adain_decoder expects features of shape (batch, {self.in_channels}, freq, frames), "
                             f"got {tuple(features.shape)}")
        images = self.layers(features)
        return images.clamp(0.0, 1.0) if clamp else images

    def config_dict(self) -> dict[str, Any]:
        return self.config.to_dict()

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> AdainDecoder:
        return cls(AdainDecoderConfig.from_dict(values))
