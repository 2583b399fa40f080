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

from spectrostyle.core.device import PRECISIONS, feature_dtype
from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.methods.base import CommonOptions, TransferMethod, setting
from spectrostyle.methods.losses import (
    DEFAULT_CONTENT_LAYERS,
    DEFAULT_STYLE_LAYERS,
    LossWeights,
    PerceptualLoss,
    delayed_copies,
)
from spectrostyle.methods.network import blend_tiles, tile_starts
from spectrostyle.nets.audio_cnn import AudioCNN, RandomSpectrumCNN

STARTS = ("content", "noise", "style", "adain")


OPTIMISERS = ("lbfgs", "adam")


def load_feature_net(name: str, *, random_filters: int = 4096, seed: int = 0,
                     device: torch.device | str = "cpu") -> nn.Module:
    """The feature network: a shipped audio CNN by name (or a model path), or ``"random"`` for the
    random 1-D CNN of Ulyanov & Lebedev."""
    if name == "random":
        return RandomSpectrumCNN(filters=random_filters, seed=seed).to(device).eval()
    from spectrostyle.store import load_named_model

    return load_named_model(name, "audio_cnn", device=device)


class GatysMethod(TransferMethod):
    """Optimisation-based style transfer (the paper's "Slow" network)."""

    name = "gatys"
    title = "Slow: Gatys style transfer"
    short = "Slow (Gatys)"
    description = ("The content note's image is optimised (L-BFGS) so that its features in the shipped spectrogram "
                   "CNN stay close to the content's while its Gram matrices approach the style note's, with the "
                   "energy and frequency constraints of Verma & Smith. More steps and a higher style weight: more "
                   "of the style.")
    needs_style = True
    model_kinds = ("audio_cnn",)
    requires = (("audio_cnn", "default"),)
    page_order = 50  # the slowest: seconds per note
    balance_limit_db = 9.0  # its timbre moves least of the style methods (mean-MFCC ratio on melodies)

    @dataclass
    class Options(CommonOptions):
        steps: int = setting(60, help="Optimisation steps.", low=1, high=100_000, control="slider", step=5)
        optimiser: str = setting("lbfgs", help="Optimiser.", choices=OPTIMISERS)
        learning_rate: float | None = setting(None, help="Learning rate (default: 1.0 for L-BFGS, 0.02 for Adam).",
                                              flag="--lr")
        start: str = setting("content", help="Start image: the content, noise, the style, or the AdaIN blend of "
                             "content and style (the shipped AdaIN decoder; a start near the style's statistics).",
                             choices=STARTS)
        content_weight: float = setting(1.0, help="Weight of the content loss.", low=0)
        style_weight: float = setting(LossWeights.style, help="Weight of the style loss: higher, more of the style's "
                                      "timbre.", low=0, control="number")
        energy_weight: float = setting(10.0, help="Weight of the energy constraint (Verma & Smith).", low=0)
        frequency_weight: float = setting(10.0, help="Weight of the frequency constraint (Verma & Smith).", low=0)
        tv_weight: float = setting(0.0, help="Weight of total variation.", low=0)
        content_layers: tuple[str, ...] = setting(DEFAULT_CONTENT_LAYERS, help="Comma-separated feature layers of "
                                                  "the content loss, e.g. relu4_2.")
        style_layers: tuple[str, ...] = setting(DEFAULT_STYLE_LAYERS, help="Comma-separated feature layers of the "
                                                "style loss, e.g. relu1_1,relu2_1.")
        style_mix: tuple[float, ...] | None = setting(None, help="Comma-separated weights of the --style sounds.")
        feature_net: str = setting("default", help="Shipped audio CNN name, model path, or 'random'.")
        precision: str = setting("auto", help="Precision of the feature network's pass: bf16 (bfloat16, about 1.5x "
                                 "faster; with the shipped network the same loss is reached), fp32, or auto: bf16 "
                                 "with a shipped feature network where the processor or GPU computes it natively "
                                 "(AMX, AVX512-BF16, CUDA), else fp32.", choices=PRECISIONS)
        random_filters: int = setting(4096, help="Filters of the 'random' feature network.", low=1)
        # optimise the loss averaged over the image delayed by 0 .. delays-1 frames (16 ms each), so the result's
        # fit does not hang on where it sits in the feature network (1: the plain loss; 8 costs about 7x the time)
        delays: int = setting(1, help="Optimise over the image delayed by 0 .. N-1 frames.", low=1, high=64)
        tile_frames: int = setting(512, help="Frames per tile of long content.", low=1)
        tile_overlap: int = setting(32, help="Frames where tiles overlap.", low=0)

        def __post_init__(self) -> None:
            super().__post_init__()
            if not 0 <= self.tile_overlap < self.tile_frames // 2:
                raise InputError("tile_overlap must be in 0 .. tile_frames / 2")
            if self.feature_net == "random" and self.content_layers == DEFAULT_CONTENT_LAYERS:
                # the 1-D CNN has one layer: read content and style from it
                self.content_layers, self.style_layers = ("relu",), ("relu",)

    def __init__(self, options: Options | None = None):
        super().__init__(options)
        self._feature_net: nn.Module | None = None
        self._adain: TransferMethod | None = None  # the AdaIN method of start="adain", loaded on first use

    @property
    def feature_net(self) -> nn.Module:
        if self._feature_net is None:
            net = load_feature_net(self.options.feature_net, random_filters=self.options.random_filters,
                                   seed=self.options.seed, device=self.device)
            # the optimisation only reads features: batch norms folded into the convolutions save a pass per layer
            self._feature_net = net.folded() if isinstance(net, AudioCNN) else net
        return self._feature_net

    @property
    def spectrogram_config(self) -> SpectrogramConfig:
        return self.feature_net.spectrogram

    def loss(self) -> PerceptualLoss:
        o = self.options
        return PerceptualLoss(self.feature_net, LossWeights(
            content=o.content_weight, style=o.style_weight, energy=o.energy_weight, frequency=o.frequency_weight,
            total_variation=o.tv_weight, content_layers=tuple(o.content_layers), style_layers=tuple(o.style_layers)),
            feature_dtype=feature_dtype(self._precision(), self.device))

    def _precision(self) -> str:
        """The option's precision, ``auto`` kept only for a shipped feature network: bfloat16 is measured to reach
        float32's loss with it (BENCHMARKS.md, Slow), while another network's features may be so close to their
        targets that bfloat16's rounding swamps the style loss (an untrained network's does)."""
        o = self.options
        if o.precision != "auto":
            return o.precision
        from spectrostyle.store import shipped_models

        shipped = any(m.kind == "audio_cnn" and m.name == o.feature_net for m in shipped_models())
        return "auto" if shipped else "fp32"

    def stylise_images(self, images: Tensor, styles: Sequence[Tensor], *, progress: bool = False
                       ) -> tuple[Tensor, dict[str, list[float]]]:
        """Each content image ``(1, F, T)`` of ``images`` optimised in turn; loss curves of all, one after the
        other."""
        o = self.options
        if not styles:
            raise InputError("gatys needs at least one style sound")
        if o.style_mix is not None and len(o.style_mix) != len(styles):
            raise InputError(f"{len(styles)} style sounds but {len(o.style_mix)} style_mix weights")
        loss = self.loss()
        style_images = [s.to(self.device, torch.float32) for s in styles]
        # style statistics (and the style's envelopes where those are the targets) from the whole style sound(s),
        # computed once for all tiles
        style_targets = loss.style_targets(style_images, o.style_mix)
        results, history = [], {}
        for content_image in images.to(self.device, torch.float32).split(1):
            frames = content_image.shape[-1]
            starts = tile_starts(frames, o.tile_frames, o.tile_overlap)
            generator = torch.Generator().manual_seed(o.seed)
            blend = self._adain_start(content_image, style_images) if o.start == "adain" else None
            tiles = []
            bar = tqdm(total=o.steps * len(starts), desc="gatys", disable=not progress, leave=False)
            for start in starts:
                tile = content_image[..., start:start + o.tile_frames]
                targets = loss.content_targets(delayed_copies(tile, o.delays), style_targets)
                init = (blend[..., start:start + o.tile_frames].clone() if blend is not None
                        else self._initial_image(tile, style_images[0], generator))
                result, tile_history = self._optimise(loss, targets, init, bar)
                tiles.append(result[0, 0])
                for key, values in tile_history.items():
                    history.setdefault(key, []).extend(values)
            bar.close()
            results.append(blend_tiles(tiles, starts, frames, o.tile_overlap))
        return torch.stack(results).unsqueeze(1), history

    def _adain_start(self, content: Tensor, styles: Sequence[Tensor]) -> Tensor:
        """The AdaIN blend ``(1, 1, F, T)`` of the content with the styles (mixed by ``style_mix``), at full
        strength: the start of ``start="adain"``."""
        if self._adain is None:
            from spectrostyle.methods.adain import AdainMethod

            self._adain = AdainMethod(AdainMethod.Options(style_mix=self.options.style_mix, seed=self.options.seed,
                                                          device=self.options.device))
            self.spectrogram_config.require_same(self._adain.spectrogram_config, "the AdaIN decoder of start='adain'")
        return self._adain.stylise_images(content, self._adain.prepare_styles(styles))[0].clamp(0, 1)

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
        evaluated: dict[str, Tensor] = {}  # the last point the loss was taken at, its total and its gradient

        def closure() -> Tensor:
            # L-BFGS takes the loss again at the start of every step, where its line search has just taken it: the
            # same point, bit for bit, so the loss and gradient found there are given back (half the passes)
            if evaluated and torch.equal(pixels.detach(), evaluated["pixels"]):
                pixels.grad = evaluated["grad"].clone()
                return evaluated["total"]
            optimiser.zero_grad(set_to_none=True)
            terms = loss(delayed_copies(pixels.clamp(0, 1), o.delays), targets)
            total = terms["total"] / o.delays  # the mean over the delayed copies
            total.backward()
            last_terms.update(terms)
            evaluated.update(pixels=pixels.detach().clone(), total=total.detach(), grad=pixels.grad.clone())
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
