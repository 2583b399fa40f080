"""Transfer one sound or many: the ``transfer`` function behind the CLI, the web app and the Python API.

A method (:class:`~spectrostyle.methods.base.TransferMethod`) turns content images into result images; this
module does what is common to all: loading sounds, spectrogram config checks, preparing the styles once,
phase reconstruction, peak limiting, timing, and writing. :func:`transfer` makes one sound;
:func:`transfer_batch` many equal-length notes at once.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from spectrostyle.core.audio import load_audio, write_wav
from spectrostyle.core.errors import InputError
from spectrostyle.core.loudness import file_loudness, set_level
from spectrostyle.core.outputs import atomic_output, check_outputs, staged_outputs
from spectrostyle.core.spectrogram import (
    Spectrogram,
    SpectrogramConfig,
    griffin_lim,
    image_to_magnitude,
    magnitude_to_image,
    stft,
    stft_phase,
)
from spectrostyle.methods.base import PHASE_INITS, TransferMethod, to_batch
from spectrostyle.methods.registry import make_options, method_class

OUTPUT_PEAK = 0.98  # result audio is never louder than this (scaled down if needed)


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


Source = str | os.PathLike | np.ndarray | Spectrogram


def _load(source: Source, config: SpectrogramConfig, max_seconds: float, what: str
          ) -> tuple[Spectrogram, np.ndarray | None]:
    """The spectrogram of a source, and its audio ``(samples,)`` when the source was audio (None otherwise)."""
    if isinstance(source, Spectrogram):
        config.require_same(source.config, what)
        return source, None
    if isinstance(source, np.ndarray):
        audio = source
    else:
        audio = load_audio(source, sample_rate=config.sample_rate, max_seconds=max_seconds)
    return Spectrogram.from_audio(audio, config), audio


def _as_spectrogram(source: Source, config: SpectrogramConfig, max_seconds: float, what: str) -> Spectrogram:
    return _load(source, config, max_seconds, what)[0]


def _runner(method: str | TransferMethod, options: Any, settings: dict[str, Any]) -> TransferMethod:
    """A ready method object: ``method`` itself, or a new one of the named method from ``options``/settings."""
    if isinstance(method, TransferMethod):
        if options is not None or settings:
            raise InputError("settings go to the method object itself when transfer() is given one, not to "
                             f"transfer() (got {', '.join(sorted(settings)) or 'options'})")
        return method
    options = options if options is not None else make_options(method, **settings)
    return method_class(method)(options)


def _style_sources(style: Source | Sequence[Source] | None) -> list[Source]:
    return [] if style is None else list(style) if isinstance(style, list | tuple) else [style]


def _phase_settings(runner: TransferMethod, phase_iterations: int | None, phase_init: str | None
                    ) -> tuple[int, str]:
    n_iter = runner.phase_iterations if phase_iterations is None else phase_iterations
    init = phase_init or runner.phase_init
    if init not in PHASE_INITS:
        raise InputError(f"phase_init must be one of {', '.join(PHASE_INITS)}, got '{init}'")
    if n_iter < 0:
        raise InputError(f"phase_iterations must be >= 0, got {n_iter}")
    return n_iter, init


def transfer(content: Source, style: Source | Sequence[Source] | None = None,
             method: str | TransferMethod = "gatys", *, options: Any = None, phase_iterations: int | None = None,
             phase_init: str | None = None, max_seconds: float = 600.0, progress: bool = False,
             loudness: float | None = None, **settings: Any) -> TransferResult:
    """Blend ``content`` with ``style`` by ``method``; returns the audio and its spectrogram.

    ``content``/``style``: a path, mono audio ``(samples,)`` at the method's sample rate, or a
    :class:`Spectrogram`; ``style`` may be a list (methods that mix styles). ``method``: a registered name, with
    its settings as keyword arguments (e.g. ``steps=100``) or a ready ``options`` object; or a method object
    (e.g. ``FastMethod(options)``), which keeps its loaded models from call to call. ``phase_iterations`` and
    ``phase_init`` (``"content"``: Griffin-Lim warm-started from the content's phase; ``"random"``) default to
    the method's (:attr:`TransferMethod.phase_iterations`, :attr:`TransferMethod.phase_init`); a content given
    as a :class:`Spectrogram` has no phase, so its result starts from random phase. The result has the content's
    integrated loudness (BS.1770), or ``loudness`` (LUFS) when given, and a true peak of at most -1 dBTP
    (:func:`~spectrostyle.core.loudness.set_level`); a content given as a :class:`Spectrogram` gives no loudness to
    match, so only the ceiling (and ``loudness``) apply.
    """
    started = time.perf_counter()
    runner = _runner(method, options, settings)
    n_iter, init = _phase_settings(runner, phase_iterations, phase_init)
    config = runner.spectrogram_config
    content_spec, content_audio = _load(content, config, max_seconds, "content")
    style_sources = _style_sources(style)
    if runner.needs_style and not style_sources:
        raise InputError(f"method '{runner.name}' needs a style sound (--style)")
    style_specs = [_as_spectrogram(s, config, max_seconds, "style") for s in style_sources]
    prepared = runner.prepare_styles([to_batch(s, runner.device) for s in style_specs])
    images, history = runner.stylise_images(to_batch(content_spec, runner.device), prepared, progress=progress)
    image = images[0, 0].detach().cpu().clamp(0, 1)
    result_spec = Spectrogram(image=image, gain_db=content_spec.gain_db, num_samples=content_spec.num_samples,
                              config=config)
    if init == "content" and content_audio is None:
        init = "random"
    start: str | Tensor = init
    if init == "content":
        start = stft_phase(torch.as_tensor(np.asarray(content_audio, dtype=np.float32)), config,
                           num_frames=image.shape[-1])
    audio = result_spec.to_audio(n_iter=n_iter, seed=runner.options.seed, init=start)
    target = loudness
    if target is None and isinstance(content, str | os.PathLike):
        # the file's loudness as the user hears it (stereo, full band), not that of its 16 kHz mono mix: a stereo
        # file's mono mix reads 3 LU quieter, and its band above 8 kHz counts in BS.1770's K-weighting
        target = file_loudness(content)
    audio = set_level(audio, config.sample_rate, reference=content_audio, target_lufs=target)
    settings_record = dataclasses.asdict(runner.options)
    settings_record.update(phase_iterations=n_iter, phase_init=init, loudness=loudness)
    return TransferResult(audio=audio, spectrogram=result_spec, method=runner.name, settings=settings_record,
                          history=history, seconds=time.perf_counter() - started, content=content_spec,
                          styles=style_specs)


def transfer_batch(contents: np.ndarray | Tensor, style: Source | Sequence[Source] | None = None,
                   method: str | TransferMethod = "fast", *, options: Any = None, phase_iterations: int | None = None,
                   phase_init: str | None = None, chunk_size: int = 1, workers: int | None = None,
                   max_seconds: float = 600.0, loudness: float | None = None, **settings: Any) -> np.ndarray:
    """Many equal-length sounds at once, each blended with the same style: ``contents`` ``(B, samples)`` mono at
    the method's sample rate -> ``(B, samples)`` float32 (each at its content's loudness, or ``loudness``, as in
    :func:`transfer`).

    The steps of :func:`transfer` (one STFT gives each note's image, level and phase), with the style prepared
    once (:meth:`TransferMethod.prepare_styles`) and the notes taken ``chunk_size`` at a time through the whole
    pipeline (:meth:`TransferMethod.stylise_images`, Griffin-Lim) on ``workers`` threads of one torch thread each
    (default: as many as torch's threads, on CPU). On CPU this beats one big batch: a note's tensors stay in
    cache, and notes side by side use the cores better than one note's small operations split among them.
    """
    runner = _runner(method, options, settings)
    n_iter, init = _phase_settings(runner, phase_iterations, phase_init)
    config = runner.spectrogram_config  # loads the models before any thread starts
    audio = contents.float() if isinstance(contents, Tensor) else torch.as_tensor(np.asarray(contents, np.float32))
    if audio.ndim != 2 or audio.shape[0] < 1:
        raise InputError(f"contents should be a (notes, samples) array, got shape {tuple(audio.shape)}")
    if chunk_size < 1:
        raise InputError(f"chunk_size must be >= 1, got {chunk_size}")
    style_sources = _style_sources(style)
    if runner.needs_style and not style_sources:
        raise InputError(f"method '{runner.name}' needs a style sound")
    device = runner.device
    style_images = [to_batch(_as_spectrogram(s, config, max_seconds, "style"), device) for s in style_sources]
    prepared = runner.prepare_styles(style_images)
    seed = runner.options.seed

    def chunk(first: int) -> np.ndarray:
        part = audio[first:first + chunk_size]  # (b, samples)
        with torch.no_grad():
            spectra = stft(part, config)[:, : config.n_freq]  # (b, F, T) complex, Nyquist dropped
            images, gains = magnitude_to_image(spectra.abs(), config)
            results = runner.stylise_images(images.unsqueeze(1).to(device), prepared)[0].detach().cpu().clamp(0, 1)
            magnitudes = image_to_magnitude(results[:, 0], config, gains)
            start = torch.angle(spectra) if init == "content" else "random"
            out = griffin_lim(magnitudes, config, n_iter=n_iter, init=start, seed=seed + first,
                              num_samples=part.shape[-1])
        return np.stack([set_level(row, config.sample_rate, reference=content.numpy(), target_lufs=loudness)
                         for row, content in zip(out.numpy(), part, strict=True)])

    if workers is None:
        workers = torch.get_num_threads() if torch.device(device).type == "cpu" else 1
    return np.concatenate(_map_on_threads(chunk, list(range(0, len(audio), chunk_size)), workers))


def _map_on_threads(function: Callable[[Any], Any], items: Sequence[Any], workers: int) -> list[Any]:
    """``[function(item) for item in items]`` on ``workers`` threads, each running torch with one thread."""
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    threads = torch.get_num_threads()
    try:
        with ThreadPoolExecutor(min(workers, len(items)), initializer=torch.set_num_threads, initargs=(1,)) as pool:
            return list(pool.map(function, items))
    finally:
        torch.set_num_threads(threads)  # a worker's setting becomes the default of new threads too: restore it


def limit_peak(audio: np.ndarray, peak: float = OUTPUT_PEAK) -> np.ndarray:
    """Scale ``audio`` down if its peak exceeds ``peak``. The result image keeps the content's gain, so the
    reconstruction already sits at the content's level; this only prevents clipping."""
    current = float(np.abs(audio).max()) if audio.size else 0.0
    if current <= peak:
        return audio.astype(np.float32)
    return (audio * (peak / current)).astype(np.float32)


def save_result(result: TransferResult, out_wav: str | os.PathLike, *, png: str | os.PathLike | None = None,
                report_json: str | os.PathLike | None = None, inputs: Sequence[str | os.PathLike] = (),
                overwrite: bool = True) -> None:
    """Write the WAV, optionally a PNG of content | style | result spectrograms and a JSON of settings and
    loss curves. Every output path is checked before anything is written (an existing file is refused unless
    ``overwrite``); all of them are written to temporary files and renamed together at the end, so an interrupted
    save leaves none of them changed."""
    outputs = check_outputs([out_wav, png, report_json], inputs, overwrite=overwrite)
    with staged_outputs(*outputs) as temporaries:
        write_wav(temporaries[0], result.audio, sample_rate=result.spectrogram.config.sample_rate)
        rest = iter(temporaries[1:])
        if png is not None:
            comparison_png(result, next(rest), atomic=False)
        if report_json is not None:
            record = {"method": result.method, "settings": result.settings, "seconds": result.seconds,
                      "spectrogram": result.spectrogram.metadata(), "history": result.history,
                      "inputs": [str(p) for p in inputs]}
            next(rest).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def comparison_png(result: TransferResult, path: Path, *, atomic: bool = True) -> Path:
    """Content, style(s) and result spectrograms side by side (low frequencies at the bottom); ``atomic=False``
    writes straight to ``path`` (a temporary file of :class:`~spectrostyle.core.outputs.staged_outputs`)."""
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
    try:
        if atomic:
            with atomic_output(path) as tmp:
                figure.savefig(tmp, format="png", dpi=100)
        else:
            figure.savefig(path, format="png", dpi=100)
    finally:
        plt.close(figure)
    return path
