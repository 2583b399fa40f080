"""pix2pix (Isola et al. 2017): paired instrument-to-instrument translation, the conditional GAN the paper's
first author also tried. A U-Net generator turns a domain-A note's spectrogram into the domain-B note of the same
pitch and velocity (NSynth-style data renders every instrument at the same pitches and velocities, so the pairs
are exact when domain B is one instrument; with a whole family as B, each A note has several partners and the L1
term pulls towards their average, which is why the shipped model targets one keyboard program); a PatchGAN
discriminator judges (A note, B note) pairs. Losses: least-squares adversarial + L1 to
the target (weight 100); Adam (2e-4, beta1 0.5), constant for half the steps, then linearly to 0. One direction
only (a2b).

The U-Net halves the image ``len(channels)`` times (3 x 3 strided convolutions, instance norm, LeakyReLU), comes
back up by nearest-neighbour upsampling + 3 x 3 convolutions concatenated with the skip connection of the same
scale, and predicts a residual over its input (its last convolution starts at zero: the identity). Unlike the
reference, no dropout: inference is deterministic.

Sizes. Committed recipe (recipes/pix2pix.sh, 2 CPU cores): widths 16, 32, 64, 64, 64 (five halvings: the deepest
cells see the whole 4 s note), discriminator widths 16 .. 128, whole notes, one pair per step. Full size for a
GPU (the paper's U-Net has eight halvings of width 64 .. 512): ``--channels 32,64,128,256,256,256
--discriminator-channels 64,128,256,512 --batch-size 4 --steps 40000``; the CPU inference budget does not hold
for that one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from spectrostyle.errors import InputError
from spectrostyle.fast import instance_norm
from spectrostyle.feedforward import pad_to_multiple
from spectrostyle.gan import (
    GanModel,
    GanTrainingOptions,
    PatchDiscriminator,
    TranslationMethod,
    frozen,
    l1_loss,
    lsgan_loss,
    train_gan,
)
from spectrostyle.models import SpectrogramModel
from spectrostyle.spectrogram import SpectrogramConfig

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


# ------------------------------------------------------------------------------------------------- method


class Pix2PixMethod(TranslationMethod):
    """Translation by a pix2pix generator, domain A to B (``direction`` ``a2b``; ``b2a`` is refused)."""

    name = "pix2pix"
    model_kind = UNet.kind

    def network(self):
        if self.options.direction != "a2b":
            a, b = self.domains()
            raise InputError(f"a pix2pix model translates one way only: '{self.options.model}' turns {a} into {b} "
                             "(--direction a2b); for the other way use --method cyclegan, or train a pix2pix model "
                             "with the domains swapped")
        return super().network()


# ---------------------------------------------------------------------------------------------- training


@dataclass
class Pix2PixTrainingOptions(GanTrainingOptions):
    """Everything ``spectrostyle train pix2pix`` takes (see :class:`spectrostyle.gan.GanTrainingOptions`): the
    U-Net's widths and the L1 weight."""

    channels: tuple[int, ...] = DEFAULT_CHANNELS
    l1_weight: float = 100.0

    def loss_weights(self) -> dict[str, float]:
        return {"l1": self.l1_weight}


def train_pix2pix(options: Pix2PixTrainingOptions) -> dict[str, Any]:
    """Train a pix2pix generator from ``domain_a`` to ``domain_b`` on pairs of the same pitch and velocity (see
    :func:`spectrostyle.gan.train_gan`); returns the report."""

    def build(config: SpectrogramConfig) -> Pix2PixModel:
        return Pix2PixModel(UNet(UNetConfig(channels=tuple(options.channels), spectrogram=config)),
                            options.l1_weight, tuple(options.discriminator_channels))

    return train_gan(options, "pix2pix", build, paired=True)
