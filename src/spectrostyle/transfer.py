"""The one interface every transfer method plugs into, and the ``transfer`` function behind CLI and API.

A method is a class with a ``name``, a ``needs_style`` flag, an ``Options`` dataclass of its settings, and
``stylise(content, styles, progress) -> (image, history)`` working on :class:`Spectrogram` images. This module
does what is common: loading, config checks, phase reconstruction, level matching, timing, and writing.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from spectrostyle.audio import atomic_output, check_output_path, load_audio, save_audio
from spectrostyle.errors import InputError
from spectrostyle.phase import DEFAULT_ITERATIONS
from spectrostyle.spectrogram import Spectrogram, SpectrogramConfig

# name -> "module:Class"; the Fast, AdaIN, CycleGAN and pix2pix methods add themselves here.
METHODS: dict[str, str] = {
    "gatys": "spectrostyle.gatys:GatysMethod",
}
OUTPUT_PEAK = 0.98  # result audio is never louder than this (scaled down if needed)


class TransferMethod:
    """Base class of transfer methods (see module docstring)."""

    name: ClassVar[str] = ""
    needs_style: ClassVar[bool] = True

    @dataclass
    class Options:
        seed: int = 0
        device: str = "cpu"

    def __init__(self, options: Any = None):
        self.options = options if options is not None else self.Options()

    def stylise(self, content: Spectrogram, styles: Sequence[Spectrogram], *, progress: bool = False
                ) -> tuple[Tensor, dict[str, list[float]]]:
        """The result image ``(F, T)`` in [0, 1] (T of the content) and loss curves by name."""
        raise NotImplementedError

    @property
    def spectrogram_config(self) -> SpectrogramConfig:
        """The spectrogram config this method's models were made for."""
        return SpectrogramConfig()


def method_class(name: str) -> type[TransferMethod]:
    """The class of a registered method; unknown names list the valid ones."""
    if name not in METHODS:
        raise InputError(f"unknown method '{name}'; choose from: {', '.join(METHODS)}")
    module_name, class_name = METHODS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def make_options(name: str, **settings: Any) -> Any:
    """The method's ``Options`` filled from keyword settings; unknown settings are refused by name."""
    options_class = method_class(name).Options
    known = {f.name for f in dataclasses.fields(options_class)}
    unknown = sorted(k for k in settings if k not in known)
    if unknown:
        raise InputError(f"method '{name}' has no setting(s) {', '.join(unknown)}; "
                         f"it takes: {', '.join(sorted(known))}")
    return options_class(**settings)


@dataclass
class TransferResult:
    """What a transfer made: ``audio`` ``(samples,)`` float32 at ``spectrogram.config.sample_rate``."""

    audio: np.ndarray
    spectrogram: Spectrogram
    method: str
    settings: dict[str, Any]
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    content: Spectrogram | None = None
    styles: list[Spectrogram] = field(default_factory=list)


def _as_spectrogram(source: str | os.PathLike | np.ndarray | Spectrogram, config: SpectrogramConfig,
                    max_seconds: float, what: str) -> Spectrogram:
    if isinstance(source, Spectrogram):
        config.require_same(source.config, what)
        return source
    if isinstance(source, np.ndarray):
        return Spectrogram.from_audio(source, config)
    return Spectrogram.from_audio(load_audio(source, sample_rate=config.sample_rate, max_seconds=max_seconds),
                                  config)


def transfer(content: str | os.PathLike | np.ndarray | Spectrogram,
             style: str | os.PathLike | np.ndarray | Spectrogram | Sequence | None = None,
             method: str = "gatys", *, options: Any = None, phase_iterations: int = DEFAULT_ITERATIONS,
             max_seconds: float = 600.0, progress: bool = False, **settings: Any) -> TransferResult:
    """Blend ``content`` with ``style`` by ``method``; returns the audio and its spectrogram.

    ``content``/``style``: a path, mono audio ``(samples,)`` at the method's sample rate, or a
    :class:`Spectrogram`; ``style`` may be a list (methods that mix styles). Method settings come as keyword
    arguments (e.g. ``steps=100``) or a ready ``options`` object.
    """
    started = time.perf_counter()
    cls = method_class(method)
    options = options if options is not None else make_options(method, **settings)
    runner = cls(options)
    config = runner.spectrogram_config
    content_spec = _as_spectrogram(content, config, max_seconds, "content")
    style_sources = [] if style is None else list(style) if isinstance(style, list | tuple) else [style]
    if cls.needs_style and not style_sources:
        raise InputError(f"method '{method}' needs a style sound (--style)")
    style_specs = [_as_spectrogram(s, config, max_seconds, "style") for s in style_sources]
    image, history = runner.stylise(content_spec, style_specs, progress=progress)
    image = image.detach().cpu().clamp(0, 1)
    result_spec = Spectrogram(image=image, gain_db=content_spec.gain_db, num_samples=content_spec.num_samples,
                              config=config)
    audio = result_spec.to_audio(n_iter=phase_iterations, seed=getattr(options, "seed", 0))
    audio = limit_peak(audio)
    settings_record = dataclasses.asdict(options)
    settings_record["phase_iterations"] = phase_iterations
    return TransferResult(audio=audio, spectrogram=result_spec, method=method, settings=settings_record,
                          history=history, seconds=time.perf_counter() - started, content=content_spec,
                          styles=style_specs)


def limit_peak(audio: np.ndarray, peak: float = OUTPUT_PEAK) -> np.ndarray:
    """Scale ``audio`` down if its peak exceeds ``peak``. The result image keeps the content's gain, so the
    reconstruction already sits at the content's level; this only prevents clipping."""
    current = float(np.abs(audio).max()) if audio.size else 0.0
    if current <= peak:
        return audio.astype(np.float32)
    return (audio * (peak / current)).astype(np.float32)


def save_result(result: TransferResult, out_wav: str | os.PathLike, *, png: str | os.PathLike | None = None,
                report_json: str | os.PathLike | None = None, inputs: Sequence[str | os.PathLike] = ()) -> None:
    """Write the WAV, optionally a PNG of content | style | result spectrograms and a JSON of settings and
    loss curves. Every output path is checked before anything is written; each file is written atomically."""
    outputs = [Path(p) for p in (out_wav, png, report_json) if p is not None]
    if len({p.resolve() for p in outputs}) != len(outputs):
        raise InputError("the WAV, PNG and JSON outputs must be different files")
    for path in outputs:
        check_output_path(path, inputs)
    save_audio(out_wav, result.audio, sample_rate=result.spectrogram.config.sample_rate, inputs=inputs)
    if png is not None:
        comparison_png(result, Path(png))
    if report_json is not None:
        record = {"method": result.method, "settings": result.settings, "seconds": result.seconds,
                  "spectrogram": result.spectrogram.metadata(), "history": result.history,
                  "inputs": [str(p) for p in inputs]}
        with atomic_output(Path(report_json)) as tmp:
            tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def comparison_png(result: TransferResult, path: Path) -> Path:
    """Content, style(s) and result spectrograms side by side (low frequencies at the bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    panels = ([("content", result.content)] if result.content is not None else []) + \
        [(f"style {i + 1}" if len(result.styles) > 1 else "style", s) for i, s in enumerate(result.styles)] + \
        [(f"result ({result.method})", result.spectrogram)]
    figure, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False)
    for axis, (title, spec) in zip(axes[0], panels, strict=True):
        seconds = spec.image.shape[1] * spec.config.hop_length / spec.config.sample_rate
        axis.imshow(spec.image.numpy(), origin="lower", aspect="auto", cmap="gray", vmin=0, vmax=1,
                    extent=(0, seconds, 0, spec.config.sample_rate / 2000))
        axis.set_title(title)
        axis.set_xlabel("time (s)")
    axes[0][0].set_ylabel("frequency (kHz)")
    figure.tight_layout()
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
    return path


def to_batch(spec: Spectrogram, device: torch.device) -> Tensor:
    """A spectrogram's image as a ``(1, 1, F, T)`` float32 batch on ``device``."""
    return spec.image.to(device, torch.float32)[None, None]
