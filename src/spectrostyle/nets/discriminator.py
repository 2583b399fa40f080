"""The PatchGAN discriminator of CycleGAN and pix2pix."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from spectrostyle.core.errors import InputError
from spectrostyle.nets.layers import instance_norm


class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator (Isola et al.): ``(B, in_channels, F, T)`` -> a map of real/fake scores
    ``(B, 1, ~F/8, ~T/8)``, each judging one patch (70 x 70 pixels with the default four levels).

    4 x 4 convolutions: the first ``len(channels) - 1`` with stride 2, the last with stride 1, then one to a
    single channel; instance norm on all but the first, LeakyReLU(0.2). No output squashing (least squares).
    """

    def __init__(self, in_channels: int = 1, channels: Sequence[int] = (16, 32, 64, 128)):
        super().__init__()
        if len(channels) < 2 or any(c < 1 for c in channels):
            raise InputError(f"discriminator channels must be two or more positive widths, got {tuple(channels)}")
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for k, (a, b) in enumerate(zip(channels, channels[1:], strict=False)):
            stride = 2 if k < len(channels) - 2 else 1
            layers += [nn.Conv2d(a, b, 4, stride, 1), instance_norm(b), nn.LeakyReLU(0.2, inplace=True)]
        layers.append(nn.Conv2d(channels[-1], 1, 4, 1, 1))
        self.layers = nn.Sequential(*layers)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):  # the reference's initialisation: N(0, 0.02), zero bias
                nn.init.normal_(module.weight, 0.0, 0.02)
                nn.init.zeros_(module.bias)

    def forward(self, images: Tensor) -> Tensor:
        return self.layers(images)
