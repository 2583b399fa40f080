"""What the feed-forward methods share at inference: one network pass, tiled over long sounds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from spectrostyle.core.device import resolve_device
from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig
from spectrostyle.core.vocabulary import DIRECTIONS
from spectrostyle.methods.base import TransferMethod
from spectrostyle.methods.gatys import blend_tiles, tile_starts

# Griffin-Lim iterations for feed-forward results, warm-started from the content's phase (chosen by measuring
# spectral convergence against iterations: benchmarks/bench_fast.py)
FEEDFORWARD_PHASE_ITERATIONS = 8


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
class NetworkOptions:
    """Settings of a :class:`NetworkMethod`: the model, how content is tiled, seed and device."""

    model: str = ""  # shipped model name or a model path
    tile_frames: int = 256  # the training length: 4 s notes
    tile_overlap: int = 32
    batch_size: int = 1  # tiles per network pass (one runs fastest per tile on CPU: it stays in cache)
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_tiling(self.tile_frames, self.tile_overlap)
        if self.batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {self.batch_size}")


class NetworkMethod(TransferMethod):
    """A method that runs one trained network over the content, in tiles (see :func:`run_tiled`): the shipped
    model of ``model_kind`` named by ``options.model`` (or a model path), loaded on first use. The network is the
    style: style sounds are refused (:meth:`style_refusal` says why)."""

    model_kind: ClassVar[str] = ""
    needs_style = False
    phase_init = "content"
    phase_iterations = FEEDFORWARD_PHASE_ITERATIONS
    Options = NetworkOptions

    def __init__(self, options: Any = None):
        super().__init__(options)
        self.device = resolve_device(self.options.device)
        self._model: nn.Module | None = None

    @property
    def model(self) -> nn.Module:
        """The network (loaded on first use)."""
        if self._model is None:
            from spectrostyle.store import load_named_model

            model = load_named_model(self.options.model, self.model_kind, device=self.device)
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

    def stylise(self, content: Spectrogram, styles: Sequence[Spectrogram], *, progress: bool = False
                ) -> tuple[Tensor, dict[str, list[float]]]:
        self.spectrogram_config.require_same(content.config, "content")
        image = self.stylise_batch(content.image.to(self.device, torch.float32)[None, None], styles)
        return image[0, 0].cpu(), {}

    def stylise_batch(self, images: Tensor, styles: Sequence[Any] = ()) -> Tensor:
        """``(B, 1, F, T)`` content images -> ``(B, 1, F, T)`` results, in tiles (see :func:`run_tiled`)."""
        if len(styles):
            raise InputError(self.style_refusal())
        o = self.options
        self.model.check_input(images)
        network = self.network()
        with torch.inference_mode():
            return run_tiled(network, images.to(self.device, torch.float32), tile_frames=o.tile_frames,
                             tile_overlap=o.tile_overlap, batch_size=o.batch_size)


@dataclass
class TranslationOptions(NetworkOptions):
    """Settings of a :class:`TranslationMethod`: ``direction`` ``a2b`` (the model's domain A to B, e.g. flute ->
    keyboard for ``flute-keyboard``) or ``b2a``."""

    model: str = "flute-keyboard"
    direction: str = "a2b"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.direction not in DIRECTIONS:
            raise InputError(f"direction must be one of {', '.join(DIRECTIONS)}, got '{self.direction}'")


class TranslationMethod(NetworkMethod):
    """Instrument-to-instrument translation by a trained generator (the shipped model of ``model_kind`` named
    by ``options.model``, or a path) in ``options.direction``; no style sound: the model is the style."""

    Options = TranslationOptions

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
