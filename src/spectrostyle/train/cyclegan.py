"""Training CycleGAN's generators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.nets.cyclegan import DEFAULT_CHANNELS, DEFAULT_RESIDUAL_BLOCKS, CycleGANGenerators
from spectrostyle.nets.discriminator import PatchDiscriminator
from spectrostyle.nets.transform_net import TransformNetConfig
from spectrostyle.train.gan import GanModel, GanTrainingOptions, ImagePool, frozen, l1_loss, lsgan_loss, train_gan


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


@dataclass
class CycleGANTrainingOptions(GanTrainingOptions):
    """Everything ``spectrostyle train cyclegan`` takes (see :class:`spectrostyle.train.gan.GanTrainingOptions`):
    the generators' widths and residual blocks, the loss weights and the image pool's size."""

    channels: tuple[int, ...] = DEFAULT_CHANNELS
    residual_blocks: int = DEFAULT_RESIDUAL_BLOCKS
    cycle_weight: float = 10.0
    identity_weight: float = 0.5
    pool_size: int = 50

    def loss_weights(self) -> dict[str, float]:
        return {"cycle": self.cycle_weight, "identity": self.identity_weight, "pool_size": self.pool_size}


def train_cyclegan(options: CycleGANTrainingOptions) -> dict[str, Any]:
    """Train a CycleGAN between ``options.domains`` (:func:`spectrostyle.train.gan.train_gan`); returns the report."""

    def build(config: SpectrogramConfig) -> CycleGANModel:
        generators = CycleGANGenerators(TransformNetConfig(channels=tuple(options.channels),
                                                           residual_blocks=options.residual_blocks,
                                                           spectrogram=config))
        return CycleGANModel(generators, CycleGANWeights(options.cycle_weight, options.identity_weight),
                             tuple(options.discriminator_channels), options.pool_size)

    return train_gan(options, "cyclegan", build, paired=False)
