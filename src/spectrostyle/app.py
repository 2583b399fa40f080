"""``spectrostyle app``: a web app for sound designers (Gradio; ``pip install 'spectrostyle[app]'``).

Two sounds in (upload, record, or a shipped example note), a method and its controls, one button; out come the
blend to play and download and the content, style and result spectrograms. The methods offered are those
registered in :data:`spectrostyle.transfer.METHODS` whose models are shipped, fastest first. Jobs go through one
queue (one blend at a time, so concurrent users wait their turn instead of overloading the machine); uploads
over the size or duration limit, or that are not audio, get a one-line message in the page. Nothing is fetched
from the internet: no analytics, no share links, the theme's fonts are served locally.

The handlers are plain functions (:func:`check_sound`, :func:`blend`) that raise :class:`InputError`; the
Gradio layer (:func:`build_app`) turns those into messages in the page.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Before Gradio is imported: no usage statistics and no version check, both calls to the internet.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from spectrostyle.audio import load_audio, save_audio  # noqa: E402
from spectrostyle.data import NSynthIndex, examples_dir, pitch_name  # noqa: E402
from spectrostyle.errors import InputError, SpectrostyleError  # noqa: E402
from spectrostyle.registry import shipped_models  # noqa: E402
from spectrostyle.spectrogram import Spectrogram, SpectrogramConfig  # noqa: E402
from spectrostyle.transfer import METHODS, TransferResult, method_class, transfer  # noqa: E402

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_MAX_SECONDS = 60.0
DEFAULT_MAX_MB = 20.0
MEGABYTE = 2**20
QUEUE_SIZE = 32  # blends waiting at most; more get "the queue is full" from Gradio
RESULT_MAX_AGE_S = 3600.0  # result files older than this are deleted
DIRECTIONS = ("a2b", "b2a")  # of the instrument-to-instrument models named "A-B"
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


# Known methods, fastest first (the first usable one is the page's default). Their captions follow the demo page.
KNOWN_METHODS = (
    MethodSpec("adain", "AdaIN (one pass, any style)",
               "The content's audio-CNN features take the style's channel means and deviations (adaptive instance "
               "normalisation); a trained decoder turns them back into a spectrogram. Any style sound, no training. "
               "Alpha blends from the content (0) to the full style (1).",
               short="AdaIN", controls=("alpha",), model_kind="adain_decoder"),
    MethodSpec("fast", "Fast (Johnson; one pass, trained style)",
               "One forward pass of a transformation network trained for one style note, with the same perceptual "
               "loss as Slow. The model is the style: the style sound is not used.",
               short="Fast", controls=("model",), model_kind="fast_transformer", uses_style=False),
    MethodSpec("cyclegan", "CycleGAN (instrument to instrument)",
               "Generators trained without paired notes to turn one instrument's spectrograms into the other's, "
               "either way. The model is the style: the style sound is not used.",
               short="CycleGAN", controls=("model", "direction"), model_kind="cyclegan_generator", uses_style=False),
    MethodSpec("pix2pix", "pix2pix (instrument to instrument)",
               "A U-Net trained on pairs of notes of the same pitch and velocity, one way (A to B). The model is the "
               "style: the style sound is not used.",
               short="pix2pix", controls=("model",), model_kind="pix2pix_generator", uses_style=False),
    MethodSpec("gatys", "Slow (Gatys; optimisation, about 10 s per 4 s note)",
               "The content note's image is optimised (L-BFGS) so that its features in the shipped spectrogram CNN "
               "stay close to the content's while its Gram matrices approach the style note's, with the energy and "
               "frequency constraints of Verma & Smith. More steps and a higher style weight: more of the style.",
               short="Slow (Gatys)", controls=("steps", "style_weight"), requires=(("audio_cnn", "default"),)),
)
CONTROLS = ("alpha", "steps", "style_weight", "model", "direction")


def _shipped_names(kind: str) -> list[str]:
    return [m.name for m in shipped_models() if m.kind == kind]


def _spec_for(name: str) -> MethodSpec:
    for spec in KNOWN_METHODS:
        if spec.name == name:
            return spec
    cls = method_class(name)  # a method registered later that this page does not know: no controls
    return MethodSpec(name, name, (cls.__doc__ or "").strip().split("\n")[0], uses_style=cls.needs_style)


def usable_methods() -> list[MethodSpec]:
    """The registered methods whose models are shipped, fastest first (known ones in :data:`KNOWN_METHODS`'s
    order, then any others registered in :data:`METHODS`)."""
    shipped = {(m.kind, m.name) for m in shipped_models()}
    order = [s.name for s in KNOWN_METHODS if s.name in METHODS] + [n for n in METHODS if
                                                                    n not in {s.name for s in KNOWN_METHODS}]
    usable = []
    for name in order:
        try:
            spec = _spec_for(name)
            method_class(name)
        except (ImportError, AttributeError, SpectrostyleError):
            continue  # registered but not importable (yet): not offered
        if spec.model_kind is not None and not any(kind == spec.model_kind for kind, _ in shipped):
            continue
        if not all(required in shipped for required in spec.requires):
            continue
        usable.append(spec)
    return usable


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
                    seed: int = 0) -> dict[str, Any]:
    """The settings of ``spec``'s method from the page's controls: only its own controls, only settings its
    ``Options`` has; a model is always one that ships."""
    chosen: dict[str, Any] = {"seed": seed}
    if "alpha" in spec.controls and alpha is not None:
        chosen["alpha"] = float(alpha)
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
    content_audio = check_sound(content, limits, "content sound")
    style_audio = check_sound(style, limits, "style sound") if spec.uses_style else None
    result = transfer(content_audio, style_audio, method, progress=progress, **(settings or {}))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(str(content)).stem[:40]
    if spec.uses_style:
        stem += f"-as-{Path(str(style)).stem[:40]}"
    wav = out_dir / f"{stem}-{method}-{uuid.uuid4().hex[:8]}.wav"
    save_audio(wav, result.audio, sample_rate=result.spectrogram.config.sample_rate)
    caption = (f"**{spec.short or spec.name}**: {result.spectrogram.duration:.2f} s made in {result.seconds:.2f} s "
               f"from '{_shown_name(content)}'" + (f" in the style of '{_shown_name(style)}'" if spec.uses_style
                                                   else " (the model is the style)"))
    if "style" in result.history and result.history["style"]:
        losses = result.history["style"]
        caption += f"; style loss {losses[0]:.3g} -> {losses[-1]:.3g}"
    return Blend(wav=wav, content_image=spectrogram_picture(result.content),
                 style_image=spectrogram_picture(result.styles[0]) if result.styles else None,
                 result_image=spectrogram_picture(result.spectrogram), caption=caption, result=result)


def _prune(folder: Path, max_age_s: float = RESULT_MAX_AGE_S) -> None:
    """Delete result files older than ``max_age_s``."""
    now = time.time()
    for path in folder.glob("*.wav"):
        try:
            if now - path.stat().st_mtime > max_age_s:
                path.unlink()
        except OSError:
            pass


CSS = """
#spectrograms img {image-rendering: pixelated}
.spectrostyle-note {font-size: 0.9em; color: var(--body-text-color-subdued)}
"""


class Handlers:
    """What the page's events call. Each raises ``gr.Error`` (a one-line message in the page) or shows a
    ``gr.Warning`` for what the user can fix; nothing else reaches the page."""

    def __init__(self, limits: Limits = Limits(), threads: int | None = None,
                 out_dir: str | os.PathLike | None = None):
        self.limits = limits
        self.threads = threads or torch.get_num_threads()
        self.out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="spectrostyle-app-"))
        self.out.mkdir(parents=True, exist_ok=True)
        self.methods = usable_methods()
        self.by_name = {s.name: s for s in self.methods}
        self.examples = shipped_examples()
        self.example_by_label = {e.label: e for e in self.examples}

    def controls_for(self, name: str | None) -> list[Any]:
        """Updates of the method's description, its controls (visible or not, the models to choose from) and the
        style input's label (whether the method uses it)."""
        spec = self.by_name.get(name or "")
        controls = spec.controls if spec else ()
        models = model_choices(spec) if spec else []
        model = models[0][1] if models else None
        return [gr.update(value=spec.description if spec else "No method is available."),
                gr.update(visible="alpha" in controls),
                gr.update(visible="steps" in controls),
                gr.update(visible="style_weight" in controls),
                gr.update(visible="model" in controls, choices=models, value=model),
                gr.update(visible="direction" in controls, choices=direction_choices(spec, model),
                          value=DIRECTIONS[0]),
                gr.update(label=style_label(spec))]

    def on_model(self, method: str | None, model: str | None) -> Any:
        return gr.update(choices=direction_choices(self.by_name.get(method or ""), model), value=DIRECTIONS[0])

    def on_example(self, label: str | None) -> tuple[Any, str]:
        """A picked example note into the audio input."""
        example = self.example_by_label.get(label or "")
        if example is None:
            return gr.update(), gr.update()
        return str(example.path), f"shipped example: {example.label}"

    def on_upload(self, path: str | None, what: str) -> tuple[Any, str, Any]:
        """Check an uploaded or recorded sound at once: a refused one is cleared, with a warning in the page.
        Returns the updates of the audio input, the note below it and its example picker."""
        try:
            audio = check_sound(path, self.limits, what)
        except InputError as exc:
            gr.Warning(str(exc), title="Can't use this sound")
            return None, f"⚠ {exc}", gr.update(value=None)
        return gr.update(), f"{_shown_name(path)}: {len(audio) / SpectrogramConfig().sample_rate:.2f} s", \
            gr.update(value=None)

    def on_blend(self, content: str | None, style: str | None, method: str | None, alpha: float | None = None,
                 steps: float | None = None, style_weight: float | None = None, model: str | None = None,
                 direction: str | None = None, progress: gr.Progress = gr.Progress(track_tqdm=True)
                 ) -> tuple[Any, ...]:
        """The blend: result WAV path, content, style and result pictures, caption."""
        torch.set_num_threads(self.threads)
        _prune(self.out)
        spec = self.by_name.get(method or "")
        try:
            if spec is None:
                raise InputError(f"choose a method: {', '.join(self.by_name) or 'none is available here'}")
            progress(0.05, desc="reading the sounds")
            settings = method_settings(spec, alpha=alpha, steps=steps, style_weight=style_weight, model=model,
                                       direction=direction)
            progress(0.2, desc=f"blending by {spec.name}")
            made = blend(content, style, spec.name, settings, limits=self.limits, out_dir=self.out, progress=True)
        except SpectrostyleError as exc:
            raise gr.Error(str(exc), title="Can't blend these", print_exception=False) from None
        except Exception as exc:  # a bug or the machine (memory): one line in the page, the traceback in the log
            traceback.print_exc()
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            raise gr.Error(f"the blend failed ({type(exc).__name__}{': ' + first if first else ''}); the server's "
                           "log has the details", title="Something went wrong", print_exception=False) from None
        return str(made.wav), made.content_image, made.style_image, made.result_image, made.caption

    def upload_handler(self, what: str) -> Callable[[str | None], tuple[Any, str, Any]]:
        def handler(path: str | None) -> tuple[Any, str, Any]:
            return self.on_upload(path, what)

        return handler


def build_app(*, limits: Limits = Limits(), threads: int | None = None, out_dir: str | os.PathLike | None = None
              ) -> gr.Blocks:
    """The app's page, wired to :class:`Handlers`. ``threads``: torch CPU threads each blend runs with (default:
    torch's setting now); ``out_dir``: where result WAVs go (default: a new temporary folder)."""
    h = Handlers(limits, threads, out_dir)
    first = h.methods[0] if h.methods else None
    controls = first.controls if first else ()
    models = model_choices(first) if first else []
    labels = [e.label for e in h.examples]
    content_default = _example(h.examples, *DEFAULT_CONTENT)
    style_default = _example(h.examples, *DEFAULT_STYLE)

    with gr.Blocks(title="spectrostyle", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# spectrostyle\nBlend two sounds: the content sound keeps its notes and timing, the style "
                    "sound lends its timbre, by style-transfer networks for images run on spectrograms. Upload "
                    f"or record WAV, FLAC, OGG or MP3 up to {limits.max_seconds:g} s and {limits.max_mb:g} MB, or "
                    "pick a shipped example note.")
        with gr.Row():
            sounds = []
            for what, default, key in (("Content sound", content_default, "content"),
                                       (style_label(first), style_default, "style")):
                with gr.Column():
                    audio = gr.Audio(label=what, sources=["upload", "microphone"], type="filepath",
                                     value=str(default.path) if default else None, buttons=["download"],
                                     elem_id=f"{key}-audio")
                    pick = gr.Dropdown(labels, value=default.label if default else None,
                                       label=f"Shipped example ({key})", elem_id=f"{key}-example")
                    note = gr.Markdown(f"shipped example: {default.label}" if default else "",
                                       elem_id=f"{key}-note", elem_classes="spectrostyle-note")
                sounds.append((f"{key} sound", audio, pick, note))
        with gr.Row():
            with gr.Column():
                method = gr.Radio([(s.title, s.name) for s in h.methods], value=first.name if first else None,
                                  label="Method", elem_id="method")
                description = gr.Markdown(first.description if first else "No method is available: no models "
                                          "are shipped.", elem_id="method-description",
                                          elem_classes="spectrostyle-note")
            with gr.Column():
                alpha = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label="Alpha: style strength",
                                  info="0 = the content as it is, 1 = the full style", visible="alpha" in controls,
                                  elem_id="alpha")
                steps = gr.Slider(5, 300, value=60, step=5, label="Steps", info="optimisation steps (L-BFGS)",
                                  visible="steps" in controls, elem_id="steps")
                style_weight = gr.Number(3000.0, minimum=0, label="Style weight",
                                         info="higher: more of the style's timbre (default 3000)",
                                         visible="style_weight" in controls, elem_id="style-weight")
                model = gr.Dropdown(models, value=models[0][1] if models else None, label="Model",
                                    visible="model" in controls, elem_id="model")
                direction = gr.Radio(direction_choices(first, models[0][1] if models else None), value=DIRECTIONS[0],
                                     label="Direction", visible="direction" in controls, elem_id="direction")
        run = gr.Button("Blend", variant="primary", elem_id="blend", interactive=bool(h.methods))
        result_audio = gr.Audio(label="Result", type="filepath", interactive=False, buttons=["download"],
                                elem_id="result-audio")
        caption = gr.Markdown("", elem_id="result-caption")
        with gr.Row(elem_id="spectrograms"):
            pictures = [gr.Image(label=f"{what} spectrogram", format="png", interactive=False, buttons=["download"],
                                 elem_id=f"{what.lower()}-spectrogram") for what in ("Content", "Style", "Result")]
        gr.Markdown("Spectrograms: time left to right, frequency bottom to top (0 to 8 kHz), grey level: loudness "
                    "from 80 dB below the peak (black) to the peak (white). One blend runs at a time; others wait "
                    "their turn in the queue.", elem_classes="spectrostyle-note")

        cheap: dict[str, Any] = {"concurrency_limit": None, "show_progress": "hidden", "api_visibility": "private"}
        method.change(h.controls_for, method, [description, alpha, steps, style_weight, model, direction,
                                               sounds[1][1]], **cheap)
        model.change(h.on_model, [method, model], direction, **cheap)
        for what, audio, pick, note in sounds:
            pick.input(h.on_example, pick, [audio, note], **cheap)
            audio.upload(h.upload_handler(what), audio, [audio, note, pick], **cheap)
        run.click(h.on_blend, [sounds[0][1], sounds[1][1], method, alpha, steps, style_weight, model, direction],
                  [result_audio, *pictures, caption], concurrency_limit=1, concurrency_id="blend",
                  show_progress_on=result_audio, api_name="blend")
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return demo


def launch(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, limits: Limits = Limits(),
           threads: int | None = None, open_browser: bool = False, block: bool = True,
           announce: Callable[[str], Any] = print) -> gr.Blocks:
    """Serve the app at ``http://host:port`` (loopback by default); with ``block``, until interrupted."""
    if not 1 <= port <= 65535:
        raise InputError(f"port must be in 1..65535, got {port}")
    demo = build_app(limits=limits, threads=threads)
    try:
        demo.launch(server_name=host, server_port=port, share=False, inbrowser=open_browser,
                    max_file_size=limits.max_bytes, allowed_paths=[str(examples_dir())], show_error=False,
                    quiet=True, prevent_thread_lock=True, css=CSS, theme=gr.themes.Default())
    except OSError as exc:
        raise InputError(f"cannot serve on {host}:{port}: {str(exc).split('. ')[0]}") from None
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    announce(f"spectrostyle app: open http://{shown}:{demo.server_port}/ in a browser (Ctrl-C to stop)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        announce(f"spectrostyle app: note: bound to {host}, so other machines can reach it")
    if block:
        try:
            while demo.is_running:
                time.sleep(0.2)
        finally:
            demo.close(verbose=False)
    return demo
