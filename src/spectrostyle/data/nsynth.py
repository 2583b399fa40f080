"""NSynth-format datasets: an index of notes, filters and held-out splits, a torch Dataset of spectrogram
images, and the tiny example set shipped inside the package.

A dataset folder holds ``examples.json`` (a dict keyed by ``note_str``; NSynth's json/wav release and
:func:`spectrostyle.data.render.render_dataset` both write it) and ``audio/<note_str>.wav``. Pitches and
velocities are MIDI values (0-127); family and source ids follow NSynth (see ``FAMILIES`` and ``SOURCES``).
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from spectrostyle.core.audio import load_audio
from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig
from spectrostyle.core.vocabulary import FAMILIES, SOURCES, pitch_name
from spectrostyle.data.render import AUDIO_DIR, JSON_NAME, NOTE_SECONDS

# examples.json fields read into NSynthExample, with their JSON types (gm_program is optional)
REQUIRED_FIELDS: dict[str, type] = {
    "note": int, "note_str": str, "instrument": int, "instrument_str": str, "instrument_family": int,
    "instrument_family_str": str, "instrument_source": int, "instrument_source_str": str, "pitch": int,
    "velocity": int, "sample_rate": int, "qualities": list, "qualities_str": list,
}


LABEL_ALIASES = {"family": "instrument_family", "source": "instrument_source"}


LABEL_FIELDS = ("instrument_family", "instrument_source", "pitch", "velocity", "instrument", "gm_program")


@dataclass(frozen=True)
class NSynthExample:
    """One note of an NSynth-format dataset: NSynth's metadata fields plus where its WAV lies.

    ``pitch``/``velocity``: MIDI 0-127; ``sample_rate`` in Hz; ``qualities``: 10 ints (0/1);
    ``gm_program``: the 0-based GM program for notes rendered by :mod:`spectrostyle.render`, else None.
    """

    note: int
    note_str: str
    instrument: int
    instrument_str: str
    instrument_family: int
    instrument_family_str: str
    instrument_source: int
    instrument_source_str: str
    pitch: int
    velocity: int
    sample_rate: int
    qualities: tuple[int, ...]
    qualities_str: tuple[str, ...]
    audio_path: Path
    gm_program: int | None = None

    @classmethod
    def from_json(cls, key: str, entry: Any, audio_dir: Path, source: Path) -> NSynthExample:
        """Build from one ``examples.json`` entry; :class:`InputError` naming the note and field if malformed."""
        if not isinstance(entry, dict):
            raise InputError(f"'{source}': entry '{key}' is not an object")
        values: dict[str, Any] = {}
        for name, kind in REQUIRED_FIELDS.items():
            if name not in entry:
                raise InputError(f"'{source}': entry '{key}' has no '{name}' field")
            value = entry[name]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise InputError(f"'{source}': entry '{key}' field '{name}' should be {kind.__name__}, "
                                 f"got {type(value).__name__}")
            values[name] = value
        if values["note_str"] != key:
            raise InputError(f"'{source}': entry '{key}' has a different note_str '{values['note_str']}'")
        if not all(isinstance(q, int) for q in values["qualities"]) or not all(
                isinstance(q, str) for q in values["qualities_str"]):
            raise InputError(f"'{source}': entry '{key}' has malformed qualities")
        if not (0 <= values["pitch"] <= 127 and 0 <= values["velocity"] <= 127 and values["sample_rate"] > 0):
            raise InputError(f"'{source}': entry '{key}' has pitch {values['pitch']}, velocity "
                             f"{values['velocity']}, sample rate {values['sample_rate']}: out of range")
        gm_program = entry.get("gm_program")
        if gm_program is not None and (not isinstance(gm_program, int) or isinstance(gm_program, bool)):
            raise InputError(f"'{source}': entry '{key}' field 'gm_program' should be int")
        values["qualities"] = tuple(values["qualities"])
        values["qualities_str"] = tuple(values["qualities_str"])
        return cls(**values, audio_path=audio_dir / f"{key}.wav", gm_program=gm_program)


def _as_set(values: Any) -> set:
    if isinstance(values, str | int):
        return {values}
    return set(values)


def _vocabulary_ids(values: Any, vocabulary: Sequence[str], what: str) -> set[int]:
    """Names or ids -> ids; :class:`InputError` listing the valid names for an unknown one."""
    ids = set()
    for value in _as_set(values):
        if isinstance(value, str) and value in vocabulary:
            ids.add(vocabulary.index(value))
        elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(vocabulary):
            ids.add(value)
        else:
            raise InputError(f"unknown instrument {what} {value!r} (valid: {', '.join(vocabulary)})")
    return ids


class NSynthIndex:
    """The notes of an NSynth-format dataset (``root/examples.json`` + ``root/audio/``), sorted by note_str.

    ``NSynthIndex(root)`` (or ``NSynthIndex.load(root)``) reads the JSON; filters and splits return new
    indexes over the same folder. Extra JSON fields (as in NSynth's release) are ignored.
    """

    def __init__(self, root: str | os.PathLike, examples: Iterable[NSynthExample] | None = None):
        self.root = Path(root)
        if examples is None:
            examples = _read_examples(self.root)
        self.examples: tuple[NSynthExample, ...] = tuple(sorted(examples, key=lambda e: e.note_str))

    @classmethod
    def load(cls, root: str | os.PathLike) -> NSynthIndex:
        """Read ``root/examples.json``; :class:`InputError` for a missing folder or a missing/malformed file."""
        return cls(root)

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self) -> Iterator[NSynthExample]:
        return iter(self.examples)

    def __getitem__(self, i: int) -> NSynthExample:
        return self.examples[i]

    def __repr__(self) -> str:
        return f"NSynthIndex('{self.root}', {len(self)} notes, {len(self.instruments)} instruments)"

    def _subset(self, examples: Iterable[NSynthExample]) -> NSynthIndex:
        return NSynthIndex(self.root, examples)

    def get(self, note_str: str) -> NSynthExample:
        """The note named ``note_str``; :class:`InputError` if absent."""
        for example in self.examples:
            if example.note_str == note_str:
                return example
        raise InputError(f"no note '{note_str}' in '{self.root}'")

    @property
    def families(self) -> list[str]:
        """Family names present, in NSynth id order."""
        return [f for _, f in sorted({(e.instrument_family, e.instrument_family_str) for e in self})]

    @property
    def sources(self) -> list[str]:
        return [s for _, s in sorted({(e.instrument_source, e.instrument_source_str) for e in self})]

    @property
    def instruments(self) -> list[str]:
        """Distinct ``instrument_str`` values, sorted."""
        return sorted({e.instrument_str for e in self})

    @property
    def pitches(self) -> list[int]:
        return sorted({e.pitch for e in self})

    @property
    def velocities(self) -> list[int]:
        return sorted({e.velocity for e in self})

    def counts(self, field: str) -> dict[Any, int]:
        """Notes per value of an :class:`NSynthExample` field, sorted by value."""
        if field not in NSynthExample.__dataclass_fields__:
            raise InputError(f"unknown field '{field}'")
        return dict(sorted(Counter(getattr(e, field) for e in self).items()))

    def filter(self, *, families: Any = None, sources: Any = None, pitches: tuple[int, int] | None = None,
               velocities: Any = None, instruments: Any = None) -> NSynthIndex:
        """Notes matching every given criterion (None = any).

        ``families``/``sources``: names or NSynth ids (one or several); ``pitches``: inclusive MIDI range
        ``(low, high)``; ``velocities``: MIDI values; ``instruments``: ``instrument_str`` names or
        ``instrument`` ids.
        """
        kept: Iterable[NSynthExample] = self.examples
        if families is not None:
            family_ids = _vocabulary_ids(families, FAMILIES, "family")
            kept = [e for e in kept if e.instrument_family in family_ids]
        if sources is not None:
            source_ids = _vocabulary_ids(sources, SOURCES, "source")
            kept = [e for e in kept if e.instrument_source in source_ids]
        if pitches is not None:
            try:
                lo, hi = (int(p) for p in pitches)
            except (TypeError, ValueError):
                raise InputError(f"pitch range must be (low, high), got {pitches!r}") from None
            if lo > hi:
                raise InputError(f"pitch range {lo}-{hi} is empty: the low pitch is above the high one")
            kept = [e for e in kept if lo <= e.pitch <= hi]
        if velocities is not None:
            wanted_velocities = _as_set(velocities)
            kept = [e for e in kept if e.velocity in wanted_velocities]
        if instruments is not None:
            wanted = _as_set(instruments)
            kept = [e for e in kept if e.instrument_str in wanted or e.instrument in wanted]
        return self._subset(kept)

    def split_by_instrument(self, fraction: float = 0.2, seed: int = 0) -> tuple[NSynthIndex, NSynthIndex]:
        """``(train, held_out)``: whole instruments held out, so no instrument is in both.

        Stratified by family: in each family with n >= 2 instruments, ``round(fraction * n)`` of them
        (at least 1, at most n - 1) are held out, chosen with ``seed``; single-instrument families stay in
        train. Deterministic for a given index and seed.
        """
        _check_fraction(fraction)
        rng = random.Random(seed)
        held: set[str] = set()
        for family in sorted({e.instrument_family for e in self}):
            names = sorted({e.instrument_str for e in self if e.instrument_family == family})
            if len(names) < 2:
                continue
            count = min(max(round(fraction * len(names)), 1), len(names) - 1)
            held.update(rng.sample(names, count))
        if not held:
            raise InputError("cannot split by instrument: no family has two or more instruments")
        return (self._subset(e for e in self if e.instrument_str not in held),
                self._subset(e for e in self if e.instrument_str in held))

    def split_by_pitch(self, fraction: float = 0.2, seed: int = 0, *,
                       pitches: Iterable[int] | None = None) -> tuple[NSynthIndex, NSynthIndex]:
        """``(train, held_out)``: whole pitches held out, so no pitch is in both.

        ``pitches`` names the held-out pitches; otherwise ``round(fraction * n)`` of the n distinct pitches
        (at least 1, at most n - 1) are chosen with ``seed``.
        """
        present = self.pitches
        if pitches is not None:
            held = set(pitches)
            missing = sorted(held - set(present))
            if missing:
                raise InputError(f"pitches {missing} are not in this index (present: {present})")
        else:
            _check_fraction(fraction)
            if len(present) < 2:
                raise InputError(f"cannot split by pitch: only {len(present)} distinct pitch(es)")
            count = min(max(round(fraction * len(present)), 1), len(present) - 1)
            held = set(random.Random(seed).sample(present, count))
        return (self._subset(e for e in self if e.pitch not in held),
                self._subset(e for e in self if e.pitch in held))


def _check_fraction(fraction: float) -> None:
    if not 0 < fraction < 1:
        raise InputError(f"held-out fraction must be between 0 and 1, got {fraction}")


def _read_examples(root: Path) -> list[NSynthExample]:
    if not root.exists():
        raise InputError(f"dataset folder '{root}' does not exist")
    if not root.is_dir():
        raise InputError(f"dataset path '{root}' is not a folder")
    json_path = root / JSON_NAME
    if not json_path.is_file():
        raise InputError(f"'{root}' is not an NSynth-format dataset: it has no {JSON_NAME}")
    try:
        entries = json.loads(json_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"'{json_path}' is not valid JSON ({exc})") from None
    if not isinstance(entries, dict):
        raise InputError(f"'{json_path}' should hold an object keyed by note_str, not a "
                         f"{type(entries).__name__}")
    audio_dir = root / AUDIO_DIR
    if entries and not audio_dir.is_dir():
        raise InputError(f"'{root}' has {JSON_NAME} but no '{AUDIO_DIR}' folder")
    return [NSynthExample.from_json(key, entry, audio_dir, json_path) for key, entry in entries.items()]


class SpectrogramDataset(Dataset):
    """Spectrogram images of an index's notes: item ``i`` is ``(image, label)``.

    ``image``: ``(1, freq, frames)`` float32 in [0, 1] from :class:`Spectrogram` (a 4 s note at the
    default config is ``1 x 512 x 256``); the audio is loaded at ``config.sample_rate`` and padded or cut to
    ``duration`` seconds (None: as it is). ``label``: an int for ``label_field``: ``instrument_family``
    (default; NSynth ids, ``label_names`` = the 11 families), ``instrument_source`` (3 sources), ``pitch``
    (the MIDI pitch; 128 names), or ``velocity``, ``instrument`` or ``gm_program``, numbered by ``classes``
    (default: the sorted distinct values in the index; pass the same ``classes`` to each split).
    ``cache=True`` keeps images in memory after first use (per DataLoader worker).
    """

    def __init__(self, index: NSynthIndex, *, config: SpectrogramConfig | None = None,
                 label_field: str = "instrument_family", classes: Sequence[Any] | None = None,
                 duration: float | None = NOTE_SECONDS, cache: bool = False):
        self.index = index
        self.config = config or SpectrogramConfig()
        field = LABEL_ALIASES.get(label_field, label_field)
        if field not in LABEL_FIELDS:
            raise InputError(f"unknown label field '{label_field}' (choose from: "
                             f"{', '.join(LABEL_FIELDS + tuple(LABEL_ALIASES))})")
        if duration is not None and duration <= 0:
            raise InputError(f"duration must be positive, got {duration}")
        self.label_field = field
        self.duration = duration
        self.cache = cache
        self._images: dict[int, torch.Tensor] = {}
        self.classes: tuple[Any, ...] | None = None  # for velocity, instrument, gm_program labels
        values = [self._value(e) for e in index]
        if field == "instrument_family":
            self.label_names: tuple[str, ...] = FAMILIES
            self.labels = values
        elif field == "instrument_source":
            self.label_names = SOURCES
            self.labels = values
        elif field == "pitch":
            self.label_names = tuple(pitch_name(p) for p in range(128))
            self.labels = values
        else:
            self.classes = tuple(classes) if classes is not None else tuple(sorted(set(values)))
            unknown = sorted(set(values) - set(self.classes), key=str)
            if unknown:
                raise InputError(f"{field} values {unknown[:5]} are not among the given classes")
            position = {value: i for i, value in enumerate(self.classes)}
            self.label_names = tuple(str(c) for c in self.classes)
            self.labels = [position[v] for v in values]

    def _value(self, example: NSynthExample) -> Any:
        if self.label_field == "instrument":
            return example.instrument_str
        value = getattr(example, self.label_field)
        if value is None:
            raise InputError(f"note '{example.note_str}' has no {self.label_field}")
        return value

    def __len__(self) -> int:
        return len(self.index)

    def image(self, i: int) -> torch.Tensor:
        """Image of note ``i``: ``(1, freq, frames)`` float32 in [0, 1]."""
        if i in self._images:
            return self._images[i]
        example = self.index[i]
        audio = load_audio(example.audio_path, sample_rate=self.config.sample_rate)
        if self.duration is not None:
            length = round(self.duration * self.config.sample_rate)
            audio = np.pad(audio, (0, max(0, length - audio.shape[0])))[:length]
        image = Spectrogram.from_audio(audio, self.config).image.unsqueeze(0).to(torch.float32)
        if self.cache:
            self._images[i] = image
        return image

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} notes")
        i %= len(self)
        return self.image(i), self.labels[i]


def dataset_info(root: str | os.PathLike) -> str:
    """A readable summary of an NSynth-format dataset: totals, then notes per family, source, instrument
    and pitch."""
    index = NSynthIndex(root)
    lines = [f"NSynth-format dataset '{index.root}'"]
    if not len(index):
        lines.append("  no notes")
        return "\n".join(lines)
    pitches, velocities = index.pitches, index.velocities
    rates = sorted({e.sample_rate for e in index})
    lines.append(f"  {len(index)} notes, {len(index.instruments)} instruments, {len(index.families)} families; "
                 f"pitches {pitches[0]}-{pitches[-1]} ({len(pitches)} distinct); velocities "
                 f"{', '.join(map(str, velocities))}; sample rate {', '.join(map(str, rates))} Hz")
    wavs = sum(1 for e in index if e.audio_path.is_file())
    if wavs < len(index):
        lines.append(f"  warning: {len(index) - wavs} notes have no WAV file in '{index.root / AUDIO_DIR}'")

    lines.append("notes per family:")
    for family in index.families:
        sub = index.filter(families=family)
        lines.append(f"  {family:12s} {len(sub):7d} notes  {len(sub.instruments):4d} instruments")
    lines.append("notes per source:")
    for source in index.sources:
        sub = index.filter(sources=source)
        lines.append(f"  {source:12s} {len(sub):7d} notes  {len(sub.instruments):4d} instruments")
    lines.append("notes per instrument:")
    by_instrument: dict[str, list[NSynthExample]] = {}
    for example in index:
        by_instrument.setdefault(example.instrument_str, []).append(example)
    width = max(len(name) for name in by_instrument)
    for name, notes in sorted(by_instrument.items()):
        gm = notes[0].gm_program
        extra = f"  (GM program {gm})" if gm is not None else ""
        low, high = min(e.pitch for e in notes), max(e.pitch for e in notes)
        lines.append(f"  {name:{width}s} {len(notes):6d} notes, pitches {low}-{high}{extra}")
    lines.append("notes per pitch:")
    cells = [f"{p:3d} {pitch_name(p):4s}{n:6d}" for p, n in index.counts("pitch").items()]
    for start in range(0, len(cells), 6):
        lines.append("  " + "   ".join(cells[start:start + 6]))
    return "\n".join(lines)
