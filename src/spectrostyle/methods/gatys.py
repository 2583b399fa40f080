"""Slow: Gatys et al. optimisation-based style transfer on spectrogram images, with the energy and frequency
constraints of Verma & Smith (2018). The image itself is optimised (L-BFGS by default) so that its features in
a spectrogram CNN match the content's and its Gram matrices match the style's.

Long content is processed in overlapping tiles (style statistics always from the whole style sound), so
memory stays bounded whatever the length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from tqdm import tqdm

from spectrostyle.core.device import resolve_device
from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig
from spectrostyle.methods.base import TransferMethod, to_batch
from spectrostyle.methods.losses import (
    DEFAULT_CONTENT_LAYERS,
    DEFAULT_STYLE_LAYERS,
    LossWeights,
    PerceptualLoss,
    delayed_copies,
)
from spectrostyle.nets.audio_cnn import RandomSpectrumCNN

STARTS = ("content", "noise", "style")


OPTIMISERS = ("lbfgs", "adam")


def load_feature_net(name: str, *, random_filters: int = 4096, seed: int = 0,
                     device: torch.device | str = "cpu") -> nn.Module:
    """The feature network: a shipped audio CNN by name (or a model path), or ``"random"`` for the
    random 1-D CNN of Ulyanov & Lebedev."""
    if name == "random":
        return RandomSpectrumCNN(filters=random_filters, seed=seed).to(device).eval()
    from spectrostyle.store import load_named_model

    return load_named_model(name, "audio_cnn", device=device)


def tile_starts(frames: int, tile: int, overlap: int) -> list[int]:
    """Start frames of overlapping tiles covering ``frames`` (the last tile ends at the last frame)."""
    if frames <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, frames - tile, step))
    return starts + [frames - tile]


def blend_tiles(tiles: Sequence[Tensor], starts: Sequence[int], frames: int, overlap: int) -> Tensor:
    """Overlap-add ``(..., t)`` tiles with linear cross-fades into ``(..., frames)``."""
    out = torch.zeros(*tiles[0].shape[:-1], frames)
    weight = torch.zeros(frames)
    for tile, start in zip(tiles, starts, strict=True):
        length = tile.shape[-1]
        ramp = torch.ones(length)
        fade = min(overlap, length // 2)
        if fade > 0:
            ramp[:fade] = torch.linspace(0, 1, fade + 2)[1:-1]
            ramp[-fade:] = torch.linspace(1, 0, fade + 2)[1:-1]
        if start == 0:
            ramp[:fade] = 1.0
        if start + length == frames:
            ramp[-fade:] = 1.0 if fade else ramp[-fade:]
        out[..., start:start + length] += tile.cpu() * ramp
        weight[start:start + length] += ramp
    return out / weight.clamp_min(1e-6)


class GatysMethod(TransferMethod):
    """Optimisation-based style transfer (the paper's "Slow" network)."""

    name = "gatys"
    needs_style = True

    @dataclass
    class Options:
        steps: int = 60
        optimiser: str = "lbfgs"
        learning_rate: float | None = None  # default: 1.0 for L-BFGS, 0.02 for Adam
        start: str = "content"
        content_weight: float = 1.0
        style_weight: float = 3e3
        energy_weight: float = 10.0
        frequency_weight: float = 10.0
        tv_weight: float = 0.0
        content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
        style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
        style_mix: tuple[float, ...] | None = None
        feature_net: str = "default"
        random_filters: int = 4096
        # optimise the loss averaged over the image delayed by 0 .. delays-1 frames (16 ms each), so the result's
        # fit does not hang on where it sits in the feature network (1: the plain loss; 8 costs about 7x the time)
        delays: int = 1
        tile_frames: int = 512
        tile_overlap: int = 32
        seed: int = 0
        device: str = "cpu"

        def __post_init__(self) -> None:
            if self.start not in STARTS:
                raise InputError(f"start must be one of {', '.join(STARTS)}, got '{self.start}'")
            if self.optimiser not in OPTIMISERS:
                raise InputError(f"optimiser must be one of {', '.join(OPTIMISERS)}, got '{self.optimiser}'")
            if self.steps < 1:
                raise InputError(f"steps must be >= 1, got {self.steps}")
            if not 1 <= self.delays <= 64:
                raise InputError(f"delays must be in 1..64, got {self.delays}")
            if not 0 <= self.tile_overlap < self.tile_frames // 2:
                raise InputError("tile_overlap must be in 0 .. tile_frames / 2")
            if self.feature_net == "random" and self.content_layers == DEFAULT_CONTENT_LAYERS:
                # the 1-D CNN has one layer: read content and style from it
                self.content_layers, self.style_layers = ("relu",), ("relu",)

    def __init__(self, options: Options | None = None):
        super().__init__(options)
        self.device = resolve_device(self.options.device)
        self._feature_net: nn.Module | None = None

    @property
    def feature_net(self) -> nn.Module:
        if self._feature_net is None:
            self._feature_net = load_feature_net(self.options.feature_net, random_filters=self.options.random_filters,
                                                 seed=self.options.seed, device=self.device)
        return self._feature_net

    @property
    def spectrogram_config(self) -> SpectrogramConfig:
        return self.feature_net.spectrogram

    def loss(self) -> PerceptualLoss:
        o = self.options
        return PerceptualLoss(self.feature_net, LossWeights(
            content=o.content_weight, style=o.style_weight, energy=o.energy_weight, frequency=o.frequency_weight,
            total_variation=o.tv_weight, content_layers=tuple(o.content_layers), style_layers=tuple(o.style_layers)))

    def stylise(self, content: Spectrogram, styles: Sequence[Spectrogram], *, progress: bool = False
                ) -> tuple[Tensor, dict[str, list[float]]]:
        o = self.options
        if not styles:
            raise InputError("gatys needs at least one style sound")
        if o.style_mix is not None and len(o.style_mix) != len(styles):
            raise InputError(f"{len(styles)} style sounds but {len(o.style_mix)} style_mix weights")
        loss = self.loss()
        content_image = to_batch(content, self.device)
        style_images = [to_batch(s, self.device) for s in styles]
        # style statistics (and the style's envelopes where those are the targets) from the whole style sound(s),
        # computed once for all tiles
        style_targets = loss.style_targets(style_images, o.style_mix)
        frames = content_image.shape[-1]
        starts = tile_starts(frames, o.tile_frames, o.tile_overlap)
        generator = torch.Generator().manual_seed(o.seed)
        tiles, history = [], {}
        bar = tqdm(total=o.steps * len(starts), desc="gatys", disable=not progress, leave=False)
        for start in starts:
            tile = content_image[..., start:start + o.tile_frames]
            targets = loss.content_targets(delayed_copies(tile, o.delays), style_targets)
            init = self._initial_image(tile, style_images[0], generator)
            result, tile_history = self._optimise(loss, targets, init, bar)
            tiles.append(result[0, 0])
            for key, values in tile_history.items():
                history.setdefault(key, []).extend(values)
        bar.close()
        return blend_tiles(tiles, starts, frames, o.tile_overlap), history

    def _initial_image(self, tile: Tensor, style: Tensor, generator: torch.Generator) -> Tensor:
        if self.options.start == "content":
            return tile.clone()
        if self.options.start == "noise":
            noise = torch.rand(tile.shape, generator=generator).to(tile.device)
            return noise * tile.mean() * 2
        repeats = -(-tile.shape[-1] // style.shape[-1])
        return style.repeat(1, 1, 1, repeats)[..., : tile.shape[-1]].clone()

    def _optimise(self, loss: PerceptualLoss, targets, init: Tensor, bar: tqdm) -> tuple[Tensor, dict]:
        o = self.options
        pixels = init.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
        history: dict[str, list[float]] = {}

        def new_optimiser() -> torch.optim.Optimizer:
            if o.optimiser == "lbfgs":
                return torch.optim.LBFGS([pixels], lr=o.learning_rate or 1.0, max_iter=1, history_size=20,
                                         line_search_fn="strong_wolfe")
            return torch.optim.Adam([pixels], lr=o.learning_rate or 0.02)

        optimiser = new_optimiser()
        last_terms: dict[str, Tensor] = {}

        def closure() -> Tensor:
            optimiser.zero_grad(set_to_none=True)
            terms = loss(delayed_copies(pixels.clamp(0, 1), o.delays), targets)
            total = terms["total"] / o.delays  # the mean over the delayed copies
            total.backward()
            last_terms.update(terms)
            return total

        def record() -> None:
            for key, value in last_terms.items():
                history.setdefault(key, []).append(float(value.detach().sum()) / o.delays)

        closure()
        record()  # the starting point, so curves show the fall
        stalled = False
        for _ in range(o.steps):
            optimiser.step(closure)
            record()
            bar.update(1)
            bar.set_postfix(loss=f"{history['total'][-1]:.4g}")
            if o.optimiser == "lbfgs":
                # L-BFGS stalls for good once its line search finds no decrease (the clamp to [0, 1] makes the
                # loss non-smooth); forgetting its curvature history restarts it from a gradient step. Two stalls
                # in a row mean a minimum: stop early.
                previous, current = history["total"][-2], history["total"][-1]
                if previous - current <= 1e-6 * abs(previous):
                    if stalled:
                        break
                    stalled = True
                    optimiser = new_optimiser()
                else:
                    stalled = False
        with torch.no_grad():
            return pixels.clamp(0, 1).detach(), history
