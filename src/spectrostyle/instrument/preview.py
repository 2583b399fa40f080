"""Hearing a built instrument: every key played through its SF2 by FluidSynth (pitch checked by pYIN), a preview page
with a player and a spectrogram per key, and a MIDI file rendered through it."""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spectrostyle.core.audio import write_audio
from spectrostyle.core.errors import InputError
from spectrostyle.core.png import write_png
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig
from spectrostyle.instrument.build import RENDER_RATE, Instrument
from spectrostyle.instrument.keys import detect_root_key, note_name
from spectrostyle.instrument.sf2 import sf2_bytes

PREVIEW_SECONDS, PREVIEW_HOLD = 2.0, 1.5
SILENT_DB = -60.0  # a key whose peak is below this (dBFS) counts as silent


@dataclass(frozen=True)
class KeyCheck:
    """One key played through the SF2: the cents between the pitch heard and the key (NaN: no pitch heard), and the
    peak in dBFS."""

    key: int
    cents: float
    peak_db: float
    audio: np.ndarray


def play_keys(instrument: Instrument, keys: list[int], velocity: int = 127) -> list[KeyCheck]:
    """Every key of ``keys`` played through the instrument's SF2 by FluidSynth, and measured."""
    from spectrostyle.data.render import NoteRenderer

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{instrument.name}.sf2"
        path.write_bytes(sf2_bytes(instrument.name, instrument.zones))
        checks = []
        with NoteRenderer(path, sample_rate=RENDER_RATE, gain=1.0) as renderer:
            for key in keys:
                audio = renderer.render(0, key, velocity, duration=PREVIEW_SECONDS, hold=PREVIEW_HOLD)
                peak = float(np.abs(audio).max())
                heard, pitch = detect_root_key(audio, RENDER_RATE)
                cents = 100.0 * (pitch - key) if heard is not None else float("nan")
                checks.append(KeyCheck(key, cents, 20 * np.log10(max(peak, 1e-12)), audio))
    return checks


def preview_keys(instrument: Instrument) -> list[int]:
    """The keys a preview plays: every key from a fifth below the lowest root to a fifth above the highest."""
    roots = [s.sample.root for s in instrument.samples]
    return list(range(max(0, min(roots) - 7), min(127, max(roots) + 7) + 1))


def preview_writers(instrument: Instrument, checks: list[KeyCheck]) -> dict[Path, Callable[[Path], None]]:
    """``index.html`` and, per key, ``preview/KEY.flac`` and its spectrogram ``preview/KEY.png``."""
    writers: dict[Path, Callable[[Path], None]] = {}
    config = SpectrogramConfig()
    rows = []
    for check in checks:
        stem = f"preview/{check.key:03d}_{note_name(check.key).replace('#', 's')}"

        def audio_writer(path: Path, check: KeyCheck = check) -> None:
            write_audio(path, check.audio[:, None], sample_rate=RENDER_RATE, bit_depth="16", container="FLAC")

        def image_writer(path: Path, check: KeyCheck = check) -> None:
            from spectrostyle.core.audio import mono_at

            write_png(path, Spectrogram.from_audio(mono_at(check.audio[:, None], RENDER_RATE, config.sample_rate),
                                                   config))

        writers[instrument.folder / f"{stem}.flac"] = audio_writer
        writers[instrument.folder / f"{stem}.png"] = image_writer
        roots = {s.sample.root for s in instrument.samples}
        pitch = "no pitch heard" if np.isnan(check.cents) else f"{check.cents:+.1f} cents"
        rows.append(f"<tr><td>{note_name(check.key)} ({check.key}){' root' if check.key in roots else ''}</td>"
                    f"<td><audio controls preload='none' src='{stem}.flac'></audio></td>"
                    f"<td><img src='{stem}.png' height='96' alt='spectrogram of key {check.key}'></td>"
                    f"<td>{pitch}, peak {check.peak_db:.1f} dBFS</td></tr>")
    name = html.escape(instrument.name)
    page = (f"<!doctype html><meta charset='utf-8'><title>{name}</title>"
            "<style>body{font-family:sans-serif;margin:2em}td{padding:2px 8px}img{image-rendering:pixelated}</style>"
            f"<h1>{name}</h1><p>Load <a href='{name}.sfz'>{name}.sfz</a> (with its samples folder) or "
            f"<a href='{name}.sf2'>{name}.sf2</a> in a sampler. Each key below is played through the SF2 by FluidSynth "
            "(spectrograms 0-8 kHz, low at the bottom).</p><table>" + "".join(rows) + "</table>")
    writers[instrument.folder / "index.html"] = lambda path: path.write_text(page, encoding="utf-8")
    return writers


def midi_events(path: str | os.PathLike) -> tuple[list[tuple[float, str, int, int, int]], float]:
    """The note and program events of a MIDI file in seconds (tempo changes applied, by mido), and its length."""
    import mido

    try:
        midi = mido.MidiFile(str(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise InputError(f"'{path}' is not a readable MIDI file ({exc})") from None
    events, now = [], 0.0
    for message in midi:  # iterating a MidiFile yields messages with delta times in seconds
        now += message.time
        if message.type in ("note_on", "note_off"):
            events.append((now, message.type, message.channel, message.note, getattr(message, "velocity", 0)))
        elif message.type == "program_change":
            events.append((now, "program", message.channel, 0, 0))  # the instrument is the file's only preset
    if not any(kind == "note_on" for _, kind, *_ in events):
        raise InputError(f"'{path}' plays no notes")
    return events, now + 1.0


def render_events_through(instrument: Instrument, events: list[tuple[float, str, int, int, int]], seconds: float
                          ) -> np.ndarray:
    """A performance (:meth:`~spectrostyle.data.render.NoteRenderer.render_events`) played through the instrument's
    SF2: ``(samples, 2)`` float32 at :data:`RENDER_RATE`, peak at -1 dBFS."""
    from spectrostyle.data.render import NoteRenderer

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{instrument.name}.sf2"
        path.write_bytes(sf2_bytes(instrument.name, instrument.zones))
        with NoteRenderer(path, sample_rate=RENDER_RATE, gain=1.0) as renderer:
            audio = renderer.render_events(events, seconds)
    peak = float(np.abs(audio).max())
    return audio * (10 ** (-1 / 20) / peak) if peak > 0 else audio


def render_midi(instrument: Instrument, midi: str | os.PathLike) -> np.ndarray:
    """A MIDI file played through the instrument's SF2: ``(samples, 2)`` float32 at :data:`RENDER_RATE`, peak at
    -1 dBFS."""
    return render_events_through(instrument, *midi_events(midi))
