"""What the feed-forward methods share at inference: one network pass, tiled over long sounds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.core.vocabulary import DIRECTIONS
from spectrostyle.methods.base import CommonOptions, TransferMethod, setting

# Griffin-Lim iterations for feed-forward results, warm-started from the content's phase (chosen by measuring
# spectral convergence against iterations: benchmarks/bench_fast.py)
FEEDFORWARD_PHASE_ITERATIONS = 8
FEEDFORWARD_KEEP_PITCH = 1.0  # one pass of a style network blurs low notes' partials: the content's are put back


def check_tiling(tile_frames: int, tile_overlap: int) -> None:
    """:class:`InputError` unless ``tile_frames >= 16`` and ``0 <= tile_overlap < tile_frames / 2``."""
    if tile_frames < 16:
        raise InputError(f"tile_frames must be >= 16, got {tile_frames}")
    if not 0 <= tile_overlap < tile_frames // 2:
        raise InputError(f"tile_overlap must be in 0 .. tile_frames / 2 (got {tile_overlap} for tiles of "
                         f"{tile_frames} frames)")


def run_tiled(network: Callable[[Tensor], Tensor], images: Tensor, *, tile_frames: int, tile_overlap: int,
              batch_size: int) -> Tensor:
    """``network`` over ``images`` ``(B, 1, F, T)`` of any length -> ``(B, 1, F, T)``.

    Each image is cut into tiles of ``tile_frames`` overlapping by ``tile_overlap`` (one tile when shorter);
    the tiles of all images go through ``network`` ``batch_size`` at a time (``(b, 1, F, t) -> (b, 1, F, t)``,
    channels-last) and are cross-faded back together. Small batches run fastest per tile on CPU (activations
    stay in cache).
    """
    check_tiling(tile_frames, tile_overlap)
    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    frames = images.shape[-1]
    starts = tile_starts(frames, tile_frames, tile_overlap)
    def run(chunk: Tensor) -> Tensor:
        return network(chunk.contiguous(memory_format=torch.channels_last))

    if len(starts) == 1:
        return torch.cat([run(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
    pieces = [(b, s) for b in range(len(images)) for s in starts]
    outputs: list[Tensor] = []
    for first in range(0, len(pieces), batch_size):
        chunk = torch.stack([images[b, :, :, s:s + tile_frames] for b, s in pieces[first:first + batch_size]])
        outputs.extend(run(chunk))
    per_image = len(starts)
    blended = [blend_tiles(outputs[b * per_image:(b + 1) * per_image], starts, frames, tile_overlap)
               for b in range(len(images))]
    return torch.stack(blended).to(images.device)


@dataclass
class NetworkOptions(CommonOptions):
    """Settings of a :class:`NetworkMethod`: the model, how content is tiled, seed and device."""

    model: str = setting("", help="Shipped model name or a model path.", control="model")
    tile_frames: int = setting(256, help="Frames per network pass over long content (the training length: 4 s).",
                               low=1)
    tile_overlap: int = setting(32, help="Frames where tiles overlap.", low=0)
    # tiles per network pass (one runs fastest per tile on CPU: it stays in cache)
    batch_size: int = setting(1, help="Tiles per network pass.", low=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_tiling(self.tile_frames, self.tile_overlap)


class NetworkMethod(TransferMethod):
    """A method that is one pass of a trained network over the content image, tiled over long sounds."""

    needs_style = False
    phase_init = "content"
    phase_iterations = FEEDFORWARD_PHASE_ITERATIONS
    keep_pitch = FEEDFORWARD_KEEP_PITCH
    Options = NetworkOptions

    def __init__(self, options: Any = None):
        super().__init__(options)
        self._model: nn.Module | None = None

    @property
    def model(self) -> nn.Module:
        """The network (loaded on first use)."""
        if self._model is None:
            from spectrostyle.store import load_named_model

            model = load_named_model(self.options.model, self.model_choice, device=self.device)
            self._model = model.to(memory_format=torch.channels_last)  # ~2x faster convolutions on CPU
        return self._model

    @property
    def spectrogram_config(self) -> SpectrogramConfig:
        return self.model.spectrogram

    def network(self) -> Callable[[Tensor], Tensor]:
        """What runs on each tile ``(b, 1, F, t) -> (b, 1, F, t)``: the model itself by default."""
        return self.model

    def style_refusal(self) -> str:
        """The message when a style sound is given."""
        return f"method '{self.name}' takes no style sound: its model is the style"

    def prepare_styles(self, styles: Sequence[Tensor]) -> list[Tensor]:
        if len(styles):
            raise InputError(self.style_refusal())
        return []

    def stylise_images(self, images: Tensor, styles: Any = (), *, progress: bool = False
                       ) -> tuple[Tensor, dict[str, list[float]]]:
        """``(B, 1, F, T)`` content images -> ``(B, 1, F, T)`` results, in tiles (see :func:`run_tiled`)."""
        o = self.options
        self.model.check_input(images)
        network = self.network()
        with torch.inference_mode():
            return run_tiled(network, images.to(self.device, torch.float32), tile_frames=o.tile_frames,
                             tile_overlap=o.tile_overlap, batch_size=o.batch_size), {}


@dataclass
class TranslationOptions(NetworkOptions):
    """Settings of a :class:`TranslationMethod`: ``direction`` ``a2b`` (the model's domain A to B, e.g. flute ->
    keyboard for ``flute-keyboard``) or ``b2a``."""

    model: str = setting("flute-keyboard", help="Generator name (e.g. flute-keyboard: domain A flute, B keyboard) "
                         "or a model path.", control="model")
    direction: str = setting("a2b", help="a2b: the model's domain A to B (flute -> keyboard for flute-keyboard), "
                             "b2a: back.", choices=DIRECTIONS, control="direction")


class TranslationMethod(NetworkMethod):
    """Instrument-to-instrument translation by a trained generator (the shipped model of ``model_kind`` named
    by ``options.model``, or a path) in ``options.direction``; no style sound: the model is the style."""

    Options = TranslationOptions
    page_order = 20
    one_way: ClassVar[bool] = False  # True: the model translates A to B only
    # the instrument is in the fine structure too: with the content's put back, the audio CNN hears the source family
    # again (shipped flute-keyboard models: 68 % of outputs heard as keyboard, 9 % with keep_pitch 0.5 or 1 up to
    # 3 kHz); pix2pix takes it in a narrow band around the fundamental
    keep_pitch = 0.0

    @classmethod
    def settings_for(cls, content_family: str, style_family: str) -> list[dict[str, Any]]:
        """A model ``X-Y`` translates X to Y (``a2b``) and, where both directions work, Y to X (``b2a``)."""
        found = [{"model": f"{content_family}-{style_family}", "direction": "a2b"}]
        if not cls.one_way:
            found.append({"model": f"{style_family}-{content_family}", "direction": "b2a"})
        return found

    def domains(self) -> tuple[str, str]:
        """(domain A, domain B) of the loaded model."""
        metadata = getattr(self.model, "metadata", {})
        return str(metadata.get("domain_a", "domain A")), str(metadata.get("domain_b", "domain B"))

    def style_refusal(self) -> str:
        a, b = self.domains()
        return (f"a {self.name} model translates between its domains ({a} and {b}) and takes no style sound; "
                "give none, and choose the --direction")

    def network(self) -> Callable[[Tensor], Tensor]:
        direction = self.options.direction
        return lambda images: self.model(images, direction)


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
