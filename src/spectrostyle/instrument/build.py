"""A playable instrument from two sounds: every note of a source through a method, made playable, written as SFZ and
SF2 with a preview page.

The source is a folder of the user's samples (each file's root key from a trailing MIDI number or note name in its
name, else from its pitch) or a General MIDI program or family rendered from the shipped SoundFont at chosen keys and
velocities. Each note goes through the method as any transfer does (its rate and channels kept, full band, its
loudness and attacks), is trimmed, tuned to its root key and looped on its sustained part
(:mod:`spectrostyle.instrument.samples`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from spectrostyle.core.audio import Recording, read_audio, write_audio
from spectrostyle.core.errors import InputError
from spectrostyle.core.outputs import check_outputs, staged_outputs
from spectrostyle.core.vocabulary import FAMILIES
from spectrostyle.folders import AUDIO_SUFFIXES
from spectrostyle.instrument.keys import (
    detect_root_key,
    key_ranges,
    note_name,
    root_key_from_name,
    velocity_ranges,
)
from spectrostyle.instrument.samples import Sample, make_playable, seam_jump
from spectrostyle.instrument.sf2 import Zone, sf2_bytes
from spectrostyle.instrument.sfz import Region, sfz_text
from spectrostyle.methods.base import TransferMethod
from spectrostyle.pipeline import PreparedStyles, prepare_styles, transfer

RENDER_RATE = 44_100  # SoundFont sources are rendered at this rate
NOTE_SECONDS, HOLD_SECONDS = 4.0, 3.0  # a rendered note: held this long, then released
FOLDER_VELOCITY = 127  # a folder's samples are one velocity layer
MAX_RETUNE_SEMITONES = 6.0  # a result is tuned to its root key when heard closer than this


@dataclass
class SourceNote:
    """A note to make a sample from: ``audio`` ``(samples, channels)`` at ``sample_rate``, its root key, the velocity
    layer it belongs to, and a name for its file."""

    audio: np.ndarray
    sample_rate: int
    root: int
    velocity: int
    name: str


@dataclass
class BuiltSample:
    """What became of one note: the playable sample, its file (relative to the instrument's folder), the seam's
    jump against the loop's typical step (None without a loop), the seconds its transfer took."""

    sample: Sample
    velocity: int
    path: str
    seam: float | None
    seconds: float


@dataclass
class Instrument:
    """A built instrument: its files and samples."""

    name: str
    folder: Path
    sfz: Path
    sf2: Path
    samples: list[BuiltSample] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def zones(self) -> list[Zone]:
        """The samples as zones of the instrument, each velocity layer's key ranges split between its roots."""
        layers = sorted({s.velocity for s in self.samples})
        velocity_of = dict(zip(layers, velocity_ranges(layers), strict=True))
        zones = []
        for layer in layers:
            built = sorted((s for s in self.samples if s.velocity == layer), key=lambda s: s.sample.root)
            for item, keys in zip(built, key_ranges([s.sample.root for s in built]), strict=True):
                zones.append(Zone(Path(item.path).stem, item.sample.audio, item.sample.sample_rate, item.sample.root,
                                  keys, velocity_of[layer], item.sample.loop))
        return zones


def parse_program(text: str) -> int | None:
    """A SoundFont source: ``gm:N`` or ``program:N`` (a 0-based GM program), or an instrument family (its most typical
    GM program); None for anything else (a folder)."""
    from spectrostyle.data.programs import family_programs

    found = re.fullmatch(r"(?:gm|program):(\d{1,3})", text.strip().lower())
    if found:
        program = int(found.group(1))
        if program > 127:
            raise InputError(f"GM programs are 0..127, got {program}")
        return program
    if text in FAMILIES:
        return family_programs(text)[0].program
    return None


def notes_from_soundfont(program: int, keys: Sequence[int], velocities: Sequence[int], *,
                         soundfont: str | os.PathLike | None = None) -> list[SourceNote]:
    """GM ``program`` rendered from ``soundfont`` (default: the shipped one) at every key and velocity, mono at
    :data:`RENDER_RATE`; keys outside the program's playable range (:mod:`spectrostyle.data.programs`) are left
    out, so an instrument's notes are ones the instrument plays."""
    from spectrostyle.data.programs import PROGRAMS_BY_NUMBER
    from spectrostyle.data.render import NoteRenderer

    known = PROGRAMS_BY_NUMBER.get(program)
    playable = [key for key in keys if known is None or known.plays(key)]
    if not playable:
        raise InputError(f"GM program {program} ({known.name}) plays keys {known.low}-{known.high}, none of "
                         f"{keys[0]}-{keys[-1]}; choose --keys in its range")
    notes = []
    with NoteRenderer(soundfont, sample_rate=RENDER_RATE) as renderer:
        for velocity in velocities:
            for key in playable:
                audio = renderer.render(program, key, velocity, duration=NOTE_SECONDS, hold=HOLD_SECONDS)
                if np.abs(audio).max() < 1e-4:
                    raise InputError(f"GM program {program} is silent at key {key}; choose keys it plays")
                notes.append(SourceNote(audio[:, None], RENDER_RATE, key, velocity,
                                        f"{note_name(key)}_v{velocity}".replace("#", "s")))
    return notes


def notes_from_folder(folder: str | os.PathLike, *, max_seconds: float = 60.0) -> list[SourceNote]:
    """The audio files of ``folder`` (not its sub-folders) as one velocity layer: each file's root key from its name
    (``flute_67.wav``, ``flute_G4.wav``) or else from the pitch heard in it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"'{folder}' is neither a folder of samples nor a family or gm:PROGRAM")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise InputError(f"'{folder}' holds no audio files ({', '.join(AUDIO_SUFFIXES)})")
    notes: dict[int, SourceNote] = {}
    for path in files:
        audio, rate = read_audio(path, max_seconds=max_seconds)
        root = root_key_from_name(path.stem)
        if root is None:
            root, _ = detect_root_key(audio.mean(axis=1), rate)
            if root is None:
                raise InputError(f"'{path.name}' has no pitch to take a root key from; name it like "
                                 f"{path.stem}_60{path.suffix} or {path.stem}_C4{path.suffix}")
        if root in notes:
            raise InputError(f"'{path.name}' and '{notes[root].name}' both have root key {note_name(root)}")
        notes[root] = SourceNote(audio, rate, root, FOLDER_VELOCITY, path.name)
    return [notes[root] for root in sorted(notes)]


def _sample_name(name: str, note: SourceNote) -> str:
    return f"samples/{name}_{note_name(note.root).replace('#', 's')}_v{note.velocity}.flac"


def build_instrument(notes: Sequence[SourceNote], method: TransferMethod,
                     style: str | os.PathLike | Sequence[str | os.PathLike] | PreparedStyles | None,
                     out_dir: str | os.PathLike, *, name: str = "instrument", overwrite: bool = False,
                     progress: bool = True, extra: Callable[[Instrument], dict[Path, Callable[[Path], None]]] | None
                     = None) -> Instrument:
    """Make an instrument of ``notes`` through ``method`` (a ready method object) with ``style``, written to
    ``out_dir``: ``NAME.sfz`` with ``samples/*.flac`` (24-bit, the notes' rate and channels), and ``NAME.sf2``.

    ``extra(instrument)`` may name more files to write with the rest (path -> writer of a temporary file at that
    path): the preview page, a MIDI demo. Every file is written to a temporary name and all are renamed at the end;
    existing files are refused unless ``overwrite``.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise InputError(f"instrument name '{name}' should be letters, digits, '_', '-' or '.' (up to 64)")
    if not notes:
        raise InputError("no notes to make an instrument of")
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"'{folder}' exists and is not a folder")
    instrument = Instrument(name, folder, folder / f"{name}.sfz", folder / f"{name}.sf2")
    if folder.exists():  # before the work: the instrument's own files
        check_outputs([instrument.sfz, instrument.sf2], overwrite=overwrite)
    started = time.perf_counter()
    prepared = style if isinstance(style, PreparedStyles) else prepare_styles(method, style)
    for note in tqdm(notes, desc=f"instrument ({method.name})", unit="note", disable=not progress):
        begun = time.perf_counter()
        result = transfer(Recording(note.audio, note.sample_rate), prepared, method)
        heard_root, pitch = detect_root_key(result.output.mean(axis=1), result.output_rate)
        # a result heard more than a tritone away is a pitch-tracking slip (an octave, a fifth): left as it is
        pitch = pitch if heard_root is not None and abs(pitch - note.root) < MAX_RETUNE_SEMITONES else float(note.root)
        sample = make_playable(result.output, result.output_rate, note.root, pitch,
                               hear=lambda mono, rate: detect_root_key(mono, rate)[1])
        instrument.samples.append(BuiltSample(sample, note.velocity, _sample_name(name, note),
                                              seam_jump(sample.audio, sample.loop) if sample.loop else None,
                                              time.perf_counter() - begun))
    writers: dict[Path, Callable[[Path], None]] = {}
    for built in instrument.samples:
        def write_sample(path: Path, built: BuiltSample = built) -> None:
            write_audio(path, built.sample.audio, sample_rate=built.sample.sample_rate, bit_depth="24",
                        container="FLAC")
        writers[folder / built.path] = write_sample
    regions = [Region(Path(b.path).as_posix(), z.root, z.keys, z.velocities, z.loop)
               for b, z in zip(sorted(instrument.samples, key=lambda b: (b.velocity, b.sample.root)),
                               instrument.zones, strict=True)]
    writers[instrument.sfz] = lambda path: path.write_text(sfz_text(name, regions), encoding="utf-8")
    writers[instrument.sf2] = lambda path: path.write_bytes(sf2_bytes(name, instrument.zones))
    if extra is not None:
        writers.update(extra(instrument))
    for path in writers:
        path.parent.mkdir(parents=True, exist_ok=True)
    outputs = check_outputs(list(writers), overwrite=overwrite)
    with staged_outputs(*outputs) as temporaries:
        for temporary, write in zip(temporaries, writers.values(), strict=True):
            write(temporary)
    instrument.seconds = time.perf_counter() - started
    return instrument
