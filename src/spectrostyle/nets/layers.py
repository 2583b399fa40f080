"""Layers shared by the image-to-image networks (Johnson et al.'s blocks)."""

from __future__ import annotations

from torch import Tensor, nn


def _conv(in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2, padding_mode="reflect")


def instance_norm(channels: int) -> nn.GroupNorm:
    """Instance normalisation with a learnt scale and shift per channel, written as a group norm with one channel
    per group: the same operation as ``nn.InstanceNorm2d(affine=True)``, but with a CPU kernel that works on
    channels-last tensors (twice as fast a network here)."""
    return nn.GroupNorm(channels, channels, affine=True)


def _conv_norm_relu(in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(_conv(in_channels, out_channels, kernel_size, stride), instance_norm(out_channels),
                         nn.ReLU(inplace=True))


class ResidualBlock(nn.Module):
    """conv-IN-ReLU-conv-IN plus the input (Johnson et al.'s block), ``(B, C, H, W)`` -> same."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(_conv_norm_relu(channels, channels), _conv(channels, channels),
                                  instance_norm(channels))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def pad_to_multiple(images: Tensor, multiple: int) -> Tensor:
    """Pad ``(B, C, F, T)`` with zeros (silence) at the top of F and the end of T up to multiples of ``multiple``."""
    freq_pad = -images.shape[-2] % multiple
    time_pad = -images.shape[-1] % multiple
    if not freq_pad and not time_pad:
        return images
    return nn.functional.pad(images, (0, time_pad, 0, freq_pad))
