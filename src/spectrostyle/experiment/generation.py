"""The experiment's sources and the new sounds each method makes of them (cached)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from spectrostyle.core.audio import load_audio, save_audio
from spectrostyle.core.errors import InputError, SpectrostyleError
from spectrostyle.experiment.config import (
    CONTROL,
    PITCH_SEARCH_SEMITONES,
    ExperimentConfig,
    _finite_or_none,
    _recipe,
    _write_json,
)


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
    from spectrostyle.core.vocabulary import FAMILIES
    from spectrostyle.data.nsynth import NSynthIndex

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
    from spectrostyle.data.nsynth import NSynthIndex

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
    from spectrostyle.methods.registry import METHODS, make_options, method_class

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
    from spectrostyle.store import shipped_models

    return ",".join(sorted(str(m.description.get("sha256", "")) for m in shipped_models() if m.kind in kinds))


def _code_fingerprint(runner: Any) -> str:
    """SHA-256 of the source files that decide a method's sounds: the module of ``runner``'s class and the shared
    spectrogram, method-base, feed-forward and pipeline modules (empty for the control, which copies notes), so
    that a changed method is not answered from the cache."""
    if runner is None:
        return ""
    import inspect

    from spectrostyle import pipeline
    from spectrostyle.core import spectrogram
    from spectrostyle.methods import base, network

    digest = hashlib.sha256()
    for module in dict.fromkeys([inspect.getmodule(type(runner)), spectrogram, base, network, pipeline]):
        digest.update(Path(inspect.getsourcefile(module)).read_bytes())
    return digest.hexdigest()[:16]


def _cache_key(method: str, direction: str, prepared: Prepared, content, style, config: ExperimentConfig,
               fingerprint: str) -> str:
    record = {"method": method, "direction": direction, "settings": prepared.settings, "seed": config.seed,
              "content": [str(content.audio_path.parent.parent.resolve()), content.note_str],
              "style": style.note_str if prepared.uses_style else "", "weights": fingerprint}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _note_pitch_error(audio: np.ndarray, sample_rate: int, pitch: int) -> float:
    from spectrostyle.core.metrics import note_pitch_range, pitch_error_to_note_cents

    return pitch_error_to_note_cents(audio, sample_rate, pitch, **note_pitch_range(pitch, PITCH_SEARCH_SEMITONES))


def _reconstruction_convergence(result) -> float:
    """Spectral convergence (dB) of the result's audio against its image's magnitude, at the best gain (the audio
    may have been scaled down to avoid clipping)."""
    from spectrostyle.core.spectrogram import magnitude, spectral_convergence_db

    config = result.spectrogram.config
    target = result.spectrogram.magnitude()
    audio = torch.from_numpy(np.asarray(result.audio, dtype=np.float32))
    rebuilt = magnitude(audio, config, num_frames=target.shape[-1])
    gain = float((target * rebuilt).sum() / (rebuilt * rebuilt).sum().clamp_min(1e-12))
    return float(spectral_convergence_db(target, audio * gain, config))


def generate(method: str, direction: str, prepared: Prepared, pairs: Sequence[tuple[Any, Any]], out_dir: Path,
             config: ExperimentConfig, *, progress: bool) -> tuple[list[Sound], int]:
    """Make (or reuse) the sounds of one method and direction; returns them and how many were made now."""
    from spectrostyle.pipeline import transfer

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
                # the paper's methods as published: no content pitch put back, no balance matched
                result = transfer(content.audio_path, style.audio_path if prepared.uses_style else None,
                                  prepared.runner, keep_pitch=0.0, balance=0.0)
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
