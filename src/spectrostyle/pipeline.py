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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from spectrostyle.core.audio import (
    MAX_PROCESSING_RATE,
    CrossFaded,
    Recording,
    check_output_format,
    file_format,
    mono_at,
    output_container,
    read_audio,
    write_audio,
)
from spectrostyle.core.device import default_workers, on_threads
from spectrostyle.core.errors import InputError
from spectrostyle.core.loudness import integrated_loudness, set_level
from spectrostyle.core.outputs import atomic_output, check_outputs, staged_outputs
from spectrostyle.core.shaping import spectral_balance, with_content_pitch, with_style_balance
from spectrostyle.core.spectrogram import (
    Spectrogram,
    SpectrogramConfig,
    griffin_lim,
    image_to_magnitude,
    magnitude,
    magnitude_to_image,
    stft,
    stft_phase,
)
from spectrostyle.core.studio import follow_edges, high_band_profile, studio_audio
from spectrostyle.methods.base import PHASE_INITS, TransferMethod, to_batch
from spectrostyle.methods.registry import make_options, method_class

LONG_SECONDS = 60.0  # a content longer than this goes through in segments (bounded memory)
SEGMENT_SECONDS, SEGMENT_OVERLAP_S = 10.0, 0.5  # the segments, and how long neighbours overlap to be cross-faded
TRANSIENTS = 1.0  # how closely a result's attacks and gaps follow its content's, by default (0..1)


@dataclass
class TransferResult:
    """What a transfer made.

    ``output`` ``(samples, channels)`` float32 at ``output_rate`` Hz is the result as it is written: the content
    file's rate and channels (or those asked for), its band above the model's made to follow the style
    (:mod:`spectrostyle.core.studio`), to be stored at ``output_bit_depth``. ``audio`` ``(samples,)`` float32 at
    ``spectrogram.config.sample_rate`` is the method's own mono result, which the experiment's metrics measure.
    """

    audio: np.ndarray
    spectrogram: Spectrogram
    method: str
    settings: dict[str, Any]
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    content: Spectrogram | None = None
    styles: list[Spectrogram] = field(default_factory=list)
    output: np.ndarray | None = None
    output_rate: int = 0
    output_bit_depth: str = "16"

    def __post_init__(self) -> None:
        if self.output is None:
            self.output = np.asarray(self.audio, dtype=np.float32)[:, None]
            self.output_rate = self.spectrogram.config.sample_rate


Source = str | os.PathLike | np.ndarray | Spectrogram | Recording


@dataclass
class _Loaded:
    """A source as the pipeline uses it: its spectrogram; its mono audio at the model's rate (None for a
    spectrogram); and, for a file, the recording as it is: ``(samples, channels)`` at ``rate``, ``bit_depth``."""

    spectrogram: Spectrogram
    audio: np.ndarray | None = None
    recording: np.ndarray | None = None
    rate: int = 0
    bit_depth: str = "16"


def _load(source: Source, config: SpectrogramConfig, max_seconds: float, what: str) -> _Loaded:
    if isinstance(source, Spectrogram):
        config.require_same(source.config, what)
        return _Loaded(source)
    if isinstance(source, np.ndarray):
        return _Loaded(Spectrogram.from_audio(source, config), source)
    if isinstance(source, Recording):
        samples = np.asarray(source.samples, dtype=np.float32).reshape(len(source.samples), -1)
        if not len(samples) or not np.isfinite(samples).all() or len(samples) / source.sample_rate > max_seconds:
            raise InputError(f"the {what} recording is empty, longer than {max_seconds:g} s, or not finite")
        audio = mono_at(samples, source.sample_rate, config.sample_rate, what=f"the {what} recording")
        return _Loaded(Spectrogram.from_audio(audio, config), audio, samples, source.sample_rate, source.bit_depth)
    recording, rate = read_audio(source, max_seconds=max_seconds)
    audio = mono_at(recording, rate, config.sample_rate, what=f"'{source}'")
    return _Loaded(Spectrogram.from_audio(audio, config), audio, recording, rate, file_format(source).bit_depth)


@dataclass
class PreparedStyles:
    """Style sounds made ready once for many transfers by one method object (:func:`prepare_styles`): what the
    method needs of them, their spectrograms, and their high band (:func:`~spectrostyle.core.studio.high_band_profile`,
    averaged) and spectral balance (:func:`~spectrostyle.core.shaping.spectral_balance`, averaged)."""

    method: TransferMethod
    prepared: Any
    spectrograms: list[Spectrogram]
    high_band: np.ndarray | None
    balance: np.ndarray | None = None


def prepare_styles(method: TransferMethod, style: Source | Sequence[Source] | None, *,
                   max_seconds: float = 600.0) -> PreparedStyles:
    """Load ``style`` (one source or several) and make it ready for ``method``: pass the result as ``style`` to
    :func:`transfer` with the same method object to skip this work for every content."""
    config = method.spectrogram_config
    sources = _style_sources(style)
    if method.needs_style and not sources:
        raise InputError(f"method '{method.name}' needs a style sound (--style)")
    loaded = [_load(s, config, max_seconds, "style") for s in sources]
    prepared = method.prepare_styles([to_batch(s.spectrogram, method.device) for s in loaded])
    model_rate = config.sample_rate
    weights = method.style_weights(len(loaded))  # the styles' mix, as the method mixes them
    high_band = np.average([_high_band(s, model_rate) for s in loaded], axis=0, weights=weights) if loaded else None
    balance = np.average([spectral_balance(s.spectrogram.image, -config.db_floor) for s in loaded], axis=0,
                         weights=weights) if loaded else None
    return PreparedStyles(method, prepared, [s.spectrogram for s in loaded], high_band, balance)


def _high_band(source: _Loaded, model_rate: int) -> np.ndarray:
    """A source's high band as band extension uses it (none above the model's band for a source given at the model's
    rate or as a spectrogram)."""
    if source.recording is not None:
        return high_band_profile(source.recording, source.rate, model_rate)
    audio = source.audio if source.audio is not None else np.zeros(model_rate, dtype=np.float32)
    return high_band_profile(audio, model_rate, model_rate)


def _as_spectrogram(source: Source, config: SpectrogramConfig, max_seconds: float, what: str) -> Spectrogram:
    return _load(source, config, max_seconds, what).spectrogram


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
             loudness: float | None = None, output_rate: int | None = None, output_channels: int | None = None,
             transients: float = TRANSIENTS, keep_pitch: float | None = None, balance: float | None = None,
             **settings: Any) -> TransferResult:
    """Blend ``content`` with ``style`` by ``method``; returns the audio and its spectrogram.

    ``content``/``style``: a path, a :class:`~spectrostyle.core.audio.Recording` (a file's samples in memory), mono
    audio ``(samples,)`` at the method's sample rate, or a :class:`Spectrogram`; ``style`` may be a list (methods that
    mix styles). ``method``: a registered name, with its settings as keyword arguments (e.g. ``steps=100``) or a ready
    ``options`` object; or a method object (e.g. ``FastMethod(options)``), which keeps its loaded models from call to
    call. ``phase_iterations`` and ``phase_init`` (``"content"``: Griffin-Lim warm-started from the content's phase;
    ``"random"``) default to the method's (:attr:`TransferMethod.phase_iterations`,
    :attr:`TransferMethod.phase_init`); a content given as a :class:`Spectrogram` has no phase, so its result starts
    from random phase.

    The result's ``output`` has the content file's sample rate and channels (``output_rate`` Hz and
    ``output_channels`` override; an array or spectrogram content gives the method's rate, mono), its band above the
    model's following the styles' (:func:`~spectrostyle.core.studio.studio_audio`), the content's integrated
    loudness (BS.1770) or ``loudness`` (LUFS) when given, and a true peak of at most -1 dBTP
    (:func:`~spectrostyle.core.loudness.set_level`). ``transients`` (0..1): how closely its attacks and gaps follow
    the content's (:func:`~spectrostyle.core.studio.follow_transients`; 0 leaves the method's own). ``keep_pitch``
    (0..1): how much of the content's harmonic fine structure replaces the result's (its pitch; the result keeps its
    spectral envelope, :func:`~spectrostyle.core.shaping.with_content_pitch`); default the method's
    (:attr:`TransferMethod.keep_pitch`: 1 for Fast and AdaIN, 0 for the others). ``balance`` (0..1): how far the
    result's spectral balance moves toward the styles' (:func:`~spectrostyle.core.shaping.with_style_balance`);
    default the method's (:meth:`TransferMethod.balance_share`: 1 for Slow, AdaIN's alpha (none along a curve), 0 for
    methods whose model is the style).
    """
    started = time.perf_counter()
    runner = _runner(method, options, settings)
    n_iter, init = _phase_settings(runner, phase_iterations, phase_init)
    keep_pitch = runner.keep_pitch if keep_pitch is None else keep_pitch
    balance = runner.balance_share() if balance is None else balance
    config = runner.spectrogram_config
    loaded = _load(content, config, max_seconds, "content")
    content_spec = loaded.spectrogram
    if isinstance(style, PreparedStyles):
        if style.method is not runner:
            raise InputError("prepared styles belong to the method object they were prepared by; pass that object")
        styles = style
    else:
        styles = prepare_styles(runner, style, max_seconds=max_seconds)
    if init == "content" and loaded.audio is None:
        init = "random"
    # the content's loudness as the user hears it (its own rate and channels, full band), not that of its 16 kHz
    # mono mix: a stereo file's mono mix reads 3 LU quieter, and its band above 8 kHz counts in BS.1770's K-weighting
    target = loudness if loudness is not None or loaded.recording is None else \
        integrated_loudness(loaded.recording, loaded.rate)
    parts = _segments(loaded, config)
    bar = tqdm(parts, desc=f"transfer ({runner.name})", unit="part", disable=not progress or len(parts) == 1)
    seconds = len(loaded.recording) / loaded.rate if loaded.recording is not None else content_spec.duration
    raw, output, history, rate = None, None, {}, config.sample_rate
    image = torch.zeros_like(content_spec.image) if len(parts) > 1 else None
    filled = 0
    for part in bar:  # each segment's image and audio go into the whole as they are made: one is held at a time
        made = _transfer_segment(runner, part, styles, n_iter, init, output_rate, output_channels, transients,
                                 (keep_pitch, balance), progress=progress and len(parts) == 1)
        if image is None:
            image = made.image
        else:
            width = min(made.image.shape[-1], image.shape[-1] - filled)
            image[:, filled:filled + width] = made.image[:, :width]
            filled += width
        history = made.history if len(parts) == 1 else {}
        raw = raw or CrossFaded(content_spec.num_samples, round(SEGMENT_OVERLAP_S * config.sample_rate), made.raw)
        raw.add(made.raw)
        if made.output is not None:
            rate = made.rate
            output = output or CrossFaded(round(seconds * rate) if len(parts) > 1 else len(made.output),
                                       round(SEGMENT_OVERLAP_S * rate), made.output)
            output.add(made.output)
    result_spec = Spectrogram(image=image, gain_db=content_spec.gain_db, num_samples=content_spec.num_samples,
                              config=config)
    reference, bit_depth = (loaded.audio if target is None else None), loaded.bit_depth
    if loaded.audio is not None:  # no step at the file's edges that the content does not have
        follow_edges(raw.audio, loaded.audio, config.sample_rate)
        if output is not None:
            follow_edges(output.audio, loaded.audio if loaded.recording is None else loaded.recording, rate)
    del loaded, parts, part, made, bar  # the recording (segments are views of it); levels are set in our own buffers
    audio = set_level(raw.audio, config.sample_rate, reference=reference, target_lufs=target, in_place=True)
    output = None if output is None else set_level(output.audio, rate, target_lufs=target, in_place=True)
    settings_record = dataclasses.asdict(runner.options)
    settings_record.update(phase_iterations=n_iter, phase_init=init, loudness=loudness, output_rate=output_rate,
                           output_channels=output_channels, transients=transients, keep_pitch=keep_pitch,
                           balance=balance)
    return TransferResult(audio=audio, spectrogram=result_spec, method=runner.name, settings=settings_record,
                          history=history, seconds=time.perf_counter() - started, content=content_spec,
                          styles=styles.spectrograms, output=output, output_rate=rate,
                          output_bit_depth=bit_depth)


@dataclass
class _Part:
    """One segment of a content as :func:`transfer` goes through it: its spectrogram, its mono audio at the model's
    rate and its recording (what :class:`_Loaded` holds for the whole)."""

    loaded: _Loaded
    frames: int  # the frames of the result image this segment gives (its overlap with the next one left out)


def _pitch_and_balance(runner: TransferMethod, image: Tensor, content: Tensor, style_balance: np.ndarray | None,
                       strengths: tuple[float, float]) -> Tensor:
    """A result image ``(F, T)`` of ``runner`` with the content's pitch (:func:`with_content_pitch`, in the method's
    band) and the styles' spectral balance (:func:`with_style_balance`) at ``strengths``."""
    config = runner.spectrogram_config
    bin_hz = config.sample_rate / config.n_fft
    image = with_content_pitch(image, content, strengths[0], bin_hz=bin_hz, band_hz=runner.pitch_band_hz)
    return with_style_balance(image, style_balance, strengths[1], -config.db_floor, bin_hz=bin_hz,
                              limit_db=runner.balance_limit_db)


@dataclass
class _Made:
    image: Tensor
    raw: np.ndarray
    output: np.ndarray | None
    rate: int
    history: dict[str, list[float]]


def _segments(loaded: _Loaded, config: SpectrogramConfig) -> list[_Part]:
    """The content in segments of :data:`SEGMENT_SECONDS` overlapping by :data:`SEGMENT_OVERLAP_S` (a content up to
    :data:`LONG_SECONDS`, or given as a spectrogram, whole), their images at the whole content's gain: a long file
    goes through the method, phase reconstruction and the studio stage a segment at a time, in bounded memory."""
    rate = config.sample_rate
    if loaded.audio is None or len(loaded.audio) <= LONG_SECONDS * rate:
        return [_Part(loaded, loaded.spectrogram.image.shape[-1])]
    hop = config.hop_length * round(SEGMENT_SECONDS * rate / config.hop_length)  # whole frames: images line up
    overlap = round(SEGMENT_OVERLAP_S * rate)
    parts = []
    for start in range(0, len(loaded.audio), hop):
        end = min(len(loaded.audio), start + hop + overlap)
        audio = loaded.audio[start:end]
        image, _ = magnitude_to_image(magnitude(torch.as_tensor(audio), config), config, loaded.spectrogram.gain_db)
        spectrogram = Spectrogram(image=image, gain_db=loaded.spectrogram.gain_db, num_samples=len(audio),
                                  config=config)
        recording = None
        if loaded.recording is not None:
            first, last = (round(i * loaded.rate / rate) for i in (start, end))
            recording = loaded.recording[first:last]
        frames = min(hop // config.hop_length, image.shape[-1]) if end < len(loaded.audio) else image.shape[-1]
        parts.append(_Part(_Loaded(spectrogram, audio, recording, loaded.rate, loaded.bit_depth), frames))
        if end == len(loaded.audio):
            break
    return parts


def _transfer_segment(runner: TransferMethod, part: _Part, styles: PreparedStyles, n_iter: int, init: str,
                      output_rate: int | None, output_channels: int | None, transients: float,
                      pitch_and_balance: tuple[float, float], *, progress: bool) -> _Made:
    """One segment through the method, the content's pitch and the styles' balance (``pitch_and_balance``: their
    strengths), phase reconstruction and the studio stage (levels are set on the whole)."""
    config = runner.spectrogram_config
    loaded = part.loaded
    batch = to_batch(loaded.spectrogram, runner.device)
    images, history = runner.stylise_images(batch, styles.prepared, progress=progress)
    image = images[0, 0].detach().cpu().clamp(0, 1)
    image = _pitch_and_balance(runner, image, batch[0, 0, :, : image.shape[-1]].cpu(), styles.balance,
                               pitch_and_balance)
    result_spec = Spectrogram(image=image, gain_db=loaded.spectrogram.gain_db,
                              num_samples=loaded.spectrogram.num_samples, config=config)
    start: str | Tensor = init
    if init == "content":
        start = stft_phase(torch.as_tensor(np.asarray(loaded.audio, dtype=np.float32)), config,
                           num_frames=image.shape[-1])
    raw = result_spec.to_audio(n_iter=n_iter, seed=runner.options.seed, init=start)
    output, rate = _studio_output(raw, runner, loaded, styles, output_rate, output_channels, transients)
    return _Made(image[:, : part.frames], raw, output, rate, history)


def _studio_output(raw: np.ndarray, runner: TransferMethod, content: _Loaded, styles: PreparedStyles,
                   output_rate: int | None, output_channels: int | None, transients: float
                   ) -> tuple[np.ndarray | None, int]:
    """The result ``raw`` ``(samples,)`` at the model's rate in the output's rate and channels, full band; None (the
    method's mono result stands) for an array or spectrogram content with no rate or channels asked for."""
    model_rate = runner.spectrogram_config.sample_rate
    if content.recording is None and output_rate is None and output_channels is None:
        return None, model_rate
    if output_rate is not None and output_rate < 1 or output_channels is not None and output_channels < 1:
        raise InputError(f"the output's rate and channels must be positive, got {output_rate} Hz, "
                         f"{output_channels} channels")
    rate = output_rate or content.rate or model_rate
    channels = output_channels or (content.recording.shape[1] if content.recording is not None else 1)
    num_samples = round(len(content.recording) * rate / content.rate) if content.recording is not None else None
    share = runner.style_share() if styles.high_band is not None else 0.0  # the rest is the content's own high band
    if content.recording is not None:
        layout, layout_rate = content.recording, content.rate
    else:  # an array content: its mono audio at the model's rate gives the time structure
        layout, layout_rate = (None, None) if content.audio is None else (content.audio[:, None], model_rate)
    output = studio_audio(raw, model_rate, sample_rate=rate, channels=channels, content=layout,
                          content_rate=layout_rate, profile=styles.high_band, content_share=1.0 - share,
                          num_samples=num_samples,
                          max_processing_rate=MAX_PROCESSING_RATE, transients=transients)
    return output, rate


def transfer_batch(contents: np.ndarray | Tensor, style: Source | Sequence[Source] | None = None,
                   method: str | TransferMethod = "fast", *, options: Any = None, phase_iterations: int | None = None,
                   phase_init: str | None = None, chunk_size: int = 1, workers: int | None = None,
                   max_seconds: float = 600.0, loudness: float | None = None, keep_pitch: float | None = None,
                   balance: float | None = None, **settings: Any) -> np.ndarray:
    """Many equal-length sounds at once, each blended with the same style: ``contents`` ``(B, samples)`` mono at
    the method's sample rate -> ``(B, samples)`` float32 (each at its content's loudness, or ``loudness``, with the
    content's pitch and the style's balance, as in :func:`transfer`).

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
    style_balance = np.average([spectral_balance(i[0, 0].cpu(), -config.db_floor) for i in style_images], axis=0,
                               weights=runner.style_weights(len(style_images))) if style_images else None
    strengths = (runner.keep_pitch if keep_pitch is None else keep_pitch,
                 runner.balance_share() if balance is None else balance)
    seed = runner.options.seed

    def chunk(first: int) -> np.ndarray:
        part = audio[first:first + chunk_size]  # (b, samples)
        with torch.no_grad():
            spectra = stft(part, config)[:, : config.n_freq]  # (b, F, T) complex, Nyquist dropped
            images, gains = magnitude_to_image(spectra.abs(), config)
            results = runner.stylise_images(images.unsqueeze(1).to(device), prepared)[0].detach().cpu().clamp(0, 1)
            shaped = torch.stack([_pitch_and_balance(runner, result[0], image, style_balance, strengths)
                                  for result, image in zip(results, images, strict=True)])
            magnitudes = image_to_magnitude(shaped, config, gains)
            start = torch.angle(spectra) if init == "content" else "random"
            out = griffin_lim(magnitudes, config, n_iter=n_iter, init=start, seed=seed + first,
                              num_samples=part.shape[-1])
        return np.stack([set_level(follow_edges(row, content.numpy(), config.sample_rate), config.sample_rate,
                                   reference=content.numpy(), target_lufs=loudness)
                         for row, content in zip(out.numpy(), part, strict=True)])

    starts = list(range(0, len(audio), chunk_size))
    made = dict(on_threads(chunk, starts, default_workers(device) if workers is None else workers))
    return np.concatenate([made[index] for index in range(len(starts))])


def save_result(result: TransferResult, out_path: str | os.PathLike, *, png: str | os.PathLike | None = None,
                report_json: str | os.PathLike | None = None, inputs: Sequence[str | os.PathLike] = (),
                overwrite: bool = True, bit_depth: str | None = None) -> None:
    """Write the result's ``output`` as WAV or FLAC (by ``out_path``'s extension) at ``bit_depth`` (16, 24 or float;
    default the content file's), optionally a PNG of content | style | result spectrograms and a JSON of settings
    and loss curves. Every output path is checked before anything is written (an existing file is refused unless
    ``overwrite``); all of them are written to temporary files and renamed together at the end, so an interrupted
    save leaves none of them changed."""
    check_output_format(out_path, bit_depth)
    outputs = check_outputs([out_path, png, report_json], inputs, overwrite=overwrite)
    with staged_outputs(*outputs) as temporaries:
        write_audio(temporaries[0], result.output, sample_rate=result.output_rate,
                    bit_depth=bit_depth or result.output_bit_depth, container=output_container(out_path))
        rest = iter(temporaries[1:])
        if png is not None:
            comparison_png(result, next(rest), atomic=False)
        if report_json is not None:
            record = {"method": result.method, "settings": result.settings, "seconds": result.seconds,
                      "spectrogram": result.spectrogram.metadata(), "history": result.history,
                      "output": {"sample_rate": result.output_rate, "channels": int(result.output.shape[1]),
                                 "bit_depth": bit_depth or result.output_bit_depth},
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
