"""Which notes a trainer uses: selections by family, pitch and velocity, loaded as images."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from spectrostyle.core.audio import AUDIO_SUFFIXES, load_audio
from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig


@dataclass
class NoteSelection:
    """Which notes of an NSynth-format dataset to train on (None = all), and how many to hold out.

    ``pitches``: inclusive MIDI range; ``max_notes``: a seeded random subset of at most this many training
    notes; ``val_notes``: notes held out (seeded choice) for the validation loss and the samples.
    """

    families: tuple[str, ...] | None = None
    pitches: tuple[int, int] | None = None
    velocities: tuple[int, ...] | None = None
    max_notes: int | None = None
    val_notes: int = 8


@dataclass
class TrainingNotes:
    """Cached images ``(N, 1, F, T)`` float16 of the training and validation notes, and where they came from."""

    train: Tensor
    val: Tensor
    train_names: list[str]
    val_names: list[str]
    val_paths: list[Path]
    description: str
    train_paths: list[Path] = field(default_factory=list)

    def train_batch(self, indices: Sequence[int], generator: torch.Generator) -> Tensor:
        """The training batch ``(b, C, F, T)`` (float16, CPU) for ``indices`` of ``train``; ``generator`` is the
        step's (subclasses draw from it, e.g. the partner of each note). Here: the notes themselves."""
        return self.train[list(indices)]


def load_training_notes(data: Path, selection: NoteSelection, config: SpectrogramConfig, *, seed: int = 0,
                        progress: bool = False) -> TrainingNotes:
    """Select, split and load notes (see :class:`NoteSelection`); :class:`InputError` when too few match."""
    pass
    from spectrostyle.data.nsynth import NSynthIndex

    index = NSynthIndex.load(data)
    if selection.families is not None:
        present = set(index.families)
        missing = [f for f in selection.families if f not in present]
        if missing:
            raise InputError(f"families not in '{data}': {', '.join(missing)} (present: {', '.join(index.families)})")
    index = index.filter(families=selection.families, pitches=selection.pitches, velocities=selection.velocities)
    examples = list(index)
    random.Random(seed).shuffle(examples)
    if selection.val_notes < 1:
        raise InputError(f"val_notes must be >= 1, got {selection.val_notes}")
    val, train = examples[:selection.val_notes], examples[selection.val_notes:]
    if selection.max_notes is not None:
        train = train[:selection.max_notes]
    if not train:
        raise InputError(f"only {len(examples)} note(s) in '{data}' match the selection; training needs more than "
                         f"the {selection.val_notes} held out for validation")
    train.sort(key=lambda e: e.note_str)
    images = note_images([e.audio_path for e in train + val], config, progress=progress, desc="loading notes")
    families = sorted({e.instrument_family_str for e in train})
    description = (f"{len(train)} notes of {data.name} ({', '.join(families)}; pitches "
                   f"{min(e.pitch for e in train)}-{max(e.pitch for e in train)}; {len(val)} held out)")
    return TrainingNotes(train=images[:len(train)], val=images[len(train):], train_names=[e.note_str for e in train],
                         val_names=[e.note_str for e in val], val_paths=[e.audio_path for e in val],
                         description=description, train_paths=[e.audio_path for e in train])


def note_images(audio_paths: Sequence[Path], config: SpectrogramConfig, *, progress: bool = False,
                desc: str = "spectrograms") -> Tensor:
    """Load notes and make their images: ``(N, 1, F, T)`` float16 (T of the longest note; shorter are padded)."""
    images = []
    for path in tqdm(audio_paths, desc=desc, disable=not progress, leave=False):
        audio = load_audio(path, sample_rate=config.sample_rate)
        images.append(Spectrogram.from_audio(audio, config).image.to(torch.float16))
    frames = max(image.shape[-1] for image in images)
    batch = torch.zeros(len(images), 1, config.n_freq, frames, dtype=torch.float16)
    for i, image in enumerate(images):
        batch[i, 0, :, : image.shape[-1]] = image
    return batch


PIECE_HOP_S = 1.0  # recordings are cut into pieces of a note's length, starting every this many seconds
QUIET_PIECE_DB = -40.0  # a piece whose RMS lies this far below its recording's loudest piece is left out


def recording_pieces(folders: Sequence[Path], config: SpectrogramConfig, frames: int, *,
                     hop_s: float = PIECE_HOP_S, progress: bool = False) -> tuple[Tensor, list[str]]:
    """The audio files under ``folders`` (searched recursively; any rate and channels, mixed to mono at
    ``config.sample_rate``) cut into pieces as long as a training note (``frames`` frames), one starting every
    ``hop_s`` seconds (a recording shorter than a note is one piece, padded with silence), the near-silent ones left
    out -> ``(images (N, 1, F, frames) float16, names)``: recordings of any kind (melodies, chords, drum loops,
    speech) made into training images like the notes'. :class:`InputError` when they hold no audio."""
    files = sorted(p for folder in folders for p in Path(folder).rglob("*")
                   if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise InputError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) under {', '.join(map(str, folders))}")
    length = (frames - 1) * config.hop_length
    hop = max(1, round(hop_s * config.sample_rate))
    images, names = [], []
    for path in tqdm(files, desc="loading recordings", disable=not progress, leave=False):
        audio = load_audio(path, sample_rate=config.sample_rate)
        audio = np.pad(audio, (0, max(0, length - len(audio))))  # shorter than a note: one piece, padded
        starts = range(0, len(audio) - length + 1, hop)
        pieces = [audio[s:s + length] for s in starts]
        levels = np.array([np.sqrt(np.mean(np.square(piece))) + 1e-12 for piece in pieces])
        for start, piece, level in zip(starts, pieces, levels, strict=True):
            if 20 * np.log10(level / levels.max()) < QUIET_PIECE_DB:
                continue
            image = Spectrogram.from_audio(piece, config).image[:, :frames]
            images.append(torch.nn.functional.pad(image, (0, frames - image.shape[-1])).to(torch.float16))
            names.append(f"{path.stem}@{start / config.sample_rate:g}s")
    return torch.stack(images)[:, None], names


def split_instruments(examples: Sequence[Any], families: Sequence[str], val_per_family: int, test_per_family: int,
                      seed: int, fold: int = 0) -> dict[str, list[Any]]:
    """Split notes so that whole instruments are held out: per family, ``test_per_family`` instruments go to
    test and ``val_per_family`` to validation, the rest to training.

    ``seed`` orders each family's instruments (a seeded shuffle); ``fold`` k takes the test instruments from
    position ``k * test_per_family`` of that order and the validation ones right after (cyclically), so folds
    ``0 .. n // test_per_family - 1`` of an n-instrument family test each of its instruments once (program
    cross-validation); fold 0 is the split of earlier versions. :class:`InputError` when a family has too few
    instruments or ``fold`` is past the smallest family's last fold.
    """
    generator = np.random.default_rng(seed)
    splits: dict[str, list[Any]] = {"train": [], "val": [], "test": []}
    orders = {}
    for family in families:
        instruments = sorted({e.instrument_str for e in examples if e.instrument_family_str == family})
        needed = val_per_family + test_per_family + 1
        if len(instruments) < needed:
            raise InputError(f"family '{family}' has {len(instruments)} instrument(s) in the data; holding out "
                             f"{val_per_family} for validation and {test_per_family} for test needs {needed}")
        generator.shuffle(instruments)
        orders[family] = instruments
    folds = min(len(instruments) // test_per_family for instruments in orders.values())
    if not 0 <= fold < folds:
        smallest = min(orders, key=lambda family: len(orders[family]))
        raise InputError(f"fold {fold} is out of range: family '{smallest}' has {len(orders[smallest])} instruments, "
                         f"so with {test_per_family} test instrument(s) per fold the folds are 0-{folds - 1}")
    for family, instruments in orders.items():
        start = fold * test_per_family
        cycle = [instruments[(start + i) % len(instruments)] for i in range(test_per_family + val_per_family)]
        test, val = set(cycle[:test_per_family]), set(cycle[test_per_family:])
        for example in examples:
            if example.instrument_family_str != family:
                continue
            name = "test" if example.instrument_str in test else "val" if example.instrument_str in val else "train"
            splits[name].append(example)
    return splits


def extra_training_notes(roots: Sequence[Path], splits: dict[str, list[Any]], families: Sequence[str]
                         ) -> list[Any]:
    """Notes of the datasets ``roots`` whose family is in ``families`` and whose instrument (GM program, by its
    NSynth-style name) is in the training part of ``splits``: what other renderings add without leaking the
    held-out instruments. :class:`InputError` when a dataset adds nothing."""
    from spectrostyle.data.nsynth import NSynthIndex

    train_instruments = {e.instrument_str for e in splits["train"]}
    added: list[Any] = []
    for root in roots:
        notes = [e for e in NSynthIndex.load(root).examples
                 if e.instrument_family_str in families and e.instrument_str in train_instruments]
        if not notes:
            raise InputError(f"'{root}' has no notes of the training instruments ({len(train_instruments)} of "
                             f"families {', '.join(families)})")
        added += notes
    return added


@dataclass
class DomainSelection:
    """The two domains of a translation and which of their notes train it.

    ``domain_a``/``domain_b``: a family name or an ``instrument_str`` of the dataset; ``pitches``: inclusive MIDI
    range for both (None = all); ``velocities`` (None = all); every ``hold_out_every``-th of the domains' distinct
    pitches (sorted; the 4th, 8th, ... with 4) is held out of training, or the ``hold_out_pitches`` named (e.g. the
    same test pitches in a denser dataset); ``val_notes``: held-out notes (or pairs)
    per domain for the validation loss and the samples; ``max_notes``: a seeded subset of at most this many
    training notes per domain.
    """

    domain_a: str
    domain_b: str
    pitches: tuple[int, int] | None = None
    velocities: tuple[int, ...] | None = None
    hold_out_every: int = 4
    val_notes: int = 8
    max_notes: int | None = None
    hold_out_pitches: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.domain_a == self.domain_b:
            raise InputError(f"the two domains must differ (both are '{self.domain_a}')")
        if self.hold_out_every < 2:
            raise InputError(f"hold_out_every must be >= 2, got {self.hold_out_every}")
        if self.hold_out_pitches is not None and not self.hold_out_pitches:
            raise InputError("no held-out pitches given: name at least one")
        if self.val_notes < 1:
            raise InputError(f"val_notes must be >= 1, got {self.val_notes}")


def domain_index(index: Any, name: str) -> Any:
    """The notes of domain ``name`` in an :class:`~spectrostyle.data.nsynth.NSynthIndex`: a family, else an instrument;
    :class:`InputError` naming what there is when neither."""
    from spectrostyle.core.vocabulary import FAMILIES

    if name in FAMILIES:
        return index.filter(families=name)
    if name in index.instruments:
        return index.filter(instruments=name)
    raise InputError(f"domain '{name}' is neither a family ({', '.join(FAMILIES)}) nor an instrument of "
                     f"'{index.root}' (e.g. {', '.join(index.instruments[:3])})")


def held_out_pitches(pitches: Sequence[int], every: int) -> list[int]:
    """Every ``every``-th of the sorted distinct ``pitches``, starting with the ``every``-th."""
    distinct = sorted(set(pitches))
    return distinct[every - 1::every]


@dataclass
class DomainNotes(TrainingNotes):
    """Notes of two domains as cached images ``(N, 1, F, T)`` float16: ``train`` holds domain A's training notes
    (an epoch is one pass over them), ``train_b`` domain B's; with ``partners`` (pix2pix), the B notes of the same
    pitch and velocity as each A note, else any B note goes with any A note. ``val`` ``(n, 2, F, T)``: held-out
    (A, B) pairs; ``val_names``/``val_paths`` list their A notes, then their B notes."""

    train_b: Tensor = field(default_factory=lambda: torch.zeros(0))
    partners: list[list[int]] | None = None
    held_out: list[int] = field(default_factory=list)
    crop_frames: int | None = None

    def train_batch(self, indices: Sequence[int], generator: torch.Generator) -> Tensor:
        """``(b, 2, F, T)``: the A notes at ``indices``, each with a B note drawn with ``generator`` (its partner,
        or any), cut to a random ``crop_frames`` window when set (the same for both)."""
        picks = []
        for i in indices:
            choices = self.partners[i] if self.partners is not None else range(len(self.train_b))
            picks.append(choices[int(torch.randint(0, len(choices), (), generator=generator))])
        batch = torch.cat([self.train[list(indices)], self.train_b[picks]], dim=1)
        if self.crop_frames is not None and self.crop_frames < batch.shape[-1]:
            start = int(torch.randint(0, batch.shape[-1] - self.crop_frames + 1, (), generator=generator))
            batch = batch[..., start:start + self.crop_frames]
        return batch


def load_domain_notes(data: Path, selection: DomainSelection, config: SpectrogramConfig, *, paired: bool,
                      seed: int = 0, crop_frames: int | None = None, progress: bool = False) -> DomainNotes:
    """Select, split and load the notes of two domains (see :class:`DomainSelection`, :class:`DomainNotes`);
    with ``paired``, only A notes that have a B note of the same pitch and velocity. :class:`InputError` when a
    side of the split is empty."""
    pass
    from spectrostyle.data.nsynth import NSynthIndex

    index = NSynthIndex.load(data).filter(pitches=selection.pitches, velocities=selection.velocities)
    sides = [list(domain_index(index, name)) for name in (selection.domain_a, selection.domain_b)]
    for name, notes in zip((selection.domain_a, selection.domain_b), sides, strict=True):
        if not notes:
            raise InputError(f"no notes of domain '{name}' in '{data}' within the chosen pitches and velocities")
    pitches_there = sorted({e.pitch for side in sides for e in side})
    if selection.hold_out_pitches is not None:
        missing = sorted(set(selection.hold_out_pitches) - set(pitches_there))
        if missing:
            raise InputError(f"held-out pitch(es) {', '.join(map(str, missing))} not among the domains' pitches "
                             f"in '{data}': {pitches_there}")
        held = sorted(set(selection.hold_out_pitches))
    else:
        held = held_out_pitches(pitches_there, selection.hold_out_every)
    if not held:
        raise InputError(f"too few pitches to hold every {selection.hold_out_every}th out: the domains have "
                         f"{pitches_there}")
    (train_a, train_b), (val_a, val_b) = ([[e for e in side if (e.pitch in held) == held_side] for side in sides]
                                          for held_side in (False, True))
    rng = random.Random(seed)
    if selection.max_notes is not None:
        train_a, train_b = (sorted(rng.sample(side, min(len(side), selection.max_notes)), key=lambda e: e.note_str)
                            for side in (train_a, train_b))

    def key(example: Any) -> tuple[int, int]:
        return example.pitch, example.velocity

    partners = None
    if paired:
        by_key: dict[tuple[int, int], list[int]] = {}
        for k, example in enumerate(train_b):
            by_key.setdefault(key(example), []).append(k)
        train_a = [e for e in train_a if key(e) in by_key]
        partners = [by_key[key(e)] for e in train_a]
        val_b_by_key: dict[tuple[int, int], list[Any]] = {}
        for example in val_b:
            val_b_by_key.setdefault(key(example), []).append(example)
        val_pairs = [(a, rng.choice(val_b_by_key[key(a)])) for a in val_a if key(a) in val_b_by_key]
        rng.shuffle(val_pairs)
        val_pairs = val_pairs[:selection.val_notes]
    else:
        val_a, val_b = (rng.sample(side, min(len(side), selection.val_notes)) for side in (val_a, val_b))
        val_pairs = list(zip(val_a, val_b, strict=False))
    what = "pairs of the same pitch and velocity" if paired else "notes"
    if not train_a or not train_b:
        raise InputError(f"no training {what} of '{selection.domain_a}' and '{selection.domain_b}' in '{data}' "
                         f"outside the held-out pitches {held}")
    if not val_pairs:
        raise InputError(f"no {what} of '{selection.domain_a}' and '{selection.domain_b}' at the held-out pitches "
                         f"{held} in '{data}' for validation")
    val_sides = [[pair[0] for pair in val_pairs], [pair[1] for pair in val_pairs]]
    everything = train_a + train_b + val_sides[0] + val_sides[1]
    images = note_images([e.audio_path for e in everything], config, progress=progress, desc="loading notes")
    n_a, n_b, n_val = len(train_a), len(train_b), len(val_pairs)
    val = torch.cat([images[n_a + n_b:n_a + n_b + n_val], images[n_a + n_b + n_val:]], dim=1)
    description = (f"{n_a} {selection.domain_a} and {n_b} {selection.domain_b} notes of {data.name} "
                   f"({'paired by pitch and velocity; ' if paired else ''}pitches "
                   f"{min(e.pitch for e in train_a + train_b)}-{max(e.pitch for e in train_a + train_b)} but "
                   f"{', '.join(map(str, held))}, which are held out)")
    return DomainNotes(train=images[:n_a], val=val, train_names=[e.note_str for e in train_a + train_b],
                       val_names=[e.note_str for side in val_sides for e in side],
                       val_paths=[e.audio_path for side in val_sides for e in side], description=description,
                       train_b=images[n_a:n_a + n_b], partners=partners, held_out=held, crop_frames=crop_frames)
