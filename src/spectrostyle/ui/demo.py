"""``spectrostyle demo``: the shipped example notes through every available step, as one HTML page."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from spectrostyle.core.audio import atomic_output, load_audio, save_audio
from spectrostyle.core.png import save_png
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig, spectral_convergence_db
from spectrostyle.data.examples import example_path
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
             ".cap{font-size:.85em;color:#444}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2><p>{html.escape(section.description)}</p>")
        parts.append("<div class='row'>")
        for item in section.items:
            parts.append(
                f"<div class='item'><b>{html.escape(item.label)}</b><br>"
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
    page = out_dir / "index.html"
    with atomic_output(page) as tmp:
        tmp.write_text(render_page(sections), encoding="utf-8")
    return page
