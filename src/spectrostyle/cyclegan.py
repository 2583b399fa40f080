"""CycleGAN (Zhu et al. 2017): unpaired instrument-to-instrument translation of spectrogram images, the paper's
third network. Two generators (G_ab: domain A -> B, G_ba: B -> A) and two PatchGAN discriminators (D_a, D_b),
trained with the least-squares adversarial loss, the cycle-consistency loss (L1, weight 10: a note taken to the
other domain and back should be itself), the identity loss (L1, half the cycle weight: a generator given a note
of its target domain should leave it alone) and an image pool of 50 for the discriminators; Adam (2e-4, beta1
0.5), constant for half the steps, then linearly to 0. Domains are dataset filters (see
:class:`spectrostyle.gan.DomainSelection`).

The generators are ResNet generators in Johnson et al.'s layout, the Fast method's :class:`TransformNet`
(strided convolutions, residual blocks, instance norm, nearest-neighbour upsampling): each predicts a residual
over its input and starts as the identity, so pitch and timing are kept unless the losses ask otherwise. The
shipped file (kind ``cyclegan_generator``) holds both generators; ``--direction`` picks one.

Sizes. Committed recipe (recipes/cyclegan.sh, 2 CPU cores): generator widths 16, 32, 64 (three halvings of the
512 x 256 image) with 6 residual blocks (0.49 M parameters each), discriminator widths 16 .. 128, whole 4 s notes,
one note per step. Full size for a GPU (the paper's generator: 2 halvings, 9 blocks, width 64):
``--channels 32,64,128 --residual-blocks 9 --discriminator-channels 64,128,256,512 --batch-size 4 --steps
40000``; the inference budget of the CPU model (<= 80 ms per 4 s note with phase reconstruction) does not hold
for that one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from spectrostyle.errors import InputError
from spectrostyle.fast import TransformNet, TransformNetConfig
from spectrostyle.gan import (
    DIRECTIONS,
    GanModel,
    GanTrainingOptions,
    ImagePool,
    PatchDiscriminator,
    TranslationMethod,
    frozen,
    l1_loss,
    lsgan_loss,
    train_gan,
)
from spectrostyle.models import SpectrogramModel
from spectrostyle.spectrogram import SpectrogramConfig

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


@dataclass(frozen=True)
class CycleGANWeights:
    """Loss weights: ``cycle`` (each direction's L1 cycle loss) and ``identity`` (a fraction of ``cycle``)."""

    cycle: float = 10.0
    identity: float = 0.5


class CycleGANModel(GanModel):
    """Generators, discriminators and image pools of a CycleGAN in training (see :class:`GanModel`)."""

    term_names = ("adversarial_ab", "adversarial_ba", "cycle_a", "cycle_b", "identity_a", "identity_b",
                  "discriminator_a", "discriminator_b")

    def __init__(self, generators: CycleGANGenerators, weights: CycleGANWeights | None = None,
                 discriminator_channels: tuple[int, ...] = (16, 32, 64, 128), pool_size: int = 50):
        super().__init__()
        self.generators = generators
        self.d_a = PatchDiscriminator(1, discriminator_channels)
        self.d_b = PatchDiscriminator(1, discriminator_channels)
        self.weights = weights or CycleGANWeights()
        self.pools = {"a": ImagePool(pool_size), "b": ImagePool(pool_size)}

    def translate(self, images: Tensor, direction: str) -> Tensor:
        return self.generators(images, direction)

    def forward(self, images: Tensor, generator: torch.Generator) -> dict[str, Tensor]:
        """Loss terms ``(B,)`` for a batch ``(B, 2, F, T)`` of (A note, B note)."""
        a, b = images[:, :1], images[:, 1:]
        n, w = len(a), self.weights
        g_ab, g_ba = self.generators.g_ab, self.generators.g_ba
        identity_weight = w.cycle * w.identity
        if identity_weight:  # each generator also on a note of its own target domain, in the same pass
            ab, ba = g_ab(torch.cat([a, b])), g_ba(torch.cat([b, a]))
            fake_b, same_b, fake_a, same_a = ab[:n], ab[n:], ba[:n], ba[n:]
        else:
            fake_b, fake_a = g_ab(a), g_ba(b)
            same_b, same_a = b, a
        terms = {"adversarial_ab": lsgan_loss(frozen(self.d_b)(fake_b), True),
                 "adversarial_ba": lsgan_loss(frozen(self.d_a)(fake_a), True),
                 "cycle_a": w.cycle * l1_loss(g_ba(fake_b), a), "cycle_b": w.cycle * l1_loss(g_ab(fake_a), b),
                 "identity_a": identity_weight * l1_loss(same_a, a),
                 "identity_b": identity_weight * l1_loss(same_b, b)}
        for name, real, fake, discriminator in (("a", a, fake_a, self.d_a), ("b", b, fake_b, self.d_b)):
            fake = fake.detach()
            if self.training:
                fake = self.pools[name].query(fake, generator)
            scores = discriminator(torch.cat([real, fake]))
            terms[f"discriminator_{name}"] = 0.5 * (lsgan_loss(scores[:n], True) + lsgan_loss(scores[n:], False))
        return terms

    def pool_state(self) -> dict[str, Any]:
        return {name: pool.state_dict() for name, pool in self.pools.items()}

    def load_pool_state(self, state: dict[str, Any]) -> None:
        for name, pool in self.pools.items():
            pool.load_state_dict(state[name])


# ------------------------------------------------------------------------------------------------- method


class CycleGANMethod(TranslationMethod):
    """Translation by one of a CycleGAN's generators: ``direction`` ``a2b`` or ``b2a``."""

    name = "cyclegan"
    model_kind = CycleGANGenerators.kind


# ---------------------------------------------------------------------------------------------- training


@dataclass
class CycleGANTrainingOptions(GanTrainingOptions):
    """Everything ``spectrostyle train cyclegan`` takes (see :class:`spectrostyle.gan.GanTrainingOptions`):
    the generators' widths and residual blocks, the loss weights and the image pool's size."""

    channels: tuple[int, ...] = DEFAULT_CHANNELS
    residual_blocks: int = DEFAULT_RESIDUAL_BLOCKS
    cycle_weight: float = 10.0
    identity_weight: float = 0.5
    pool_size: int = 50

    def loss_weights(self) -> dict[str, float]:
        return {"cycle": self.cycle_weight, "identity": self.identity_weight, "pool_size": self.pool_size}


def train_cyclegan(options: CycleGANTrainingOptions) -> dict[str, Any]:
    """Train a CycleGAN between ``options.domains`` (see :func:`spectrostyle.gan.train_gan`); returns the report."""

    def build(config: SpectrogramConfig) -> CycleGANModel:
        generators = CycleGANGenerators(TransformNetConfig(channels=tuple(options.channels),
                                                           residual_blocks=options.residual_blocks,
                                                           spectrogram=config))
        return CycleGANModel(generators, CycleGANWeights(options.cycle_weight, options.identity_weight),
                             tuple(options.discriminator_channels), options.pool_size)

    return train_gan(options, "cyclegan", build, paired=False)
