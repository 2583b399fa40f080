"""Losses shared by the Slow (Gatys) and Fast (Johnson) methods, on spectrogram images ``(B, 1, F, T)``.

- content: mean squared difference of feature maps at chosen layers;
- style: mean squared difference of Gram matrices (channel correlations, normalised by the map size) at
  chosen layers; Gram matrices do not depend on the length, so content and style may differ in length;
- energy and frequency constraints (Verma & Smith 2018): squared difference of the temporal energy envelope
  (mean over frequency of each frame) and of the spectral envelope (mean over time of each bin);
- spectrum constraint: squared difference of the long-term average spectrum (each bin's power averaged over
  time, in dB), which, unlike the frequency envelope's mean of dB pixels, counts a brief loud event at its power;
  with an emphasis, each bin's difference is weighted by how strong the bin is in the content (the partials);
- total variation: smoothness of the image.

The style term depends on where an image sits in the feature network (its strided layers see whole cells of
2-16 pixels, and its convolutions see the image borders): an image optimised for one placement, as Slow's
L-BFGS result is, can lose most of its fit when it is heard 16 ms later. :meth:`PerceptualLoss.style_over_delays`
measures the style term over several such delays, which a sound's style should not depend on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor, nn

DEFAULT_CONTENT_LAYERS = ("relu4_2",)


DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def gram_matrix(features: Tensor) -> Tensor:
    """``(B, C, *spatial)`` -> ``(B, C, C)`` channel correlations divided by the number of positions."""
    flat = features.flatten(2)
    return flat @ flat.transpose(1, 2) / flat.shape[-1]


def energy_envelope(images: Tensor) -> Tensor:
    """Temporal energy envelope: mean over frequency of each frame, ``(B, 1, F, T)`` -> ``(B, T)``."""
    return images.mean(dim=(1, 2))


def frequency_envelope(images: Tensor) -> Tensor:
    """Spectral envelope: mean over time of each bin, ``(B, 1, F, T)`` -> ``(B, F)``."""
    return images.mean(dim=(1, 3))


def long_term_spectrum(images: Tensor, db_range: float = 80.0) -> Tensor:
    """Long-term average spectrum in pixel units, ``(B, 1, F, T)`` -> ``(B, F)``: each bin's power (pixels are dB
    over ``db_range``, so pixel 1 is the peak, 0 the floor) averaged over time, back in dB over the same range.
    A chirp crossing a silent bin at the peak for 2 of 256 frames moves that bin's frequency envelope by 0.008 and
    its long-term spectrum by 0.74."""
    power = torch.pow(10.0, (images.float() - 1.0) * (db_range / 10.0))
    floor = 10.0 ** (-db_range / 10.0)
    return 1.0 + 10.0 * torch.log10(power.mean(dim=(1, 3)).clamp_min(floor)) / db_range


def spectrum_bin_weights(target_spectrum: Tensor, emphasis: float) -> Tensor:
    """Weights of the bins in the spectrum constraint, ``(B, F)`` -> ``(B, F)`` with mean 1 over the bins:
    ``exp(emphasis * target)`` normalised, so a bin whose content spectrum is ``1 / emphasis`` pixel units (of the
    dB range) higher counts ``e`` times more; 0 weighs all bins alike. Over 512 bins the plain mean gives a note's
    few strong partials little say: a fundamental 20 dB down in 2 bins moves it by 2 * 0.25**2 / 512."""
    if emphasis < 0:
        raise ValueError(f"spectrum emphasis must be >= 0, got {emphasis}")
    return torch.softmax(emphasis * target_spectrum.float(), dim=-1) * target_spectrum.shape[-1]


def delayed(images: Tensor, frames: int) -> Tensor:
    """``(B, C, F, T)`` images ``frames`` later: that many silent frames (pixel 0) before, the last ``frames``
    dropped, so the length stays ``T`` (a 4 s note's last second is its silent release)."""
    if frames < 0:
        raise ValueError(f"frames must be >= 0, got {frames}")
    if frames == 0:
        return images
    return nn.functional.pad(images, (frames, 0))[..., :images.shape[-1]]


def delayed_copies(images: Tensor, delays: int) -> Tensor:
    """``(B, C, F, T)`` -> ``(delays * B, C, F, T)``: the images delayed by 0, 1, ... ``delays - 1`` frames,
    delay-major (rows ``d * B .. d * B + B - 1`` are delayed by ``d``)."""
    if delays < 1:
        raise ValueError(f"delays must be >= 1, got {delays}")
    return torch.cat([delayed(images, d) for d in range(delays)]) if delays > 1 else images


def total_variation(images: Tensor) -> Tensor:
    """Mean absolute difference between neighbouring pixels along time and frequency, ``(B,)``."""
    along_time = (images[..., 1:] - images[..., :-1]).abs().mean(dim=(1, 2, 3))
    along_freq = (images[..., 1:, :] - images[..., :-1, :]).abs().mean(dim=(1, 2, 3))
    return along_time + along_freq


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms and the layers they read. Targets of the energy and frequency constraints are
    the content's envelopes by default (``"content"``) or the style's (``"style"``); the spectrum constraint's
    is the content's long-term spectrum, its bins weighted by :func:`spectrum_bin_weights` with
    ``spectrum_emphasis``."""

    content: float = 1.0
    style: float = 3e3  # the one default of the style weight (Slow, Fast's training)
    energy: float = 10.0
    frequency: float = 10.0
    total_variation: float = 0.0
    spectrum: float = 0.0
    spectrum_emphasis: float = 0.0
    content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    style_layer_weights: tuple[float, ...] | None = None
    energy_target: str = "content"
    frequency_target: str = "content"

    def __post_init__(self) -> None:
        for name in ("energy_target", "frequency_target"):
            if getattr(self, name) not in {"content", "style"}:
                raise ValueError(f"{name} must be 'content' or 'style', got '{getattr(self, name)}'")
        if self.spectrum_emphasis < 0:
            raise ValueError(f"spectrum_emphasis must be >= 0, got {self.spectrum_emphasis}")
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(self.style_layers):
            raise ValueError("style_layer_weights needs one weight per style layer")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class StyleTargets:
    """Precomputed targets: content features, style Gram matrices and envelopes (each with batch dim B or 1)."""

    content_features: dict[str, Tensor] = field(default_factory=dict)
    style_grams: dict[str, Tensor] = field(default_factory=dict)
    energy: Tensor | None = None
    frequency: Tensor | None = None
    spectrum: Tensor | None = None


class PerceptualLoss(nn.Module):
    """Content + style + energy + frequency (+ spectrum, TV) loss over a frozen feature network.

    ``feature_net`` has ``extract(images, layers) -> {layer: features}`` and a ``spectrogram`` config (an
    :class:`~spectrostyle.nets.audio_cnn.AudioCNN` or
    :class:`~spectrostyle.nets.audio_cnn.RandomSpectrumCNN`), whose dB range the spectrum constraint reads.
    """

    def __init__(self, feature_net: nn.Module, weights: LossWeights | None = None, *,
                 feature_dtype: torch.dtype | None = None):
        super().__init__()
        self.feature_net = feature_net.eval().requires_grad_(False)
        self.weights = weights or LossWeights()
        self.layers = tuple(dict.fromkeys(self.weights.content_layers + self.weights.style_layers))
        self.db_range = -feature_net.spectrogram.db_floor
        self.feature_dtype = feature_dtype

    def _features(self, images: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
        """The feature network's taps of ``images``, run in :attr:`feature_dtype` (autocast; None: float32) and
        handed on as float32, so Gram matrices and losses are summed in full precision."""
        if self.feature_dtype is None:
            return self.feature_net.extract(images, layers)
        with torch.autocast(images.device.type, dtype=self.feature_dtype):
            features = self.feature_net.extract(images, layers)
        return {name: value.float() for name, value in features.items()}

    def targets(self, content: Tensor, style: Tensor | Sequence[Tensor],
                style_mix: Sequence[float] | None = None) -> StyleTargets:
        """Targets from content images ``(B, 1, F, T)`` and one or more style images ``(1 or B, 1, F, T')``
        (several styles are mixed by ``style_mix`` weights, summing to 1)."""
        return self.content_targets(content, self.style_targets(style, style_mix))

    def style_targets(self, style: Tensor | Sequence[Tensor], style_mix: Sequence[float] | None = None
                      ) -> StyleTargets:
        """The half of :meth:`targets` that depends on the style only (Gram matrices, and the style's envelopes
        where the weights take their constraints from the style); compute it once and pair it with many
        contents through :meth:`content_targets`."""
        styles = [style] if isinstance(style, Tensor) else list(style)
        mix = list(style_mix) if style_mix is not None else [1.0 / len(styles)] * len(styles)
        with torch.no_grad():
            grams: dict[str, Tensor] = {}
            for image, share in zip(styles, mix, strict=True):
                features = self._features(image, self.weights.style_layers)
                for layer in self.weights.style_layers:
                    grams[layer] = grams.get(layer, 0) + share * gram_matrix(features[layer])
            style_source = sum(share * frequency_envelope(s) for s, share in zip(styles, mix, strict=True)) \
                if all(s.shape[2] == styles[0].shape[2] for s in styles) else None
            energy = energy_envelope(styles[0]) if self.weights.energy_target == "style" else None
            frequency = style_source if self.weights.frequency_target == "style" else None
        return StyleTargets({}, grams, energy, frequency)

    def content_targets(self, content: Tensor, style_targets: StyleTargets) -> StyleTargets:
        """Full targets for content images ``(B, 1, F, T)`` from precomputed :meth:`style_targets`."""
        with torch.no_grad():
            content_features = self._features(content, self.weights.content_layers)
            energy = energy_envelope(content) if self.weights.energy_target == "content" else style_targets.energy
            frequency = frequency_envelope(content) if self.weights.frequency_target == "content" \
                else style_targets.frequency
            spectrum = long_term_spectrum(content, self.db_range) if self.weights.spectrum else None
        return StyleTargets(content_features, style_targets.style_grams, energy, frequency, spectrum)

    def forward(self, images: Tensor, targets: StyleTargets) -> dict[str, Tensor]:
        """Loss terms for ``images`` ``(B, 1, F, T)``: each ``(B,)`` weighted, plus ``"total"`` (a scalar)."""
        w = self.weights
        features = self._features(images, self.layers)
        terms: dict[str, Tensor] = {}
        zero = images.new_zeros(images.shape[0])
        terms["content"] = w.content * sum(
            ((features[layer] - targets.content_features[layer]) ** 2).flatten(1).mean(1)
            for layer in w.content_layers) if w.content else zero
        terms["style"] = self._style_term(features, targets) if w.style else zero
        if w.energy and targets.energy is not None and targets.energy.shape[-1] == images.shape[-1]:
            terms["energy"] = w.energy * ((energy_envelope(images) - targets.energy) ** 2).mean(1)
        else:
            terms["energy"] = zero
        terms["frequency"] = w.frequency * ((frequency_envelope(images) - targets.frequency) ** 2).mean(1) \
            if w.frequency and targets.frequency is not None else zero
        terms["spectrum"] = self._spectrum_term(images, targets) if w.spectrum and targets.spectrum is not None \
            else zero
        terms["total_variation"] = w.total_variation * total_variation(images) if w.total_variation else zero
        terms["total"] = sum(terms[name] for name in ("content", "style", "energy", "frequency", "spectrum",
                                                      "total_variation")).sum()
        return terms

    def _spectrum_term(self, images: Tensor, targets: StyleTargets) -> Tensor:
        squared = (long_term_spectrum(images, self.db_range) - targets.spectrum) ** 2
        if self.weights.spectrum_emphasis:
            squared = squared * spectrum_bin_weights(targets.spectrum, self.weights.spectrum_emphasis)
        return self.weights.spectrum * squared.mean(1)

    def _style_term(self, features: dict[str, Tensor], targets: StyleTargets) -> Tensor:
        w = self.weights
        layer_weights = w.style_layer_weights or (1.0 / len(w.style_layers),) * len(w.style_layers)
        return w.style * sum(
            weight * ((gram_matrix(features[layer]) - targets.style_grams[layer]) ** 2).flatten(1).mean(1)
            for layer, weight in zip(w.style_layers, layer_weights, strict=True))

    def style_over_delays(self, images: Tensor, targets: StyleTargets, delays: int = 8) -> Tensor:
        """The weighted style term of ``images`` ``(B, 1, F, T)`` delayed by 0 .. ``delays - 1`` frames (see
        :func:`delayed`), averaged over the delays: ``(B,)``. ``delays=1`` is the plain style term; 8 frames
        (128 ms at the default hop) span the 8-pixel cells of the deepest default style layer (relu4_1). Only
        the style targets are read, so content targets of the undelayed images serve."""
        batch = images.shape[0]
        grams = {layer: gram.repeat(delays, 1, 1) if gram.shape[0] > 1 else gram  # per-image targets follow
                 for layer, gram in targets.style_grams.items()}
        features = self._features(delayed_copies(images, delays), self.weights.style_layers)
        return self._style_term(features, StyleTargets(style_grams=grams)).view(delays, batch).mean(0)
