"""The paper's experiment as one command: do the methods make new sounds that are consistent (a group of their
own) and distinguishable from both source instruments? Plus the measurements the paper lacks.

``spectrostyle experiment --out REPORT_DIR [--data DIR] [--pair A B] [--methods LIST] [--config FILE] [--full]
[--seed N]`` (and :func:`run_experiment` from Python) runs, for a pair of sources A and B (NSynth families such as
``flute``/``keyboard``, or instrument names) and a set of methods:

1. **Generation.** Notes of A and B are paired at the same pitch (and the nearest velocity). Each method makes
   new sounds from the pairs: content A in the style of B (``a2b``) and, where the method allows, content B in
   the style of A (``b2a``). How each method does ``a2b`` and ``b2a`` is the one table :data:`RECIPES`. Sounds
   are written to ``REPORT_DIR/sounds/<method>/<direction>/`` with a JSON record each; a re-run reuses every
   sound whose record matches (same notes, settings, seed and shipped weights). Requested methods that cannot
   run here (no shipped model, not part of this installation) are skipped with a warning and a note in the
   report; an unknown method name is an error. A control group ``copy`` (exact copies of every paired note of A)
   is added unless ``control`` is false: it is what "not distinguishable from A" looks like.
2. **Classification test, as in the paper.** For each method M a fresh classifier of the audio CNN's
   architecture (VGG-19 structure, small width) is trained on {A, B, M}, with whole pitches held out for
   validation and test (the same pitches for every classifier). Reported: accuracy with a 95% bootstrap
   interval, per-class precision and recall, the confusion matrix, and pairwise separability ("M vs A": the
   balanced accuracy, on the test notes of M and A, of the classifier saying "A"; 0.5 = cannot tell them
   apart). One more classifier is trained over every group together (A, B, each method) to show whether
   methods are distinguishable from each other.
3. **t-SNE** (scikit-learn) of the shipped audio CNN's feature maps (``relu4_1``: per-channel mean and standard
   deviation over frequency and time) for the sources and every new sound, plotted by group, with silhouette
   scores per group (in the standardised feature space and in the t-SNE plane).
4. **Beyond the paper**, per method: pitch kept (median absolute pYIN f0 error in cents against the content
   note), timbre position (distance of the new sounds to the centres of A and B in the shipped audio CNN's
   embedding, in units of the A-B distance; position 0 = A, 1 = B), the spectral convergence of the phase
   reconstruction (the result image against the spectrogram of the sound rebuilt from it, dB), and seconds per
   sound.
5. ``REPORT_DIR/report.html`` (tables, plots, spectrogram thumbnails and audio players for examples of every
   group), ``metrics.json`` (every number, per sound too), ``table.md`` (the main table, for the README),
   ``config.json`` (the configuration and seed used: ``--config REPORT_DIR/config.json`` repeats the run).

Configurations
--------------
The default (:class:`ExperimentConfig` as it is) runs on the shipped models and notes rendered on the fly from
FluidR3_GM into ``REPORT_DIR/data`` (flute and keyboard, one GM program each, MIDI 60-84 in steps of 2,
velocities 75/100/127: 39 notes per source, 39 pairs), 40 sounds per method (20 pairs in each direction; 39
for one-way methods), Gatys with 30 L-BFGS steps, classifiers of width 1/16 on the first 128 frames (2 s) of
each note for 15 epochs (the best on the validation pitches kept). It is sized for 20 minutes on 2 CPU cores.

``--full`` (:data:`FULL_CONFIG`) is the configuration for NSynth (``--data /path/to/nsynth-valid`` or
``nsynth-train``): every flute and keyboard note at MIDI 48-84 and every velocity, at most 400 per source (a
seeded sample), 400 sounds per method, Gatys with its default 60 steps, classifiers of width 1/8 on the whole
note for up to 30 epochs. Expect hours on CPU; pass ``--device cuda`` where there is a GPU.

A ``--config FILE`` (JSON, or TOML with the same keys at the top level) sets any :class:`ExperimentConfig` field
over the default (or over ``--full``'s); ``method_settings`` merges per method (e.g.
``{"method_settings": {"gatys": {"steps": 60}}}``). Command-line flags win over the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import math
import os
import shutil
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from spectrostyle.audio import atomic_output, load_audio, save_audio
from spectrostyle.errors import InputError, SpectrostyleError

CONTROL = "copy"
DIRECTIONS = ("a2b", "b2a")
DEFAULT_METHODS = ("gatys", "fast", "adain", "cyclegan", "pix2pix")
FEATURE_POOLINGS = ("mean_std", "time_mean")
PITCH_SEARCH_SEMITONES = 14.0  # pYIN looks this far either side of the content note


# ------------------------------------------------------------------------------------ methods: A -> B and back


@dataclass(frozen=True)
class Recipe:
    """How the experiment makes new sounds with one method.

    ``candidates(content_family, style_family)``: the settings to try, in order, for content of one family in the
    style of the other; the first whose models load is used (so a missing shipped model makes that direction
    unavailable, with the loader's message as the reason). ``directions``: the experiment's directions the
    method may make. ``model_kinds``: kinds of shipped models it reads (their checksums key the sound cache).
    """

    title: str
    candidates: Callable[[str, str], list[dict[str, Any]]]
    directions: tuple[str, ...] = DIRECTIONS
    model_kinds: tuple[str, ...] = ()


def _translation(one_way: bool) -> Callable[[str, str], list[dict[str, Any]]]:
    """CycleGAN/pix2pix: a model ``X-Y`` translates X to Y (``a2b``) and, CycleGAN only, Y to X (``b2a``)."""
    def candidates(content: str, style: str) -> list[dict[str, Any]]:
        found = [{"model": f"{content}-{style}", "direction": "a2b"}]
        if not one_way:
            found.append({"model": f"{style}-{content}", "direction": "b2a"})
        return found

    return candidates


RECIPES: dict[str, Recipe] = {
    CONTROL: Recipe("control: exact copies of source A's notes", lambda content, style: [{}], directions=("a2b",)),
    "gatys": Recipe("Slow (Gatys): optimise the image", lambda content, style: [{}], model_kinds=("audio_cnn",)),
    # a Fast model carries its style: the shipped ones are named after the style's family
    "fast": Recipe("Fast (Johnson): one pass of a network trained for the style",
                   lambda content, style: [{"model": style}], model_kinds=("fast_transformer", "audio_cnn")),
    "adain": Recipe("AdaIN: the content's features take the style's statistics", lambda content, style: [{}],
                    model_kinds=("adain_decoder", "audio_cnn")),
    "cyclegan": Recipe("CycleGAN: instrument-to-instrument translation, both ways", _translation(one_way=False),
                       model_kinds=("cyclegan_generator",)),
    "pix2pix": Recipe("pix2pix: paired translation, one way", _translation(one_way=True),
                      model_kinds=("pix2pix_generator",)),
}


def known_methods() -> list[str]:
    """Every method name the experiment accepts: the recipes and any other registered transfer method."""
    from spectrostyle.transfer import METHODS

    return list(dict.fromkeys([*RECIPES, *METHODS]))


def _recipe(method: str) -> Recipe:
    # a registered method without a recipe: content and style as they are, its own default settings
    return RECIPES.get(method, Recipe(method, lambda content, style: [{}]))


# ------------------------------------------------------------------------------------------------ configuration


@dataclass
class ExperimentConfig:
    """Everything that decides an experiment's numbers (see the module docstring for the default and ``--full``).

    Sources: ``pair`` (A, B: NSynth family names, or ``instrument_str`` names with ``--data``); notes at MIDI
    ``pitches`` (inclusive range) every ``pitch_step``, at ``velocities`` (None: all), of ``instrument_sources``
    (None: all; e.g. ``["acoustic"]``), at most ``max_notes_per_source`` each (seeded sample; None: all). Without
    ``--data`` they are rendered from FluidR3_GM, ``programs_per_family`` GM programs per family.
    Generation: ``methods``; ``control`` adds the ``copy`` group; ``directions``; ``sounds_per_method`` (split
    evenly over the directions a method makes, on pairs spread evenly over pitch; None: every pair);
    ``method_settings``: settings per method passed to :func:`spectrostyle.transfer.transfer`.
    Classification: ``classifier_width`` (VGG-19 width multiplier), ``classifier_frames`` (first frames of each
    image; None: all), epochs, patience (epochs without a better validation accuracy before stopping; None:
    train every epoch, keep the best), batch size, learning rate, ``classifier_seeds`` (classifiers trained per
    test, with seeds ``seed``, ``seed + 1``, ...: the table then gives their mean and range, as one classifier's
    numbers move far more between seeds than its bootstrap interval shows); ``test_fraction``/``val_fraction`` of the
    pitches held out; ``bootstrap_resamples``. Features: ``feature_model`` (shipped audio CNN), ``feature_layer``,
    ``feature_pooling`` (``mean_std``: per-channel mean and std; ``time_mean``: mean over time, frequency kept),
    ``tsne_perplexity`` (None: min(30, (N - 1) / 3)). Report: ``examples`` (pairs shown per group).
    """

    pair: tuple[str, str] = ("flute", "keyboard")
    methods: tuple[str, ...] = DEFAULT_METHODS
    control: bool = True
    seed: int = 0
    device: str = "cpu"
    pitches: tuple[int, int] = (60, 84)
    pitch_step: int = 2
    velocities: tuple[int, ...] | None = (75, 100, 127)
    instrument_sources: tuple[str, ...] | None = None
    max_notes_per_source: int | None = None
    programs_per_family: int = 1
    directions: tuple[str, ...] = DIRECTIONS
    sounds_per_method: int | None = 40
    method_settings: dict[str, dict[str, Any]] = field(default_factory=lambda: {"gatys": {"steps": 30}})
    classifier_width: float = 0.0625
    classifier_frames: int | None = 128
    classifier_epochs: int = 15
    classifier_patience: int | None = None
    classifier_batch_size: int = 8
    classifier_learning_rate: float = 2e-3
    classifier_seeds: int = 1
    test_fraction: float = 0.3
    val_fraction: float = 0.15
    bootstrap_resamples: int = 1000
    feature_model: str = "default"
    feature_layer: str = "relu4_1"
    feature_pooling: str = "mean_std"
    tsne_perplexity: float | None = None
    examples: int = 3

    def __post_init__(self) -> None:
        self.pair = tuple(self.pair)
        self.methods = tuple(dict.fromkeys(self.methods))
        self.pitches = tuple(self.pitches)
        self.directions = tuple(self.directions)
        if self.velocities is not None:
            self.velocities = tuple(self.velocities)
        if self.instrument_sources is not None:
            self.instrument_sources = tuple(self.instrument_sources)
        self.check()

    def check(self) -> None:
        """:class:`InputError` naming the first bad field."""
        if len(self.pair) != 2 or self.pair[0] == self.pair[1]:
            raise InputError(f"pair must name two different sources, got {list(self.pair)}")
        known = known_methods()
        unknown = [m for m in self.methods if m not in known]
        if unknown:
            raise InputError(f"unknown method{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                             f"choose from: {', '.join(known)}")
        if not self.methods and not self.control:
            raise InputError("no methods to evaluate")
        if len(self.pitches) != 2 or self.pitches[0] > self.pitches[1]:
            raise InputError(f"pitches must be a (low, high) MIDI range, got {list(self.pitches)}")
        bad_directions = [d for d in self.directions if d not in DIRECTIONS]
        if bad_directions or not self.directions:
            raise InputError(f"directions must be some of {', '.join(DIRECTIONS)}, got {list(self.directions)}")
        groups = {*self.pair, *self.methods, CONTROL}
        if len(groups) < len(self.pair) + len({*self.methods, CONTROL}):
            raise InputError(f"a source is named like a method ({', '.join(self.pair)}); rename it")
        positive = {"pitch_step": self.pitch_step, "programs_per_family": self.programs_per_family,
                    "classifier_epochs": self.classifier_epochs,
                    "classifier_patience": self.classifier_patience or 1,
                    "classifier_batch_size": self.classifier_batch_size,
                    "classifier_seeds": self.classifier_seeds, "bootstrap_resamples":
                    self.bootstrap_resamples, "sounds_per_method": self.sounds_per_method or 1,
                    "max_notes_per_source": self.max_notes_per_source or 1,
                    "classifier_frames": self.classifier_frames or 1}
        for name, value in positive.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"{name} must be a positive integer, got {value!r}")
        if self.examples < 0:
            raise InputError(f"examples must be >= 0, got {self.examples}")
        if not (0 < self.test_fraction < 1 and 0 < self.val_fraction < 1
                and self.test_fraction + self.val_fraction < 1):
            raise InputError("test_fraction and val_fraction must be in (0, 1) with a sum below 1")
        if not self.classifier_width > 0 or not self.classifier_learning_rate > 0:
            raise InputError("classifier_width and classifier_learning_rate must be positive")
        if self.feature_pooling not in FEATURE_POOLINGS:
            raise InputError(f"feature_pooling must be one of {', '.join(FEATURE_POOLINGS)}, "
                             f"got '{self.feature_pooling}'")
        if self.tsne_perplexity is not None and not self.tsne_perplexity > 0:
            raise InputError(f"tsne_perplexity must be positive, got {self.tsne_perplexity}")
        if not isinstance(self.method_settings, dict) or not all(
                isinstance(v, dict) for v in self.method_settings.values()):
            raise InputError("method_settings must map method names to objects of settings")

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def replace(self, **values: Any) -> ExperimentConfig:
        """A copy with some fields changed; ``method_settings`` merges per method."""
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise InputError(f"unknown experiment setting(s) {', '.join(unknown)}; valid: "
                             f"{', '.join(f.name for f in dataclasses.fields(self))}")
        if "method_settings" in values:
            merged = {k: dict(v) for k, v in self.method_settings.items()}
            given = values["method_settings"]
            if not isinstance(given, dict) or not all(isinstance(v, dict) for v in given.values()):
                raise InputError("method_settings must map method names to objects of settings")
            for method, settings in given.items():
                merged[method] = {**merged.get(method, {}), **settings}
            values = {**values, "method_settings": merged}
        try:
            return dataclasses.replace(self, **values)
        except TypeError as exc:
            raise InputError(f"bad experiment setting ({exc})") from None


FULL_CONFIG = ExperimentConfig(
    pitches=(48, 84), pitch_step=1, velocities=None, max_notes_per_source=400, programs_per_family=3,
    sounds_per_method=400, method_settings={}, classifier_width=0.125, classifier_frames=None,
    classifier_epochs=30, classifier_patience=6, classifier_batch_size=8, classifier_learning_rate=1e-3)


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """The fields in a JSON or TOML (by suffix ``.toml``) config file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such config file: '{path}'")
    try:
        text = path.read_text(encoding="utf-8")
        values = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"config file '{path}' could not be read ({exc})") from None
    if not isinstance(values, dict):
        raise InputError(f"config file '{path}' should hold an object of settings")
    return values


def build_config(*, full: bool = False, config_file: str | os.PathLike | None = None,
                 **overrides: Any) -> ExperimentConfig:
    """The default (or ``--full``) config, then the file's fields, then ``overrides`` that are not None."""
    config = FULL_CONFIG if full else ExperimentConfig()
    if config_file is not None:
        config = config.replace(**load_config_file(config_file))
    chosen = {k: v for k, v in overrides.items() if v is not None}
    return config.replace(**chosen) if chosen else config


# -------------------------------------------------------------------------------------------- sources and pairs


@dataclass(frozen=True)
class Sound:
    """One sound of the experiment: a source note (``direction`` "") or a new sound made from ``note`` (the
    content's note_str) in the style of ``style`` (a note_str, or what the method used instead)."""

    group: str
    path: Path
    pitch: int
    velocity: int
    note: str
    direction: str = ""
    style: str = ""
    seconds: float | None = None
    spectral_convergence_db: float | None = None
    pitch_error_cents: float | None = None

    def record(self, root: Path) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        path, root = self.path.resolve(), root.resolve()
        values["path"] = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        return values


def _source_index(index, name: str, config: ExperimentConfig):
    """The notes of one source of the pair: a family or an instrument name, filtered by the config."""
    from spectrostyle.data import NSynthIndex
    from spectrostyle.render import FAMILIES

    notes = index.filter(families=name) if name in FAMILIES else index.filter(instruments=name)
    if not len(notes):
        raise InputError(f"source '{name}' is neither a family nor an instrument in '{index.root}' (families: "
                         f"{', '.join(index.families)}; e.g. instruments {', '.join(index.instruments[:5])})")
    notes = notes.filter(pitches=config.pitches, velocities=config.velocities, sources=config.instrument_sources)
    low = config.pitches[0]
    return NSynthIndex(notes.root, [e for e in notes if (e.pitch - low) % config.pitch_step == 0])


def select_sources(root: Path, config: ExperimentConfig) -> tuple[list, list, list[tuple[Any, Any]]]:
    """Notes of A and B at the pitches both have, and the pairs ``(a, b)``: each A note with a B note of the same
    pitch and the nearest velocity (B notes used in turn when several are as near)."""
    from spectrostyle.data import NSynthIndex

    index = NSynthIndex(root)
    a_index, b_index = (_source_index(index, name, config) for name in config.pair)
    common = set(a_index.pitches) & set(b_index.pitches)
    if len(common) < 3:
        raise InputError(f"sources {config.pair[0]} and {config.pair[1]} share {len(common)} pitch(es) in "
                         f"{config.pitches[0]}-{config.pitches[1]} (step {config.pitch_step}); the held-out "
                         "pitches of the classification test need at least 3")
    rng = np.random.default_rng(config.seed)
    sources = []
    for notes in (a_index, b_index):
        kept = [e for e in notes if e.pitch in common]
        if config.max_notes_per_source and len(kept) > config.max_notes_per_source:
            chosen = rng.choice(len(kept), config.max_notes_per_source, replace=False)
            kept = [kept[i] for i in sorted(chosen)]
        sources.append(sorted(kept, key=lambda e: (e.pitch, e.velocity, e.note_str)))
    a_notes, b_notes = sources
    used: dict[int, int] = {}
    pairs = []
    for a in a_notes:
        candidates = sorted((e for e in b_notes if e.pitch == a.pitch), key=lambda e: (abs(e.velocity - a.velocity),
                                                                                      e.note_str))
        if not candidates:
            continue
        nearest = [e for e in candidates if abs(e.velocity - a.velocity) == abs(candidates[0].velocity - a.velocity)]
        turn = used.get(a.pitch, 0)
        used[a.pitch] = turn + 1
        pairs.append((a, nearest[turn % len(nearest)]))
    return a_notes, b_notes, pairs


def spread(items: Sequence[Any], count: int | None) -> list[Any]:
    """At most ``count`` of ``items``, evenly spaced (all when ``count`` is None or not smaller)."""
    if count is None or count >= len(items):
        return list(items)
    return [items[i] for i in np.unique(np.linspace(0, len(items) - 1, count).round().astype(int))]


def held_out_pitches(pitches: Sequence[int], config: ExperimentConfig) -> dict[str, list[int]]:
    """``{"train", "val", "test"}`` pitches: seeded, at least one pitch in each part."""
    pitches = sorted(pitches)
    n_test = min(max(1, round(config.test_fraction * len(pitches))), len(pitches) - 2)
    n_val = min(max(1, round(config.val_fraction * len(pitches))), len(pitches) - 1 - n_test)
    order = np.random.default_rng(config.seed).permutation(pitches).tolist()
    return {"test": sorted(order[:n_test]), "val": sorted(order[n_test:n_test + n_val]),
            "train": sorted(order[n_test + n_val:])}


# -------------------------------------------------------------------------------------------------- generation


@dataclass
class Prepared:
    """A method ready for one direction: the method object (None for the control), its settings."""

    runner: Any
    settings: dict[str, Any]
    uses_style: bool


@dataclass(frozen=True)
class Unavailable:
    """Why a method cannot make one direction's sounds here (one reason per settings tried)."""

    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return "; ".join(self.reasons)


def prepare_method(method: str, content_family: str, style_family: str, direction: str,
                   config: ExperimentConfig) -> Prepared | Unavailable:
    """The method ready to make ``direction`` sounds, or why it cannot here."""
    recipe = _recipe(method)
    if direction not in recipe.directions:
        return Unavailable((f"{method} makes no {direction} sounds",))
    if method == CONTROL:
        return Prepared(None, {}, False)
    from spectrostyle.transfer import METHODS, make_options, method_class

    if method not in METHODS:
        return Unavailable((f"'{method}' is not part of this installation of spectrostyle",))
    cls = method_class(method)
    option_names = {f.name for f in dataclasses.fields(cls.Options)}
    common = {k: v for k, v in (("seed", config.seed), ("device", config.device)) if k in option_names}
    reasons = []
    for candidate in recipe.candidates(content_family, style_family):
        settings = {**candidate, **config.method_settings.get(method, {}), **common}
        try:
            runner = cls(make_options(method, **settings))
            runner.spectrogram_config  # noqa: B018 - loads the method's models: a missing one shows here
        except SpectrostyleError as exc:
            reasons.append(str(exc))
            continue
        return Prepared(runner, settings, cls.needs_style)
    return Unavailable(tuple(dict.fromkeys(reasons)))


def _weights_fingerprint(kinds: Sequence[str]) -> str:
    from spectrostyle.registry import shipped_models

    return ",".join(sorted(str(m.description.get("sha256", "")) for m in shipped_models() if m.kind in kinds))


def _code_fingerprint(runner: Any) -> str:
    """SHA-256 of the source files that decide a method's sounds: the module of ``runner``'s class and the shared
    spectrogram, phase, transfer and feed-forward modules (empty for the control, which copies notes), so that a
    changed method is not answered from the cache."""
    if runner is None:
        return ""
    import inspect

    from spectrostyle import feedforward, phase, spectrogram, transfer

    digest = hashlib.sha256()
    for module in dict.fromkeys([inspect.getmodule(type(runner)), spectrogram, phase, transfer, feedforward]):
        digest.update(Path(inspect.getsourcefile(module)).read_bytes())
    return digest.hexdigest()[:16]


def _cache_key(method: str, direction: str, prepared: Prepared, content, style, config: ExperimentConfig,
               fingerprint: str) -> str:
    record = {"method": method, "direction": direction, "settings": prepared.settings, "seed": config.seed,
              "content": [str(content.audio_path.parent.parent.resolve()), content.note_str],
              "style": style.note_str if prepared.uses_style else "", "weights": fingerprint}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _note_pitch_error(audio: np.ndarray, sample_rate: int, pitch: int) -> float:
    from spectrostyle.evaluation import note_pitch_range, pitch_error_to_note_cents

    return pitch_error_to_note_cents(audio, sample_rate, pitch, **note_pitch_range(pitch, PITCH_SEARCH_SEMITONES))


def _reconstruction_convergence(result) -> float:
    """Spectral convergence (dB) of the result's audio against its image's magnitude, at the best gain (the audio
    may have been scaled down to avoid clipping)."""
    from spectrostyle.phase import spectral_convergence_db
    from spectrostyle.spectrogram import magnitude

    config = result.spectrogram.config
    target = result.spectrogram.magnitude()
    audio = torch.from_numpy(np.asarray(result.audio, dtype=np.float32))
    rebuilt = magnitude(audio, config, num_frames=target.shape[-1])
    gain = float((target * rebuilt).sum() / (rebuilt * rebuilt).sum().clamp_min(1e-12))
    return float(spectral_convergence_db(target, audio * gain, config))


def generate(method: str, direction: str, prepared: Prepared, pairs: Sequence[tuple[Any, Any]], out_dir: Path,
             config: ExperimentConfig, *, progress: bool) -> tuple[list[Sound], int]:
    """Make (or reuse) the sounds of one method and direction; returns them and how many were made now."""
    from spectrostyle.transfer import transfer

    folder = out_dir / "sounds" / method / direction
    folder.mkdir(parents=True, exist_ok=True)
    fingerprint = f"{_weights_fingerprint(_recipe(method).model_kinds)}|code {_code_fingerprint(prepared.runner)}"
    sounds, made = [], 0
    for a, b in tqdm(pairs, desc=f"{method} {direction}", unit="sound", disable=not progress, leave=False):
        content, style = (a, b) if direction == "a2b" else (b, a)
        key = _cache_key(method, direction, prepared, content, style, config, fingerprint)
        wav, record_path = folder / f"{content.note_str}.wav", folder / f"{content.note_str}.json"
        record = _read_record(record_path)
        if record is None or record.get("key") != key or not wav.is_file():
            if prepared.runner is None:  # the control: the content note itself
                audio, seconds, convergence = load_audio(content.audio_path), 0.0, None
                sample_rate = 16_000
            else:
                result = transfer(content.audio_path, style.audio_path if prepared.uses_style else None,
                                  prepared.runner)
                audio, seconds = result.audio, result.seconds
                convergence = _reconstruction_convergence(result)
                sample_rate = result.spectrogram.config.sample_rate
            save_audio(wav, audio, sample_rate=sample_rate)
            record = {"key": key, "method": method, "direction": direction, "content": content.note_str,
                      "style": style.note_str if prepared.uses_style else prepared.settings.get("model", ""),
                      "pitch": content.pitch, "velocity": content.velocity, "settings": prepared.settings,
                      "seconds": seconds, "spectral_convergence_db": convergence,
                      "pitch_error_cents": _finite_or_none(_note_pitch_error(audio, sample_rate, content.pitch))}
            _write_json(record_path, record)
            made += 1
        pitch_error = record["pitch_error_cents"]
        sounds.append(Sound(method, wav, content.pitch, content.velocity, content.note_str, direction,
                            record["style"], record["seconds"], record["spectral_convergence_db"],
                            math.inf if pitch_error is None else pitch_error))
    return sounds, made


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None


# ---------------------------------------------------------------------------------------------- classification


def _predict(model, images: torch.Tensor, device: torch.device, batch_size: int = 32) -> torch.Tensor:
    """Logits ``(N, C)`` of ``images`` ``(N, 1, F, T)``."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            out.append(model(images[start:start + batch_size].to(device, torch.float32)).cpu())
    return torch.cat(out) if out else torch.zeros(0, len(model.config.class_names))


def pairwise_separability(predicted: torch.Tensor, labels: torch.Tensor, group: int, reference: int, *,
                          resamples: int, seed: int) -> dict[str, Any]:
    """How well a classifier tells the sounds of ``group`` from those of ``reference``: on the test notes of the
    two classes, the balanced accuracy of the decision "the classifier says ``reference``" (so a ``group`` note
    taken for any third class still counts as told apart). 0.5: not at all (identical sounds give exactly 0.5,
    whatever the classifier learnt); 1: always. With a bootstrap interval. ``predicted``/``labels``: ``(N,)``."""
    from spectrostyle.evaluation import balanced_accuracy, bootstrap_ci

    mask = (labels == group) | (labels == reference)
    rows = np.stack([(labels[mask] == reference).numpy(), (predicted[mask] == reference).numpy()], 1).astype(int)
    value = balanced_accuracy(rows) if len(rows) else float("nan")
    return {"balanced_accuracy": value, "ci": list(bootstrap_ci(rows, balanced_accuracy, resamples=resamples,
                                                                 seed=seed)), "notes": int(mask.sum())}


def classification_test(name: str, class_names: Sequence[str], images: torch.Tensor, sounds: Sequence[Sound],
                        split: dict[str, list[int]], config: ExperimentConfig, out_dir: Path, *,
                        pairs: Sequence[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Train a fresh audio-CNN classifier over ``class_names`` (groups of ``sounds``) on the train pitches (early
    stopping on the validation pitches) and test it on the held-out pitches. ``images`` ``(N, 1, F, T)`` line up
    with ``sounds``. Writes ``out_dir/classifiers/<name>/`` (metrics.csv, confusion.png); returns its numbers.

    With ``config.classifier_seeds`` > 1, as many classifiers are trained (initial weights and shuffling from
    seeds ``config.seed``, ``+ 1``, ...; same sounds and split): the confusion matrix, precision, recall and
    bootstrap intervals are the first one's, and ``over_seeds`` holds every seed's accuracy and separabilities
    with their mean, min and max."""
    from spectrostyle.classifier import FitOptions, confusion_matrix, fit_classifier, plot_confusion_matrix
    from spectrostyle.evaluation import bootstrap_ci, precision_recall
    from spectrostyle.models import AudioCNN, AudioCNNConfig
    from spectrostyle.spectrogram import SpectrogramConfig
    from spectrostyle.training import resolve_device, seed_everything

    started = time.perf_counter()
    device = resolve_device(config.device)
    label_of = {group: i for i, group in enumerate(class_names)}
    frames = config.classifier_frames or images.shape[-1]
    parts = {}
    for part, pitches in split.items():
        chosen = [i for i, s in enumerate(sounds) if s.group in label_of and s.pitch in set(pitches)]
        parts[part] = (images[chosen][..., :frames], torch.tensor([label_of[sounds[i].group] for i in chosen],
                                                                  dtype=torch.long))
    pairs = pairs if pairs is not None else [(class_names[i], class_names[j]) for i in range(len(class_names))
                                             for j in range(i + 1, len(class_names))]
    test_images, labels = parts["test"]
    runs = []
    for k in range(config.classifier_seeds):
        seed = config.seed + k
        run_dir = out_dir / "classifiers" / (name if k == 0 else f"{name}-seed{seed}")
        run_dir.mkdir(parents=True, exist_ok=True)
        for stale in ("metrics.csv", "checkpoint.pt"):
            (run_dir / stale).unlink(missing_ok=True)
        seed_everything(seed)  # the initial weights
        model = AudioCNN(AudioCNNConfig(class_names=tuple(class_names), width=config.classifier_width,
                                        spectrogram=SpectrogramConfig()))
        options = FitOptions(epochs=config.classifier_epochs, batch_size=config.classifier_batch_size,
                             learning_rate=config.classifier_learning_rate,
                             patience=config.classifier_patience or config.classifier_epochs,
                             seed=seed, progress=False)
        summary = fit_classifier(model, parts["train"], parts["val"], run_dir, options, device=device)
        (run_dir / "checkpoint.pt").unlink(missing_ok=True)  # resume state, not needed afterwards
        runs.append((seed, summary, _predict(model, test_images, device).argmax(1)))
    _, summary, predicted = runs[0]
    run_dir = out_dir / "classifiers" / name
    matrix = confusion_matrix(labels, predicted, len(class_names))
    precision, recall = precision_recall(matrix)
    correct = (predicted == labels).numpy().astype(np.float64)
    accuracy = float(correct.mean()) if len(correct) else float("nan")
    plot_confusion_matrix(matrix, list(class_names), run_dir / "confusion.png",
                          f"{name}: held-out pitches, accuracy {accuracy:.0%}")
    over_seeds = None
    if len(runs) > 1:
        def mean_and_range(values: list[float]) -> dict[str, Any]:
            return {"values": values, "mean": float(np.mean(values)), "min": min(values), "max": max(values)}

        over_seeds = {
            "seeds": [seed for seed, _, _ in runs],
            "accuracy": mean_and_range([float((p == labels).float().mean()) for _, _, p in runs]),
            "separability": {f"{x} vs {y}": mean_and_range([
                pairwise_separability(p, labels, label_of[x], label_of[y], resamples=1,
                                      seed=config.seed)["balanced_accuracy"] for _, _, p in runs]) for x, y in pairs},
        }
    return {
        "classes": list(class_names),
        "accuracy": accuracy,
        "accuracy_ci": list(bootstrap_ci(correct, resamples=config.bootstrap_resamples, seed=config.seed)),
        "chance": 1.0 / len(class_names),
        "precision": dict(zip(class_names, precision.tolist(), strict=True)),
        "recall": dict(zip(class_names, recall.tolist(), strict=True)),
        "confusion_matrix": matrix.tolist(),
        "separability": {f"{x} vs {y}": pairwise_separability(predicted, labels, label_of[x], label_of[y],
                                                              resamples=config.bootstrap_resamples,
                                                              seed=config.seed) for x, y in pairs},
        "notes": {part: {group: int((data[1] == i).sum()) for group, i in label_of.items()}
                  for part, data in parts.items()},
        "training": summary,
        "over_seeds": over_seeds,
        "confusion_png": os.path.relpath(run_dir / "confusion.png", out_dir),
        "seconds": time.perf_counter() - started,
    }


# ---------------------------------------------------------------------------------------- features and t-SNE


def extract_features(images: torch.Tensor, config: ExperimentConfig, batch_size: int = 8
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Feature maps of the shipped audio CNN for ``images`` ``(N, 1, F, T)``: the t-SNE features ``(N, D)`` from
    ``feature_layer`` pooled by ``feature_pooling``, and the embedding ``(N, E)`` (global mean and max of
    ``pool5``, what the classifier head reads)."""
    from spectrostyle.registry import load_named_model
    from spectrostyle.training import resolve_device

    device = resolve_device(config.device)
    model = load_named_model(config.feature_model, "audio_cnn", device=device).eval()
    layer = config.feature_layer
    features, embeddings = [], []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size].to(device, torch.float32)
            taps = model.extract(batch, [layer, "pool5"])
            maps = taps[layer]  # (B, C, F', T')
            if config.feature_pooling == "mean_std":
                pooled = torch.cat([maps.mean(dim=(2, 3)), maps.std(dim=(2, 3))], dim=1)
            else:
                pooled = maps.mean(dim=3).flatten(1)
            features.append(pooled.cpu())
            deep = taps["pool5"]
            embeddings.append(torch.cat([deep.mean(dim=(2, 3)), deep.amax(dim=(2, 3))], dim=1).cpu())
    return torch.cat(features).numpy().astype(np.float64), torch.cat(embeddings).numpy().astype(np.float64)


def _standardise(values: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    reference = values if reference is None else reference
    return (values - reference.mean(0)) / np.maximum(reference.std(0), 1e-6)


def tsne_embedding(features: np.ndarray, config: ExperimentConfig) -> tuple[np.ndarray, float]:
    """2-D t-SNE of standardised features ``(N, D)`` (PCA to 50 dimensions first when larger), seeded; returns
    the points ``(N, 2)`` and the perplexity used."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    data = _standardise(features)
    if data.shape[1] > 50 and len(data) > 50:
        data = PCA(50, random_state=config.seed).fit_transform(data)
    perplexity = config.tsne_perplexity or min(30.0, max(2.0, (len(data) - 1) / 3))
    perplexity = min(perplexity, len(data) - 1.0)
    points = TSNE(2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=config.seed
                  ).fit_transform(data)
    return points, perplexity


def plot_tsne(points: np.ndarray, sounds: Sequence[Sound], groups: Sequence[str], path: Path, title: str) -> Path:
    """Scatter of the t-SNE points by group: sources as squares, a2b sounds as circles, b2a as triangles (the
    control group as hollow circles)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    colours = plt.get_cmap("tab10")
    markers = {"": "s", "a2b": "o", "b2a": "^"}
    figure, axes = plt.subplots(figsize=(7.5, 5.5))
    for g, group in enumerate(groups):
        for direction, marker in markers.items():
            rows = [i for i, s in enumerate(sounds) if s.group == group and s.direction == direction]
            if not rows:
                continue
            label = group if direction == "" else f"{group} ({direction})"
            colour = colours(g % 10)
            if group == CONTROL:  # on top of source A's points: hollow, so both show
                axes.scatter(points[rows, 0], points[rows, 1], s=70, marker=marker, facecolors="none",
                             edgecolors=[colour], linewidths=1.2, label=label)
            else:
                axes.scatter(points[rows, 0], points[rows, 1], s=22, marker=marker, color=colour, alpha=0.8,
                             label=label, edgecolors="none")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_title(title, fontsize=10)
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    figure.tight_layout()
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    plt.close(figure)
    return path


# ------------------------------------------------------------------------------------------------- the run


def run_experiment(out_dir: str | os.PathLike, config: ExperimentConfig | None = None, *,
                   data: str | os.PathLike | None = None, progress: bool = True,
                   notify: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the experiment (see the module docstring) into ``out_dir``; returns what ``metrics.json`` holds.

    ``data``: an NSynth-format folder; None renders the notes from FluidR3_GM into ``out_dir/data``.
    ``notify`` receives one line per method that was asked for but cannot run.
    """
    from spectrostyle.classifier import note_images
    from spectrostyle.evaluation import silhouette_by_group, timbre_position
    from spectrostyle.spectrogram import SpectrogramConfig

    config = config or ExperimentConfig()
    notify = notify or (lambda message: None)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"report folder '{out}' exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "config.json", config.to_dict())
    timings: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    # sources
    root = Path(data) if data is not None else _render_sources(out / "data", config, progress)
    a_notes, b_notes, pairs = select_sources(root, config)
    name_a, name_b = config.pair
    family_a, family_b = a_notes[0].instrument_family_str, b_notes[0].instrument_family_str
    sample_rate = SpectrogramConfig().sample_rate
    sounds: list[Sound] = []
    for group, notes in ((name_a, a_notes), (name_b, b_notes)):
        for e in tqdm(notes, desc=f"pitch of {group}", disable=not progress, leave=False):
            error = _note_pitch_error(load_audio(e.audio_path, sample_rate=sample_rate), sample_rate, e.pitch)
            sounds.append(Sound(group, e.audio_path, e.pitch, e.velocity, e.note_str, pitch_error_cents=error))
    lap("sources")

    # generation
    methods = ([CONTROL] if config.control else []) + [m for m in config.methods if m != CONTROL]
    skipped: dict[str, str] = {}
    made: dict[str, dict[str, int]] = {}
    for method in methods:
        directions = [d for d in config.directions if d in _recipe(method).directions]
        ready, reasons = {}, {}
        for direction in directions:
            content_family, style_family = (family_a, family_b) if direction == "a2b" else (family_b, family_a)
            prepared = prepare_method(method, content_family, style_family, direction, config)
            if isinstance(prepared, Unavailable):
                reasons[direction] = prepared
            else:
                ready[direction] = prepared
        if not ready:
            unique = dict.fromkeys(r for unavailable in reasons.values() for r in unavailable.reasons)
            skipped[method] = "; ".join(unique) or "no direction asked for"
            notify(f"method '{method}' skipped: {skipped[method]}")
            continue
        # the control copies every paired note of A, so that A and its copies meet note for note in every test
        capped = config.sounds_per_method is not None and method != CONTROL
        per_direction = math.ceil(config.sounds_per_method / len(ready)) if capped else None
        made[method] = {}
        for direction, prepared in ready.items():
            new, count = generate(method, direction, prepared, spread(pairs, per_direction), out, config,
                                  progress=progress)
            sounds.extend(new)
            made[method][direction] = count
        if reasons:
            notes = "; ".join(f"no {d} ({why})" for d, why in reasons.items())
            notify(f"method '{method}' made only {', '.join(ready)}: {notes}")
            skipped[f"{method} (partly)"] = notes
    lap("generation")
    groups = [name_a, name_b] + [m for m in methods if m in made]
    new_groups = groups[2:]

    # images and features
    images = note_images([s.path for s in sounds], SpectrogramConfig(), progress=progress, desc="spectrograms")
    features, embedding = extract_features(images, config)
    lap("features")

    # classification
    split = held_out_pitches(sorted({s.pitch for s in sounds if s.group == name_a}), config)
    classification: dict[str, Any] = {}
    names = [*new_groups, "all"] if len(new_groups) > 1 else new_groups
    for name in tqdm(names, desc="classifiers", disable=not progress, leave=False):
        if name == "all":
            classification[name] = classification_test("all", groups, images, sounds, split, config, out)
        else:
            classification[name] = classification_test(
                name, [name_a, name_b, name], images, sounds, split, config, out,
                pairs=[(name, name_a), (name, name_b), (name_a, name_b)])
    lap("classification")

    # t-SNE, silhouettes, timbre position
    labels = [s.group for s in sounds]
    points, perplexity = tsne_embedding(features, config)
    by_direction = [f"{s.group} {s.direction}" if s.direction and s.group != CONTROL else s.group for s in sounds]
    silhouette = {"features": silhouette_by_group(_standardise(features), labels),
                  "tsne": silhouette_by_group(points, labels),
                  "features_by_direction": silhouette_by_group(_standardise(features), by_direction)}
    plot_tsne(points, sounds, groups, out / "tsne.png",
              f"t-SNE of {config.feature_layer} ({config.feature_pooling.replace('_', ' ')}), shipped audio CNN "
              f"'{config.feature_model}'; perplexity {perplexity:.0f}")
    is_a = np.array([s.group == name_a for s in sounds])
    is_b = np.array([s.group == name_b for s in sounds])
    z = _standardise(embedding, embedding[is_a | is_b])
    position = timbre_position(z, z[is_a], z[is_b])
    lap("tsne")

    summary = _summarise(groups, sounds, position, classification, silhouette, made)
    examples = _write_examples(out, sounds, groups, pairs, config)
    lap("report")
    timings["total"] = time.perf_counter() - started
    metrics = {
        "config": config.to_dict(),
        "seed": config.seed,
        "data": str(root),
        "pair": {"a": name_a, "b": name_b, "families": [family_a, family_b]},
        "groups": groups,
        "skipped": skipped,
        "made_now": made,
        "split_pitches": split,
        "summary": summary,
        "classification": classification,
        "silhouette": silhouette,
        "tsne": {"perplexity": perplexity, "png": "tsne.png",
                 "points": [[round(float(x), 4), round(float(y), 4)] for x, y in points]},
        "sounds": [{**s.record(out), "position": float(position["position"][i]), "to_a": float(position["to_a"][i]),
                    "to_b": float(position["to_b"][i])} for i, s in enumerate(sounds)],
        "examples": examples,
        "timings_s": timings,
        "torch_threads": torch.get_num_threads(),
    }
    metrics = _clean(metrics)
    _write_json(out / "metrics.json", metrics)
    with atomic_output(out / "table.md") as tmp:
        tmp.write_text(main_table_markdown(metrics), encoding="utf-8")
    with atomic_output(out / "report.html") as tmp:
        tmp.write_text(report_html(metrics), encoding="utf-8")
    return metrics


def _render_sources(folder: Path, config: ExperimentConfig, progress: bool) -> Path:
    from spectrostyle.render import FAMILIES, render_dataset

    not_families = [name for name in config.pair if name not in FAMILIES]
    if not_families:
        raise InputError(f"without --data the sources must be families ({', '.join(FAMILIES)}); got "
                         f"{', '.join(not_families)}")
    render_dataset(folder, families=list(config.pair), pitches=config.pitches, pitch_step=config.pitch_step,
                   velocities=config.velocities or (25, 50, 75, 100, 127),
                   programs_per_family=config.programs_per_family, progress=progress)
    return folder


def _median(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return float(np.median(finite)) if finite else None


def _summarise(groups: Sequence[str], sounds: Sequence[Sound], position: dict[str, np.ndarray],
               classification: dict[str, Any], silhouette: dict[str, Any], made: dict[str, Any]) -> dict[str, Any]:
    """Per group: the numbers of the main table."""
    from spectrostyle.evaluation import PITCH_OFF_CENTS

    name_a, name_b = groups[:2]
    table = {}
    for group in groups:
        rows = [i for i, s in enumerate(sounds) if s.group == group]
        errors = [sounds[i].pitch_error_cents for i in rows]
        entry: dict[str, Any] = {
            "sounds": len(rows),
            "directions": sorted({sounds[i].direction for i in rows if sounds[i].direction}),
            "pitch_error_cents_median": float(np.median(errors)) if errors else None,
            "pitch_lost_fraction": float(np.mean([not math.isfinite(e) for e in errors])) if errors else None,
            "pitch_off_fraction": float(np.mean([not e <= PITCH_OFF_CENTS for e in errors])) if errors else None,
            "silhouette": silhouette["features"].get(group),
            "silhouette_tsne": silhouette["tsne"].get(group),
            "position": float(position["position"][rows].mean()),
            "to_a": float(position["to_a"][rows].mean()),
            "to_b": float(position["to_b"][rows].mean()),
        }
        for direction in ("a2b", "b2a"):
            chosen = [i for i in rows if sounds[i].direction == direction]
            if chosen:
                entry[f"position_{direction}"] = float(position["position"][chosen].mean())
        if group in made:
            entry["seconds_per_sound_median"] = _median([sounds[i].seconds for i in rows])
            entry["spectral_convergence_db_median"] = _median([sounds[i].spectral_convergence_db for i in rows])
            test = classification.get(group)
            if test is not None:
                entry.update({
                    "accuracy": test["accuracy"], "accuracy_ci": test["accuracy_ci"],
                    "recall": test["recall"][group], "precision": test["precision"][group],
                    "vs_a": test["separability"][f"{group} vs {name_a}"]["balanced_accuracy"],
                    "vs_a_ci": test["separability"][f"{group} vs {name_a}"]["ci"],
                    "vs_b": test["separability"][f"{group} vs {name_b}"]["balanced_accuracy"],
                    "vs_b_ci": test["separability"][f"{group} vs {name_b}"]["ci"],
                })
                seeds = test.get("over_seeds")
                if seeds:  # several classifiers: their mean, and the range over seeds instead of one's interval
                    for key, values in (("accuracy", seeds["accuracy"]),
                                        ("vs_a", seeds["separability"][f"{group} vs {name_a}"]),
                                        ("vs_b", seeds["separability"][f"{group} vs {name_b}"])):
                        entry[key], entry[f"{key}_ci"] = values["mean"], [values["min"], values["max"]]
            if "all" in classification:
                entry["recall_all_groups"] = classification["all"]["recall"][group]
        table[group] = entry
    return table


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _write_json(path: Path, values: Any) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(_clean(values), indent=1, allow_nan=False) + "\n", encoding="utf-8")


# -------------------------------------------------------------------------------------------------- the report


def _thumbnail(audio_path: Path, png_path: Path, size: tuple[int, int] = (256, 160)) -> None:
    """An 8-bit grey thumbnail of a sound's spectrogram (low frequencies at the bottom)."""
    from PIL import Image

    from spectrostyle.spectrogram import Spectrogram

    image = Spectrogram.from_audio(load_audio(audio_path)).image.flip(0).numpy()
    picture = Image.fromarray(np.round(image * 255).astype(np.uint8)).resize(size, Image.Resampling.BILINEAR)
    with atomic_output(png_path) as tmp:
        picture.save(tmp, format="PNG")


def _write_examples(out: Path, sounds: Sequence[Sound], groups: Sequence[str], pairs: Sequence[tuple[Any, Any]],
                    config: ExperimentConfig) -> list[dict[str, Any]]:
    """Thumbnails and WAV copies in ``out/examples`` for a few pairs: both sources and every new sound made
    from them. Returns ``[{pair, pitch, velocity, sounds: [{group, direction, png, wav}]}]``."""
    folder = out / "examples"
    folder.mkdir(exist_ok=True)
    made_from = {(s.group, s.direction, s.note): s for s in sounds}
    shown = []
    # prefer pairs every new group used (the ones spread for the two-direction methods)
    usable = [p for p in pairs if all(any((g, d, n) in made_from for d, n in (("a2b", p[0].note_str),
                                                                              ("b2a", p[1].note_str)))
                                      for g in groups[2:])] or list(pairs)
    for a, b in spread(usable, config.examples) if config.examples else []:
        cells = []
        candidates = [(groups[0], "", a.note_str), (groups[1], "", b.note_str)]
        candidates += [(g, d, a.note_str if d == "a2b" else b.note_str) for g in groups[2:] for d in DIRECTIONS]
        for group, direction, note in candidates:
            sound = made_from.get((group, direction, note))
            if sound is None:
                continue
            stem = f"{group}-{direction or 'source'}-{note}"
            wav, png = folder / f"{stem}.wav", folder / f"{stem}.png"
            if not wav.exists():
                shutil.copyfile(sound.path, wav)
            if not png.exists():
                _thumbnail(sound.path, png)
            cells.append({"group": group, "direction": direction, "note": note, "wav": f"examples/{wav.name}",
                          "png": f"examples/{png.name}"})
        shown.append({"pair": [a.note_str, b.note_str], "pitch": a.pitch, "velocity": a.velocity, "sounds": cells})
    return shown


def _fmt(value: Any, spec: str = ".2f", suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:{spec}}{suffix}"


def _fmt_ci(value: Any, ci: Any, percent: bool = True) -> str:
    if value is None:
        return "–"
    if percent:
        text = f"{value:.0%}"
        if ci and None not in ci:
            text += f" [{ci[0]:.0%}, {ci[1]:.0%}]"
        return text
    text = f"{value:.2f}"
    if ci and None not in ci:
        text += f" [{ci[0]:.2f}, {ci[1]:.2f}]"
    return text


MAIN_COLUMNS = ("group", "sounds", "accuracy {A, B, M} [95% CI]", "recall of M", "M vs A", "M vs B",
                "silhouette", "pitch error (cents)", "position A→B (a2b / b2a)", "spectral conv. (dB)", "s / sound")


def main_table_rows(metrics: dict[str, Any]) -> list[list[str]]:
    """The main table: one row per group (sources first), cells as text."""
    rows = []
    for group, entry in metrics["summary"].items():
        errors = _fmt(entry.get("pitch_error_cents_median"), ".0f")
        if entry.get("pitch_off_fraction"):
            errors += f" ({entry['pitch_off_fraction']:.0%} off)"
        positions = " / ".join(_fmt(entry.get(f"position_{d}"), ".2f") for d in DIRECTIONS
                               if f"position_{d}" in entry) or _fmt(entry.get("position"), ".2f")
        directions = ", ".join(entry["directions"])
        rows.append([
            group if not directions else f"{group} ({directions})", str(entry["sounds"]),
            _fmt_ci(entry.get("accuracy"), entry.get("accuracy_ci")),
            _fmt(entry.get("recall"), ".0%"),
            _fmt_ci(entry.get("vs_a"), entry.get("vs_a_ci"), percent=False),
            _fmt_ci(entry.get("vs_b"), entry.get("vs_b_ci"), percent=False),
            _fmt(entry.get("silhouette"), ".2f"), errors, positions,
            _fmt(entry.get("spectral_convergence_db_median"), ".1f"),
            _fmt(entry.get("seconds_per_sound_median"), ".2f"),
        ])
    return rows


def main_columns(metrics: dict[str, Any]) -> tuple[str, ...]:
    """The main table's header: with several classifier seeds, accuracy and separabilities are the mean over the
    seeds and the brackets their range."""
    seeds = metrics["config"].get("classifier_seeds", 1)
    if seeds == 1:
        return MAIN_COLUMNS
    return tuple(f"accuracy {{A, B, M}}, mean [min, max] of {seeds} classifiers" if c.startswith("accuracy")
                 else f"{c} (mean [min, max])" if c in ("M vs A", "M vs B") else c for c in MAIN_COLUMNS)


def main_table_markdown(metrics: dict[str, Any]) -> str:
    """The main table as Markdown (for the README), with a line on what was run."""
    columns = main_columns(metrics)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in main_table_rows(metrics)]
    config = metrics["config"]
    lines.append("")
    lines.append(f"Sources {metrics['pair']['a']} (A) and {metrics['pair']['b']} (B); seed {metrics['seed']}; test "
                 f"pitches {', '.join(map(str, metrics['split_pitches']['test']))}; {len(metrics['sounds'])} "
                 f"sounds; {metrics['timings_s']['total'] / 60:.1f} min on {metrics['torch_threads']} torch "
                 f"threads. Sounds per method asked for: {config['sounds_per_method']}.")
    if metrics["skipped"]:
        lines.append("Skipped: " + "; ".join(f"{m}: {why}" for m, why in metrics["skipped"].items()))
    return "\n".join(lines) + "\n"


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(metrics: dict[str, Any]) -> str:
    """``report.html``: the main table, the classifiers, the t-SNE plot, examples, configuration and timings."""
    a, b = metrics["pair"]["a"], metrics["pair"]["b"]
    esc = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>spectrostyle experiment</title><style>"
             "body{font-family:sans-serif;margin:2em;max-width:1250px}table{border-collapse:collapse;margin:.5em 0}"
             "td,th{border:1px solid #ccc;padding:.25em .5em;font-size:.9em;text-align:right}"
             "td:first-child,th:first-child{text-align:left}.warn{background:#fff3cd;padding:.5em}"
             ".ex td{text-align:center;vertical-align:top}.ex img{width:192px;height:120px;display:block}"
             ".ex audio{width:192px}pre{background:#f6f6f6;padding:.5em;overflow:auto}</style></head><body>",
             f"<h1>New sounds from {esc(a)} (A) and {esc(b)} (B): consistent and distinguishable?</h1>",
             "<p>Reproduces the evaluation of Liu, Delany &amp; McKeever (CAIP 2019): classifiers trained on the two "
             "sources and the new sounds of each method, and t-SNE of audio-CNN feature maps; plus pitch kept, "
             "timbre position, phase reconstruction and speed. Classifier tests are on pitches held out of "
             f"training ({', '.join(map(str, metrics['split_pitches']['test']))}). A control group "
             f"<b>copy</b> (exact copies of A's notes, when present) shows what “not distinguishable” looks "
             "like.</p>"]
    if metrics["skipped"]:
        items = "".join(f"<li><b>{esc(m)}</b>: {esc(why)}</li>" for m, why in metrics["skipped"].items())
        parts.append(f"<div class='warn'>Methods asked for but not (fully) run here:<ul>{items}</ul></div>")
    parts.append("<h2>Main table</h2>")
    parts.append(_html_table(main_columns(metrics), main_table_rows(metrics)))
    parts.append(
        "<p><b>accuracy</b>: a fresh classifier over {A, B, M} on the held-out pitches (chance 33%), 95% "
        "bootstrap interval. <b>recall of M</b>: new sounds recognised as their own group (consistency). "
        "<b>M vs A</b>: on the test notes of M and A, the balanced accuracy of the same classifier's decision "
        "“this is A” (0.5: cannot tell them apart; 1: always can); <b>M vs B</b> likewise. <b>silhouette</b>: of "
        "each group in the standardised feature space of the t-SNE (+1 tight and apart; ≤ 0 mixed with another "
        "group). <b>pitch error</b>: median absolute pYIN f0 error against the content note (in brackets: sounds "
        "more than 50 cents off, or unvoiced; the source rows show the rendered notes' own tuning). "
        "<b>position</b>: distance to A's centre / (to A + to B) in the shipped CNN's embedding; 0 = A, 1 = B. "
        "<b>spectral conv.</b>: the sound against the image it was rebuilt from (lower is better).</p>")
    parts.append("<h2>t-SNE of feature maps</h2><img src='tsne.png' alt='t-SNE plot' style='max-width:100%'>")
    sil = metrics["silhouette"]
    rows = []
    for g in [*metrics["groups"], "all"]:
        directions = [f"{d} {_fmt(sil['features_by_direction'].get(f'{g} {d}'))}" for d in DIRECTIONS
                      if f"{g} {d}" in sil["features_by_direction"]]
        rows.append([g, _fmt(sil["features"].get(g)), _fmt(sil["tsne"].get(g)), ", ".join(directions) or "–"])
    parts.append(_html_table(["group", "silhouette (features)", "silhouette (t-SNE plane)",
                              "each direction its own group (features)"], rows))
    parts.append("<h2>Classifiers</h2>")
    for name, test in metrics["classification"].items():
        title = "all groups together" if name == "all" else f"{{{a}, {b}, {name}}}"
        parts.append(f"<h3>{esc(title)}: accuracy {_fmt_ci(test['accuracy'], test['accuracy_ci'])} "
                     f"(chance {test['chance']:.0%})</h3>")
        rows = [[c, _fmt(test["precision"][c], ".0%"), _fmt(test["recall"][c], ".0%"),
                 str(test["notes"]["train"][c]), str(test["notes"]["test"][c])] for c in test["classes"]]
        parts.append("<div style='display:flex;gap:2em;align-items:flex-start'><div>")
        parts.append(_html_table(["class", "precision", "recall", "train notes", "test notes"], rows))
        parts.append(_html_table(["pair of classes", "balanced accuracy [95% CI]"],
                                 [[p, _fmt_ci(v["balanced_accuracy"], v["ci"], percent=False)]
                                  for p, v in test["separability"].items()]))
        parts.append(f"<p>best epoch {test['training']['best_epoch'] + 1} of {test['training']['epochs_run']}; "
                     f"{test['seconds']:.0f} s</p></div>")
        parts.append(f"<img src='{esc(test['confusion_png'])}' alt='confusion matrix' style='max-width:420px'>"
                     "</div>")
    parts.append("<h2>Examples</h2>")
    for example in metrics["examples"]:
        parts.append(f"<h3>pair {esc(' + '.join(example['pair']))} (MIDI {example['pitch']})</h3><table class='ex'>"
                     "<tr>")
        for cell in example["sounds"]:
            label = cell["group"] + (f" ({cell['direction']})" if cell["direction"] else "")
            parts.append(f"<td><b>{esc(label)}</b><br><img src='{esc(cell['png'])}' alt='{esc(label)}'>"
                         f"<audio controls preload='none' src='{esc(cell['wav'])}'></audio></td>")
        parts.append("</tr></table>")
    parts.append("<h2>Reproduce</h2><p>Configuration and seed (<code>config.json</code>; pass it back with "
                 "<code>--config</code>); every number is in <code>metrics.json</code>.</p>")
    parts.append(f"<pre>{esc(json.dumps(metrics['config'], indent=1))}</pre>")
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in metrics["timings_s"].items())
    parts.append(f"<p>Data: {esc(metrics['data'])}. Time: {esc(timings)} ({metrics['torch_threads']} torch "
                 "threads).</p></body></html>")
    return "\n".join(parts)
