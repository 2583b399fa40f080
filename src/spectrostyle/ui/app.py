"""``spectrostyle app``: a web app for sound designers (Gradio; ``pip install 'spectrostyle[app]'``).

Two sounds in (upload, record, or a shipped example note), a method and its controls, one button; out come the
blend to play and download and the content, style and result spectrograms. The methods offered are those
registered in :data:`spectrostyle.methods.registry.METHODS` whose models are shipped, fastest first. Jobs go through one
queue (one blend at a time, so concurrent users wait their turn instead of overloading the machine); uploads
over the size or duration limit, or that are not audio, get a one-line message in the page. Nothing is fetched
from the internet: no analytics, no share links, the theme's fonts are served locally.

The handlers are plain functions (:func:`check_sound`, :func:`blend`) that raise :class:`InputError`; the
Gradio layer (:func:`build_app`) turns those into messages in the page.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Before Gradio is imported: no usage statistics and no version check, both calls to the internet.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402
import torch  # noqa: E402

from spectrostyle.core.errors import InputError, SpectrostyleError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.core.vocabulary import DIRECTIONS, FAMILIES
from spectrostyle.data.examples import examples_dir
from spectrostyle.ui.app_blend import (
    DEFAULT_CONTENT,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_STYLE,
    QUEUE_SIZE,
    Limits,
    _example,
    _shown_name,
    blend,
    check_sound,
    direction_choices,
    make_instrument,
    method_settings,
    model_choices,
    setting_field,
    shipped_examples,
    style_label,
    usable_methods,
)

RESULT_MAX_AGE_S = 3600.0  # result files older than this are deleted


def _prune(folder: Path, max_age_s: float = RESULT_MAX_AGE_S) -> None:
    """Delete result files older than ``max_age_s``."""
    now = time.time()
    for path in [*folder.glob("*.wav"), *folder.glob("*.zip")]:
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
        """Updates of the method's description, its controls (visible or not, the models to choose from), the
        style input's label (whether the method uses it) and the keep-pitch slider (at the method's default)."""
        spec = self.by_name.get(name or "")
        controls = spec.controls if spec else ()
        models = model_choices(spec) if spec else []
        model = models[0][1] if models else None
        return [gr.update(value=spec.description if spec else "No method is available."),
                gr.update(visible="alpha" in controls),
                gr.update(visible="alpha" in controls),
                gr.update(visible="steps" in controls),
                gr.update(visible="style_weight" in controls),
                gr.update(visible="model" in controls, choices=models, value=model),
                gr.update(visible="direction" in controls, choices=direction_choices(spec, model),
                          value=DIRECTIONS[0]),
                gr.update(label=style_label(spec)),
                gr.update(value=spec.keep_pitch if spec else 0.0)]

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
                 direction: str | None = None, alpha_curve: str | None = None, keep_pitch: float | None = None,
                 progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, ...]:
        """The blend: result WAV path, content, style and result pictures, caption."""
        torch.set_num_threads(self.threads)
        _prune(self.out)
        spec = self.by_name.get(method or "")
        try:
            if spec is None:
                raise InputError(f"choose a method: {', '.join(self.by_name) or 'none is available here'}")
            progress(0.05, desc="reading the sounds")
            settings = method_settings(spec, alpha=alpha, steps=steps, style_weight=style_weight, model=model,
                                       direction=direction, alpha_curve=alpha_curve)
            if keep_pitch is not None:  # transfer's own setting, for every method
                settings["keep_pitch"] = float(keep_pitch)
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

    def on_instrument(self, family: str | None, style: str | None, method: str | None, velocities: str | None,
                      progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, ...]:
        """The instrument: a scale played through it, the zip to download, a caption."""
        torch.set_num_threads(self.threads)
        _prune(self.out)
        try:
            progress(0.05, desc="rendering the notes")
            made = make_instrument(family or "", style, method or "", velocities=velocities or "100",
                                   limits=self.limits, out_dir=self.out)
        except SpectrostyleError as exc:
            raise gr.Error(str(exc), title="Can't build this instrument", print_exception=False) from None
        except Exception as exc:  # a bug or the machine (memory): one line in the page, the traceback in the log
            traceback.print_exc()
            raise gr.Error(f"building the instrument failed ({type(exc).__name__}); the server's log has the "
                           "details", title="Something went wrong", print_exception=False) from None
        return str(made.preview), str(made.archive), made.caption

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
                alpha_field, steps_field = setting_field("alpha"), setting_field("steps")
                weight_field = setting_field("style_weight")
                alpha = gr.Slider(alpha_field.metadata["low"], alpha_field.metadata["high"], value=alpha_field.default,
                                  step=alpha_field.metadata["step"], label="Alpha: style strength",
                                  info=alpha_field.metadata["help"], visible="alpha" in controls, elem_id="alpha")
                alpha_curve = gr.Textbox(label="Alpha curve (optional)", placeholder="0:0,2:1,4:0.3",
                                         info="Alpha that moves along the sound: SECONDS:ALPHA points, linear between "
                                              "them (overrides the slider).", visible="alpha" in controls,
                                         elem_id="alpha-curve")
                steps = gr.Slider(5, 300, value=steps_field.default, step=steps_field.metadata["step"], label="Steps",
                                  info=steps_field.metadata["help"], visible="steps" in controls, elem_id="steps")
                style_weight = gr.Number(weight_field.default, minimum=weight_field.metadata["low"],
                                         label="Style weight",
                                         info=f"{weight_field.metadata['help']} (default {weight_field.default:g})",
                                         visible="style_weight" in controls, elem_id="style-weight")
                # any method's models, not only the first's: the API takes a model with its method
                # (method_settings checks that the method has it), so the choices here do not limit the value
                model = gr.Dropdown(models, value=models[0][1] if models else None, label="Model",
                                    visible="model" in controls, elem_id="model", allow_custom_value=True)
                direction = gr.Radio(direction_choices(first, models[0][1] if models else None), value=DIRECTIONS[0],
                                     label="Direction", visible="direction" in controls, elem_id="direction")
                keep_pitch = gr.Slider(0.0, 1.0, value=first.keep_pitch if first else 0.0, step=0.1,
                                       label="Keep the content's pitch",
                                       info="1: the result's partials sit where the content's do (networks blur them "
                                            "on low notes) under the method's timbre; 0: the method's own. Starts "
                                            "at the method's default.",
                                       elem_id="keep-pitch")
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
        method.change(h.controls_for, method, [description, alpha, alpha_curve, steps, style_weight, model,
                                               direction, sounds[1][1], keep_pitch], **cheap)
        model.change(h.on_model, [method, model], direction, **cheap)
        for what, audio, pick, note in sounds:
            pick.input(h.on_example, pick, [audio, note], **cheap)
            audio.upload(h.upload_handler(what), audio, [audio, note, pick], **cheap)
        run.click(h.on_blend, [sounds[0][1], sounds[1][1], method, alpha, steps, style_weight, model, direction,
                               alpha_curve, keep_pitch], [result_audio, *pictures, caption], concurrency_limit=1,
                  concurrency_id="blend", show_progress_on=result_audio, api_name="blend")
        with gr.Accordion("Make a playable instrument", open=False, elem_id="instrument"):
            gr.Markdown("Every note of an instrument family from C4 to C6 (a root every third semitone), rendered from "
                        "the shipped SoundFont, goes through the method in the style of the style sound above; the "
                        "notes are tuned, looped where they sustain, and written as SFZ (with 24-bit FLAC samples) "
                        "and SF2 for any sampler.", elem_classes="spectrostyle-note")
            with gr.Row():
                family = gr.Dropdown(list(FAMILIES), value="flute", label="Instrument family", elem_id="family")
                layers = gr.Dropdown([("one layer (velocity 100)", "100"), ("two layers (64, 127)", "64,127")],
                                     value="100", label="Velocity layers", elem_id="layers")
            build = gr.Button("Build the instrument", elem_id="build", interactive=bool(h.methods))
            scale = gr.Audio(label="A scale played through it", type="filepath", interactive=False,
                             elem_id="instrument-scale")
            archive = gr.File(label="SFZ + SF2 + samples (zip)", elem_id="instrument-zip")
            built = gr.Markdown("", elem_id="instrument-caption")
        build.click(h.on_instrument, [family, sounds[1][1], method, layers], [scale, archive, built],
                    concurrency_limit=1, concurrency_id="blend", show_progress_on=scale, api_name="instrument")
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
