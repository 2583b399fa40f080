"""The experiment's configuration and how each method makes each direction."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spectrostyle.core.audio import atomic_output
from spectrostyle.core.errors import InputError
from spectrostyle.core.vocabulary import DIRECTIONS

CONTROL = "copy"


DEFAULT_METHODS = ("gatys", "fast", "adain", "cyclegan", "pix2pix")


FEATURE_POOLINGS = ("mean_std", "time_mean")


PITCH_SEARCH_SEMITONES = 14.0  # pYIN looks this far either side of the content note


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


CONTROL_RECIPE = Recipe("control: exact copies of source A's notes", lambda content, style: [{}], directions=("a2b",))


def known_methods() -> list[str]:
    """Every method name the experiment accepts: the control group and every registered transfer method."""
    from spectrostyle.methods.registry import METHODS

    return [CONTROL, *METHODS]


def _recipe(method: str) -> Recipe:
    """How the experiment runs ``method``: from the method's own declarations (its title, the settings it
    tries for each pair of families, its directions and the model kinds it reads)."""
    if method == CONTROL:
        return CONTROL_RECIPE
    from spectrostyle.methods.registry import method_class

    cls = method_class(method)
    return Recipe(cls.title, cls.settings_for, directions=cls.directions, model_kinds=cls.model_kinds)


@dataclass
class ExperimentConfig:
    """Everything that decides an experiment's numbers (see the module docstring for the default and ``--full``).

    Sources: ``pair`` (A, B: NSynth family names, or ``instrument_str`` names with ``--data``); notes at MIDI
    ``pitches`` (inclusive range) every ``pitch_step``, at ``velocities`` (None: all), of ``instrument_sources``
    (None: all; e.g. ``["acoustic"]``), at most ``max_notes_per_source`` each (seeded sample; None: all). Without
    ``--data`` they are rendered from FluidR3_GM, ``programs_per_family`` GM programs per family.
    Generation: ``methods``; ``control`` adds the ``copy`` group; ``directions``; ``sounds_per_method`` (split
    evenly over the directions a method makes, on pairs spread evenly over pitch; None: every pair);
    ``method_settings``: settings per method passed to :func:`spectrostyle.pipeline.transfer`.
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
