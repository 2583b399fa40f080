"""Training the pix2pix U-Net."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.nets.discriminator import PatchDiscriminator
from spectrostyle.nets.unet import DEFAULT_CHANNELS, UNet, UNetConfig
from spectrostyle.train.gan import GanModel, GanTrainingOptions, frozen, l1_loss, lsgan_loss, train_gan


class Pix2PixModel(GanModel):
    """U-Net generator and conditional PatchGAN discriminator of pix2pix in training (see :class:`GanModel`)."""

    term_names = ("adversarial", "l1", "discriminator")

    def __init__(self, generator: UNet, l1_weight: float = 100.0,
                 discriminator_channels: tuple[int, ...] = (16, 32, 64, 128)):
        super().__init__()
        self.generators = generator
        self.discriminator = PatchDiscriminator(2, discriminator_channels)  # sees (A note, B note or result)
        self.l1_weight = l1_weight

    def directions(self) -> tuple[str, ...]:
        return ("a2b",)

    def translate(self, images: Tensor, direction: str) -> Tensor:
        return self.generators(images, direction)

    def forward(self, images: Tensor, generator: torch.Generator) -> dict[str, Tensor]:
        """Loss terms ``(B,)`` for a batch ``(B, 2, F, T)`` of (A note, its B pair)."""
        a, b = images[:, :1], images[:, 1:]
        fake = self.generators(a)
        scores = self.discriminator(torch.cat([images, torch.cat([a, fake.detach()], dim=1)]))
        n = len(a)
        return {"adversarial": lsgan_loss(frozen(self.discriminator)(torch.cat([a, fake], dim=1)), True),
                "l1": self.l1_weight * l1_loss(fake, b),
                "discriminator": 0.5 * (lsgan_loss(scores[:n], True) + lsgan_loss(scores[n:], False))}


@dataclass
class Pix2PixTrainingOptions(GanTrainingOptions):
    """Everything ``spectrostyle train pix2pix`` takes (see :class:`spectrostyle.train.gan.GanTrainingOptions`): the
    U-Net's widths and the L1 weight."""

    channels: tuple[int, ...] = DEFAULT_CHANNELS
    l1_weight: float = 100.0

    def loss_weights(self) -> dict[str, float]:
        return {"l1": self.l1_weight}


def train_pix2pix(options: Pix2PixTrainingOptions) -> dict[str, Any]:
    """Train a pix2pix generator from ``domain_a`` to ``domain_b`` on pairs of the same pitch and velocity (see
    :func:`spectrostyle.train.gan.train_gan`); returns the report."""

    def build(config: SpectrogramConfig) -> Pix2PixModel:
        return Pix2PixModel(UNet(UNetConfig(channels=tuple(options.channels), spectrogram=config)),
                            options.l1_weight, tuple(options.discriminator_channels))

    return train_gan(options, "pix2pix", build, paired=True)
