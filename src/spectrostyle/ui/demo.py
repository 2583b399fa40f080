"""``spectrostyle demo``: the shipped example notes through every available step, as one HTML page."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from spectrostyle.core.audio import atomic_output, load_audio, read_audio, save_audio, write_audio
from spectrostyle.core.png import save_png
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig, spectral_convergence_db
from spectrostyle.data.examples import example_path, studio_example
from spectrostyle.methods.registry import METHODS, method_class, shipped_settings
from spectrostyle.pipeline import transfer

DEMO_NOTES = (("flute", 60), ("keyboard", 60))


@dataclass
class DemoItem:
    """One sound on the page: its spectrogram PNG, its audio and a caption (paths relative to the page)."""

    label: str
    png: str
    wav: str
    caption: str = ""
    tall: bool = False  # a picture of stacked channels, shown twice as high


@dataclass
class DemoSection:
    title: str
    description: str
    items: list[DemoItem] = field(default_factory=list)


def render_page(sections: list[DemoSection], title: str = "spectrostyle demo") -> str:
    """HTML for a list of sections (images and audio players)."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
             ".row{display:flex;flex-wrap:wrap;gap:1.5em}.item{width:280px}"
             ".item img{width:256px;height:256px;image-rendering:pixelated;border:1px solid #ccc}"
             ".tall img{height:512px}"
             ".cap{font-size:.85em;color:#444}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2><p>{html.escape(section.description)}</p>")
        parts.append("<div class='row'>")
        for item in section.items:
            parts.append(
                f"<div class='item{' tall' if item.tall else ''}'><b>{html.escape(item.label)}</b><br>"
                f"<img src='{html.escape(item.png)}' alt='spectrogram of {html.escape(item.label)}'><br>"
                f"<audio controls preload='none' src='{html.escape(item.wav)}'></audio>"
                f"<div class='cap'>{html.escape(item.caption)}</div></div>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def run_demo(out_dir: str | Path, *, seed: int = 0, progress: bool = True) -> Path:
    """Write ``out_dir/index.html`` with the example notes, their images and their reconstructions."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        from spectrostyle.core.errors import InputError

        raise InputError(f"demo output '{out_dir}' exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    config = SpectrogramConfig()
    sources = DemoSection(
        "Source notes and their round trip",
        "Each shipped note, its grey-scale spectrogram image (16-bit PNG, low frequencies at the bottom), and "
        "the sound rebuilt from that image alone by fast Griffin-Lim. Spectral convergence (lower is better) "
        "compares the rebuilt sound's spectrogram with the image.")
    for family, pitch in tqdm(DEMO_NOTES, desc="demo: round trips", disable=not progress):
        source_path = example_path(family, pitch)
        audio = load_audio(source_path, sample_rate=config.sample_rate)
        spec = Spectrogram.from_audio(audio, config)
        name = f"{family}_{pitch}"
        save_png(out_dir / f"{name}.png", spec)
        save_audio(out_dir / f"{name}.wav", audio, sample_rate=config.sample_rate)
        started = time.perf_counter()
        rebuilt = spec.to_audio(seed=seed)
        seconds = time.perf_counter() - started
        convergence = float(spectral_convergence_db(spec.magnitude(), torch.from_numpy(rebuilt), config))
        save_audio(out_dir / f"{name}_rebuilt.wav", rebuilt, sample_rate=config.sample_rate)
        sources.items.append(DemoItem(f"{family} (MIDI {pitch})", f"{name}.png", f"{name}.wav",
                                      f"{spec.duration:.1f} s, peak {spec.gain_db:.1f} dB"))
        sources.items.append(DemoItem(f"{family}, rebuilt from the image", f"{name}.png", f"{name}_rebuilt.wav",
                                      f"spectral convergence {convergence:.1f} dB in {seconds * 1000:.0f} ms"))
    sections = [sources]
    pairs = [(DEMO_NOTES[0], DEMO_NOTES[1]), (DEMO_NOTES[1], DEMO_NOTES[0])]
    for method in METHODS:
        cls = method_class(method)
        section = DemoSection(cls.title, cls.description)
        for (content_family, content_pitch), (style_family, style_pitch) in tqdm(
                pairs, desc=f"demo: {method}", disable=not progress):
            settings = shipped_settings(method, content_family, style_family)
            if settings is None:
                continue
            style = example_path(style_family, style_pitch) if cls.needs_style else None
            result = transfer(example_path(content_family, content_pitch), style, method, seed=seed, **settings)
            name = f"{method}_{content_family}_as_{style_family}"
            save_png(out_dir / f"{name}.png", result.spectrogram)
            save_audio(out_dir / f"{name}.wav", result.audio, sample_rate=config.sample_rate)
            caption = f"made in {result.seconds:.2f} s"
            if "style" in result.history:
                style_loss = result.history["style"]
                caption += f"; style loss {style_loss[0]:.3g} -> {style_loss[-1]:.3g}"
            section.items.append(DemoItem(f"{content_family} content, {style_family} style", f"{name}.png",
                                          f"{name}.wav", caption))
        if section.items:
            sections.append(section)
    sections.append(_studio_section(out_dir, seed=seed, progress=progress))
    page = out_dir / "index.html"
    with atomic_output(page) as tmp:
        tmp.write_text(render_page(sections), encoding="utf-8")
    return page


def _studio_section(out_dir: Path, *, seed: int, progress: bool) -> DemoSection:
    """The shipped 44.1 kHz stereo phrases (a flute content, a piano style) through every method: each result at
    the content's rate and channels, its band above the model's 8 kHz made by the studio stage, its spectrogram
    PNG showing the whole band of each channel (stacked)."""
    section = DemoSection(
        "Studio sound: 44.1 kHz stereo",
        "A flute phrase as content and a piano phrase as style, both 44.1 kHz stereo with reverb. Every result "
        "comes back in the content's format (44.1 kHz, two channels, 16-bit) at its loudness (BS.1770), its band "
        "above the models' 8 kHz following the style's (the content's for the methods whose model is the style), "
        "its stereo image following the content's. Each picture shows the whole band of each channel, the left on "
        "top.")
    content, style = studio_example("flute"), studio_example("keyboard")
    for label, path in (("flute phrase (content)", content), ("piano phrase (style)", style)):
        audio, rate = read_audio(path)
        name = f"studio_{path.stem}"
        _studio_item(out_dir, name, audio, rate)
        section.items.append(DemoItem(label, f"{name}.png", f"{name}.wav",
                                      f"{len(audio) / rate:.1f} s, {rate / 1000:g} kHz, {audio.shape[1]} channels",
                                      tall=True))
    for method in tqdm(METHODS, desc="demo: studio sound", disable=not progress):
        cls = method_class(method)
        settings = shipped_settings(method, "flute", "keyboard")
        if settings is None:
            continue
        result = transfer(content, style if cls.needs_style else None, method, seed=seed, **settings)
        name = f"studio_{method}"
        _studio_item(out_dir, name, result.output, result.output_rate)
        section.items.append(DemoItem(cls.title, f"{name}.png", f"{name}.wav",
                                      f"{result.output_rate / 1000:g} kHz, {result.output.shape[1]} channels, made "
                                      f"in {result.seconds:.2f} s", tall=True))
    return section


def _studio_item(out_dir: Path, name: str, audio, sample_rate: int) -> None:
    """``out_dir/name.wav`` (16-bit, as is) and ``out_dir/name.png`` (every channel's full-band spectrogram)."""
    write_audio(out_dir / f"{name}.wav", audio, sample_rate=sample_rate, bit_depth="16")
    save_png(out_dir / f"{name}.png", Spectrogram.from_channels(audio, SpectrogramConfig.for_rate(sample_rate)))
