"""What the web app does, apart from Gradio: limits, method choices, checks and the blend itself."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np  # noqa: E402

from spectrostyle.core.audio import AudioFormat, load_audio, read_audio, save_audio
from spectrostyle.core.errors import InputError, SpectrostyleError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig
from spectrostyle.core.vocabulary import DIRECTIONS, FAMILIES, pitch_name
from spectrostyle.data.examples import examples_dir
from spectrostyle.data.nsynth import NSynthIndex
from spectrostyle.methods.registry import METHODS, method_class
from spectrostyle.pipeline import TransferResult, transfer
from spectrostyle.store import shipped_models

# Before Gradio is imported: no usage statistics and no version check, both calls to the internet.


DEFAULT_HOST = "127.0.0.1"


DEFAULT_PORT = 7860


DEFAULT_MAX_SECONDS = 60.0


DEFAULT_MAX_MB = 20.0


MEGABYTE = 2**20


QUEUE_SIZE = 32  # blends waiting at most; more get "the queue is full" from Gradio


DEFAULT_CONTENT = ("flute", 60)


DEFAULT_STYLE = ("keyboard", 60)


@dataclass(frozen=True)
class Limits:
    """What the app accepts: uploads up to ``max_seconds`` long and ``max_mb`` megabytes (of 2^20 bytes, as
    the browser's message for an upload over the limit counts them)."""

    max_seconds: float = DEFAULT_MAX_SECONDS
    max_mb: float = DEFAULT_MAX_MB

    def __post_init__(self) -> None:
        if self.max_seconds <= 0:
            raise InputError(f"the duration limit must be positive, got {self.max_seconds:g} s")
        if self.max_mb <= 0:
            raise InputError(f"the upload size limit must be positive, got {self.max_mb:g} MB")

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * MEGABYTE)


@dataclass(frozen=True)
class MethodSpec:
    """How the page presents a method: its title, what it does, which controls it has, which shipped models it
    needs (``model_kind``: one of that kind to choose from; ``requires``: (kind, name) pairs that must ship)."""

    name: str
    title: str
    description: str
    short: str = ""  # the method in captions (default: the name)
    controls: tuple[str, ...] = ()
    model_kind: str | None = None
    requires: tuple[tuple[str, str], ...] = ()
    uses_style: bool = True
    keep_pitch: float = 0.0  # the method's default share of the content's pitch (the slider starts there)


CONTROLS = ("alpha", "steps", "style_weight", "model", "direction")  # the settings the page has a control for


def method_spec(name: str) -> MethodSpec:
    """How the page presents a registered method, from the method's own declarations: the settings of its
    ``Options`` that carry a ``control`` are its controls."""
    cls = method_class(name)
    controls = tuple(f.name for f in dataclasses.fields(cls.Options) if f.metadata.get("control"))
    return MethodSpec(name, cls.title, cls.description, short=cls.short, controls=controls,
                      model_kind=cls.model_choice, requires=cls.requires, uses_style=cls.needs_style,
                      keep_pitch=cls.keep_pitch)


def setting_field(name: str) -> dataclasses.Field:
    """The first registered method's ``Options`` field named ``name`` that has a web-app control (its default,
    range and help set the page's control)."""
    for method in METHODS:
        for option in dataclasses.fields(method_class(method).Options):
            if option.name == name and option.metadata.get("control"):
                return option
    raise KeyError(f"no registered method has a '{name}' setting with a control")


def _shipped_names(kind: str) -> list[str]:
    return [m.name for m in shipped_models() if m.kind == kind]


def usable_methods() -> list[MethodSpec]:
    """The registered methods whose models are shipped, fastest first (their ``page_order``)."""
    shipped = {(m.kind, m.name) for m in shipped_models()}
    usable = []
    for name in METHODS:
        try:
            spec = method_spec(name)
        except (ImportError, AttributeError, SpectrostyleError):
            continue  # registered but not importable (yet): not offered
        if spec.model_kind is not None and not any(kind == spec.model_kind for kind, _ in shipped):
            continue
        if not all(required in shipped for required in spec.requires):
            continue
        usable.append((method_class(name).page_order, spec))
    return [spec for _, spec in sorted(usable, key=lambda item: item[0])]


def model_domains(kind: str, name: str | None) -> tuple[str, str]:
    """(domain A, domain B) of an instrument-to-instrument model: from its description, else from its name
    "A-B" (``flute-keyboard``: flute to keyboard)."""
    for shipped in shipped_models():
        if shipped.kind == kind and shipped.name == name:
            metadata = shipped.description.get("metadata", {}) or {}
            if metadata.get("domain_a") and metadata.get("domain_b"):
                return str(metadata["domain_a"]), str(metadata["domain_b"])
    a, _, b = (name or "").partition("-")
    return a or "A", b or "B"


def model_choices(spec: MethodSpec) -> list[tuple[str, str]]:
    """(label, value) of the shipped models a method can use, "default" first."""
    if spec.model_kind is None:
        return []
    names = sorted(_shipped_names(spec.model_kind), key=lambda n: (n != "default", n))
    if spec.model_kind == "fast_transformer":
        return [(f"{n} (the style it was trained for)", n) for n in names]
    if spec.uses_style:
        return [(n, n) for n in names]
    arrow = " <-> " if "direction" in spec.controls else " -> "
    return [(arrow.join(model_domains(spec.model_kind, n)), n) for n in names]


def style_label(spec: MethodSpec | None) -> str:
    """The style input's label: says so when the method does not use it."""
    return "Style sound" if spec is None or spec.uses_style else f"Style sound (not used by {spec.short or spec.name})"


def direction_choices(spec: MethodSpec | None, model: str | None) -> list[tuple[str, str]]:
    """(label, value) of the two directions of an instrument-to-instrument model."""
    a, b = model_domains(spec.model_kind or "", model) if spec is not None else ("A", "B")
    return [(f"{a} -> {b}", DIRECTIONS[0]), (f"{b} -> {a}", DIRECTIONS[1])]


@dataclass(frozen=True)
class Example:
    label: str
    path: Path
    family: str
    pitch: int


def shipped_examples() -> list[Example]:
    """The example notes shipped in the package, by family then pitch."""
    notes = sorted(NSynthIndex(examples_dir()), key=lambda e: (e.instrument_family_str, e.pitch, e.velocity))
    return [Example(f"{e.instrument_family_str} {pitch_name(e.pitch)} (MIDI {e.pitch})", e.audio_path,
                    e.instrument_family_str, e.pitch) for e in notes]


def _example(examples: Sequence[Example], family: str, pitch: int) -> Example | None:
    return next((e for e in examples if (e.family, e.pitch) == (family, pitch)), examples[0] if examples else None)


def _shown_name(path: str | os.PathLike) -> str:
    return Path(path).name


def check_sound(path: str | os.PathLike | None, limits: Limits, what: str = "sound",
                config: SpectrogramConfig | None = None) -> np.ndarray:
    """The audio ``(samples,)`` of an uploaded, recorded or example sound, or :class:`InputError` with a one-line
    message naming the file (not the server's temporary path): none chosen, too big, not audio, too long, ..."""
    config = config or SpectrogramConfig()
    if path is None or str(path) == "":
        raise InputError(f"choose a {what}: upload or record one, or pick a shipped example")
    path = Path(path)
    name = _shown_name(path)
    if path.is_file() and path.stat().st_size > limits.max_bytes:
        raise InputError(f"the {what} '{name}' is {path.stat().st_size / MEGABYTE:.1f} MB, over the limit of "
                         f"{limits.max_mb:g} MB")
    try:
        return load_audio(path, sample_rate=config.sample_rate, max_seconds=limits.max_seconds)
    except InputError as exc:
        message = str(exc).replace(f"'{path}'", f"'{name}'").replace(str(path), name)
        raise InputError(f"the {what} {message}" if message.startswith("'") else f"the {what}: {message}") from None


@dataclass
class Blend:
    """What one run of the app made: the result WAV, the three spectrogram pictures and a caption."""

    wav: Path
    content_image: np.ndarray
    style_image: np.ndarray | None
    result_image: np.ndarray
    caption: str
    result: TransferResult = field(repr=False)


def spectrogram_picture(spec: Spectrogram) -> np.ndarray:
    """A spectrogram as an 8-bit grey picture, low frequencies at the bottom; pairs of frequency rows are averaged
    (a 4 s note: 256 x 256 pixels) so that the three pictures fit side by side."""
    image = spec.image.detach().cpu().numpy().astype(np.float32)
    if image.shape[0] % 2 == 0:
        image = image.reshape(image.shape[0] // 2, 2, image.shape[1]).mean(axis=1)
    return np.ascontiguousarray((np.clip(image[::-1], 0, 1) * 255 + 0.5).astype(np.uint8))


def method_settings(spec: MethodSpec, *, alpha: float | None = None, steps: float | None = None,
                    style_weight: float | None = None, model: str | None = None, direction: str | None = None,
                    alpha_curve: str | None = None, seed: int = 0) -> dict[str, Any]:
    """The settings of ``spec``'s method from the page's controls: only its own controls, only settings its
    ``Options`` has; a model is always one that ships."""
    chosen: dict[str, Any] = {"seed": seed}
    if "alpha" in spec.controls and alpha is not None:
        chosen["alpha"] = float(alpha)
    if "alpha" in spec.controls and alpha_curve and alpha_curve.strip():
        chosen["alpha_curve"] = alpha_curve.strip()  # the method checks it (one-line message when malformed)
    if "steps" in spec.controls and steps is not None:
        chosen["steps"] = int(steps)
    if "style_weight" in spec.controls and style_weight is not None:
        if not float(style_weight) >= 0:
            raise InputError(f"the style weight must be 0 or more, got {style_weight}")
        chosen["style_weight"] = float(style_weight)
    if spec.model_kind is not None:
        names = [value for _, value in model_choices(spec)]
        if model not in names:
            if model and "model" in spec.controls:
                raise InputError(f"no shipped {spec.model_kind} model named '{model}'; shipped: {', '.join(names)}")
            model = names[0] if names else model
        chosen["model"] = model
    if "direction" in spec.controls and direction is not None:
        if direction not in DIRECTIONS:
            raise InputError(f"direction must be one of {', '.join(DIRECTIONS)}, got '{direction}'")
        chosen["direction"] = direction
    known = {f.name for f in dataclasses.fields(method_class(spec.name).Options)}
    return {k: v for k, v in chosen.items() if k in known}


def blend(content: str | os.PathLike | None, style: str | os.PathLike | None, method: str,
          settings: dict[str, Any] | None = None, *, limits: Limits = Limits(), out_dir: str | os.PathLike,
          progress: bool = False) -> Blend:
    """Blend two sounds by ``method`` (a usable method's name) with ``settings``; write the result WAV to
    ``out_dir``. :class:`InputError` (a one-line message) for anything the user can fix."""
    specs = {s.name: s for s in usable_methods()}
    if method not in specs:
        raise InputError(f"method '{method}' is not available here; choose from: {', '.join(specs) or 'none'}")
    spec = specs[method]
    check_sound(content, limits, "content sound")
    if spec.uses_style:
        check_sound(style, limits, "style sound")
    # the files themselves: the result has the content's rate and channels, full band
    result = transfer(content, style if spec.uses_style else None, method, progress=progress, **(settings or {}))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(str(content)).stem[:40]
    if spec.uses_style:
        stem += f"-as-{Path(str(style)).stem[:40]}"
    wav = out_dir / f"{stem}-{method}-{uuid.uuid4().hex[:8]}.wav"
    save_audio(wav, result.output, sample_rate=result.output_rate)
    shown = AudioFormat(result.output_rate, result.output.shape[1], "16").describe().removesuffix(" 16-bit")
    caption = (f"**{spec.short or spec.name}**: {result.spectrogram.duration:.2f} s ({shown}) made in "
               f"{result.seconds:.2f} s "
               f"from '{_shown_name(content)}'" + (f" in the style of '{_shown_name(style)}'" if spec.uses_style
                                                   else " (the model is the style)"))
    if "style" in result.history and result.history["style"]:
        losses = result.history["style"]
        caption += f"; style loss {losses[0]:.3g} -> {losses[-1]:.3g}"
    return Blend(wav=wav, content_image=full_band_picture(*read_audio(content)),
                 style_image=full_band_picture(*read_audio(style)) if spec.uses_style else None,
                 result_image=full_band_picture(result.output, result.output_rate), caption=caption, result=result)


def full_band_picture(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The spectrogram picture of a sound's whole band (:func:`spectrogram_picture` of its channels' mix at its own
    rate: 0-8 kHz for a 16 kHz file, 0-22 kHz for a 44.1 kHz one)."""
    mix = np.asarray(audio, dtype=np.float32).reshape(len(audio), -1).mean(axis=1, keepdims=True)
    return spectrogram_picture(Spectrogram.from_channels(mix, SpectrogramConfig.for_rate(sample_rate))[0])


INSTRUMENT_KEYS = "60-84"  # the web app's instrument: two octaves from middle C, a root every third semitone
INSTRUMENT_STEP = 3
SCALE = (0, 2, 4, 5, 7, 9, 11, 12)  # the preview plays a major scale up from the lowest root


@dataclass
class BuiltInstrument:
    """What the instrument tab made: a zip of the SFZ, SF2 and samples, a scale played through the SF2, a caption."""

    archive: Path
    preview: Path
    caption: str


def make_instrument(family: str, style: str | os.PathLike | None, method: str, *, velocities: str = "100",
                    keys: str = INSTRUMENT_KEYS, limits: Limits = Limits(), out_dir: str | os.PathLike
                    ) -> BuiltInstrument:
    """A playable instrument of ``family`` (rendered from the shipped SoundFont) through ``method`` in the style of
    ``style``, zipped into ``out_dir`` with a scale played through it. :class:`InputError` for what the user can
    fix."""
    import shutil
    import tempfile

    from spectrostyle.core.audio import write_audio
    from spectrostyle.instrument.build import RENDER_RATE, build_instrument, notes_from_soundfont, parse_program
    from spectrostyle.instrument.keys import parse_keys, parse_velocities
    from spectrostyle.instrument.preview import render_events_through
    from spectrostyle.methods.registry import make_options

    specs = {s.name: s for s in usable_methods()}
    if method not in specs:
        raise InputError(f"method '{method}' is not available here; choose from: {', '.join(specs) or 'none'}")
    program = parse_program(family)
    if program is None:
        raise InputError(f"choose an instrument family to render ({', '.join(FAMILIES)})")
    if specs[method].uses_style:
        check_sound(style, limits, "style sound")
    notes = notes_from_soundfont(program, parse_keys(keys, INSTRUMENT_STEP), parse_velocities(velocities))
    runner = method_class(method)(make_options(method))
    name = f"{family}-{method}"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        built = build_instrument(notes, runner, style if specs[method].uses_style else None, Path(folder) / name,
                                 name=name, progress=False)
        stem = out_dir / f"{name}-{uuid.uuid4().hex[:8]}"
        archive = Path(shutil.make_archive(str(stem), "zip", folder, name))
    low = min(s.sample.root for s in built.samples)
    events = [event for i, step in enumerate(SCALE) for event in
              ((0.4 * i, "note_on", 0, low + step, 100), (0.4 * i + 0.35, "note_off", 0, low + step, 0))]
    preview = stem.with_suffix(".wav")
    write_audio(preview, render_events_through(built, events, 0.4 * len(SCALE) + 1.0), sample_rate=RENDER_RATE,
                bit_depth="16", container="WAV")
    looped = sum(s.sample.loop is not None for s in built.samples)
    caption = (f"**{name}**: {len(built.samples)} samples ({looped} looped) in {built.seconds:.1f} s; the zip holds "
               f"{name}.sfz with its samples and {name}.sf2. Above: a scale played through the SF2.")
    return BuiltInstrument(archive, preview, caption)

