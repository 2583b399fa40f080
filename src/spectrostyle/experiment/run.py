"""The paper's experiment as one command: do the methods make new sounds that are consistent (a group of their
own) and distinguishable from both source instruments? Plus the measurements the paper lacks.

``spectrostyle experiment --out REPORT_DIR [--data DIR] [--pair A B] [--methods LIST] [--config FILE] [--full]
[--seed N]`` (and :func:`run_experiment` from Python) runs, for a pair of sources A and B (NSynth families such as
``flute``/``keyboard``, or instrument names) and a set of methods:

1. **Generation.** Notes of A and B are paired at the same pitch (and the nearest velocity). Each method makes new
   sounds from the pairs: content A in the style of B (``a2b``) and, where the method allows, content B in the style
   of A (``b2a``); how, each method declares (``settings_for``, ``directions``). Sounds are written to
   ``REPORT_DIR/sounds/<method>/<direction>/`` with a JSON record each; a re-run reuses every sound whose record
   matches (same notes, settings, seed and shipped weights). Requested methods that cannot run here (no shipped
   model, not part of this installation) are skipped with a warning and a note in the report; an unknown method name
   is an error. A control group ``copy`` (exact copies of every paired note of A) is added unless ``control`` is
   false: it is what "not distinguishable from A" looks like.
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

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from spectrostyle.core.audio import atomic_output, load_audio
from spectrostyle.core.errors import InputError
from spectrostyle.experiment.analysis import (
    _standardise,
    _summarise,
    classification_test,
    extract_features,
    plot_tsne,
    tsne_embedding,
)
from spectrostyle.experiment.config import CONTROL, ExperimentConfig, _clean, _recipe, _write_json
from spectrostyle.experiment.generation import (
    Sound,
    Unavailable,
    _note_pitch_error,
    generate,
    held_out_pitches,
    prepare_method,
    select_sources,
    spread,
)
from spectrostyle.experiment.report import _write_examples, main_table_markdown, report_html


def run_experiment(out_dir: str | os.PathLike, config: ExperimentConfig | None = None, *,
                   data: str | os.PathLike | None = None, progress: bool = True,
                   notify: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the experiment (see the module docstring) into ``out_dir``; returns what ``metrics.json`` holds.

    ``data``: an NSynth-format folder; None renders the notes from FluidR3_GM into ``out_dir/data``.
    ``notify`` receives one line per method that was asked for but cannot run.
    """
    from spectrostyle.core.metrics import silhouette_by_group, timbre_position
    from spectrostyle.core.spectrogram import SpectrogramConfig
    from spectrostyle.data.selection import note_images

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
    from spectrostyle.core.vocabulary import FAMILIES
    from spectrostyle.data.render import render_dataset

    not_families = [name for name in config.pair if name not in FAMILIES]
    if not_families:
        raise InputError(f"without --data the sources must be families ({', '.join(FAMILIES)}); got "
                         f"{', '.join(not_families)}")
    render_dataset(folder, families=list(config.pair), pitches=config.pitches, pitch_step=config.pitch_step,
                   velocities=config.velocities or (25, 50, 75, 100, 127),
                   programs_per_family=config.programs_per_family, progress=progress)
    return folder
