"""Feature networks and classifiers for spectrogram images ``(batch, 1, freq, frames)`` in [0, 1].

- :class:`AudioCNN`: VGG-19-structured CNN (16 conv 3x3 layers in five blocks with max-pooling), a width
  multiplier, optional batch norm, a family head (and optional pitch head), and named feature taps
  (``conv1_1`` ... ``conv5_4``, ``relu1_1`` ... ``relu5_4``, ``pool1`` ... ``pool5``).
- :class:`RandomSpectrumCNN`: training-free features in the manner of Ulyanov & Lebedev (2016): frequency
  bins as channels, one wide random 1-D convolution, ReLU, seeded.

Every model describes itself with ``config_dict()`` and is rebuilt with ``from_config(dict)``; the
spectrogram config travels inside, and :meth:`check_input` refuses images of another shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.core.vocabulary import FAMILIES, MIDI_PITCHES
from spectrostyle.nets.base import SpectrogramModel

VGG19_BLOCKS: tuple[tuple[int, ...], ...] = ((64, 64), (128, 128), (256,) * 4, (512,) * 4, (512,) * 4)


@dataclass(frozen=True)
class AudioCNNConfig:
    """Architecture of an :class:`AudioCNN`. ``width`` scales every layer's channels (1.0 = VGG-19's 64..512)."""

    class_names: tuple[str, ...] = FAMILIES
    width: float = 0.125
    batch_norm: bool = True
    pitch_head: bool = False
    dropout: float = 0.3
    spectrogram: SpectrogramConfig = field(default_factory=SpectrogramConfig)

    def channels(self) -> list[list[int]]:
        return [[max(4, round(c * self.width)) for c in block] for block in VGG19_BLOCKS]

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["class_names"] = list(self.class_names)
        values["spectrogram"] = self.spectrogram.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AudioCNNConfig:
        values = dict(values)
        values["class_names"] = tuple(values["class_names"])
        values["spectrogram"] = SpectrogramConfig.from_dict(values["spectrogram"])
        return cls(**values)


def vgg_layer_names(blocks: Sequence[Sequence[int]] = VGG19_BLOCKS) -> list[str]:
    """Tap names in forward order: conv1_1, relu1_1, ..., conv5_4, relu5_4, pool5 (no batch-norm names)."""
    names = []
    for b, block in enumerate(blocks, start=1):
        for i in range(1, len(block) + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return names


class AudioCNN(SpectrogramModel):
    """VGG-19-structured classifier of spectrogram images. ``forward``: ``(B, 1, F, T)`` -> logits ``(B, C)``."""

    kind = "audio_cnn"

    def __init__(self, config: AudioCNNConfig | None = None):
        super().__init__()
        self.config = config or AudioCNNConfig()
        self.spectrogram = self.config.spectrogram
        layers: dict[str, nn.Module] = {}
        in_channels = 1
        for b, block in enumerate(self.config.channels(), start=1):
            for i, out_channels in enumerate(block, start=1):
                layers[f"conv{b}_{i}"] = nn.Conv2d(in_channels, out_channels, 3, padding=1,
                                                   bias=not self.config.batch_norm)
                if self.config.batch_norm:
                    layers[f"bn{b}_{i}"] = nn.BatchNorm2d(out_channels)
                layers[f"relu{b}_{i}"] = nn.ReLU()
                in_channels = out_channels
            layers[f"pool{b}"] = nn.MaxPool2d(2)
        self.features = nn.ModuleDict(layers)
        self.tap_names = vgg_layer_names(self.config.channels())
        self.embedding_size = 2 * in_channels
        self.dropout = nn.Dropout(self.config.dropout)
        self.family_head = nn.Linear(self.embedding_size, len(self.config.class_names))
        self.pitch_head = nn.Linear(self.embedding_size, MIDI_PITCHES) if self.config.pitch_head else None
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def extract(self, images: Tensor, layers: Iterable[str], *, check_input: bool = True) -> dict[str, Tensor]:
        """Activations at the named taps, running only as deep as the deepest one. ``(B, 1, F, T)`` in.
        ``check_input=False`` lets a caller pass an image it checked and then padded beyond ``F`` rows."""
        wanted = set(layers)
        unknown = wanted - set(self.tap_names)
        if unknown:
            raise InputError(f"unknown feature layers {sorted(unknown)}; choose from {', '.join(self.tap_names)}")
        if check_input:
            self.check_input(images)
        found: dict[str, Tensor] = {}
        x = images * 2.0 - 1.0  # pixels [0, 1] -> [-1, 1]
        for name, layer in self.features.items():
            x = layer(x)
            # a conv tap is read after its batch norm, so the taps do not depend on the BN option's placement
            tap = name.replace("bn", "conv") if name.startswith("bn") else name
            if tap in wanted and not (name.startswith("conv") and self.config.batch_norm):
                found[tap] = x
            if len(found) == len(wanted):
                break
        return found

    def embed(self, images: Tensor) -> Tensor:
        """Global average and max pooled ``pool5`` features: ``(B, 1, F, T)`` -> ``(B, embedding_size)``."""
        pooled = self.extract(images, ["pool5"])["pool5"]
        return torch.cat([pooled.mean(dim=(2, 3)), pooled.amax(dim=(2, 3))], dim=1)

    def forward(self, images: Tensor) -> Tensor:
        return self.family_head(self.dropout(self.embed(images)))

    def forward_with_pitch(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        """Family logits ``(B, C)`` and pitch logits ``(B, 128)`` (None without a pitch head)."""
        embedding = self.dropout(self.embed(images))
        pitch = self.pitch_head(embedding) if self.pitch_head is not None else None
        return self.family_head(embedding), pitch

    def folded(self) -> AudioCNN:
        """A frozen copy for feature extraction whose batch norms are folded into the convolutions before them
        (each ``bn`` becomes an identity): the same taps up to float rounding, one pass less per layer. For
        inference only: the running statistics become weights."""
        from torch.nn.utils.fusion import fuse_conv_bn_eval

        copy = AudioCNN(self.config)
        copy.load_state_dict(self.state_dict())
        copy = copy.to(next(self.parameters()).device).eval().requires_grad_(False)
        for name in list(copy.features.keys()):
            if name.startswith("bn"):
                conv = name.replace("bn", "conv")
                copy.features[conv] = fuse_conv_bn_eval(copy.features[conv], copy.features[name])
                copy.features[name] = nn.Identity()
        return copy

    def config_dict(self) -> dict[str, Any]:
        return self.config.to_dict()

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> AudioCNN:
        return cls(AudioCNNConfig.from_dict(values))


class RandomSpectrumCNN(SpectrogramModel):
    """Random shallow 1-D CNN (Ulyanov & Lebedev 2016): ``(B, 1, F, T)`` -> taps ``conv``/``relu`` ``(B, K, T)``.

    Frequency bins are the input channels; one convolution over time (``filters`` x ``kernel_size``) with
    weights drawn from a seeded generator (std ``sqrt(2 / (F * kernel))``), then ReLU. No training.
    """

    kind = "random_spectrum_cnn"
    tap_names = ("conv", "relu")

    def __init__(self, spectrogram: SpectrogramConfig | None = None, filters: int = 4096, kernel_size: int = 11,
                 seed: int = 0):
        super().__init__()
        self.spectrogram = spectrogram or SpectrogramConfig()
        self.filters, self.kernel_size, self.seed = filters, kernel_size, seed
        self.conv = nn.Conv1d(self.spectrogram.n_freq, filters, kernel_size, padding=kernel_size // 2)
        generator = torch.Generator().manual_seed(seed)
        std = (2.0 / (self.spectrogram.n_freq * kernel_size)) ** 0.5
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=generator) * std)
            self.conv.bias.zero_()
        self.requires_grad_(False)

    def extract(self, images: Tensor, layers: Iterable[str]) -> dict[str, Tensor]:
        wanted = set(layers)
        if not wanted <= set(self.tap_names):
            raise InputError(f"unknown feature layers {sorted(wanted - set(self.tap_names))}; choose from conv, relu")
        self.check_input(images)
        conv = self.conv(images[:, 0])  # (B, F, T): frequency bins as channels
        found = {"conv": conv, "relu": torch.relu(conv)}
        return {name: found[name] for name in wanted}

    def config_dict(self) -> dict[str, Any]:
        return {"spectrogram": self.spectrogram.to_dict(), "filters": self.filters, "kernel_size": self.kernel_size,
                "seed": self.seed}

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> RandomSpectrumCNN:
        return cls(SpectrogramConfig.from_dict(values["spectrogram"]), values["filters"], values["kernel_size"],
                   values["seed"])
