"""The shipped audio CNN (``audio_cnn-default``) on the instruments it never saw in training; or, given several runs
of a program cross-validation, the recipe's accuracy over every program they held out.

Usage: python benchmarks/bench_classifier.py [--threads 2] [--data DIR] [--model NAME_OR_PATH ...]
Reads the held-out instruments (one GM program per family) from each model's metadata and classifies every note of
theirs in ``--data``: the FluidR3 dataset that recipes/classifier.sh trained on (default ./runs/fluidr3-classifier;
rendered into a temporary folder, as the recipe does, when absent). Prints the family accuracy with a 95% bootstrap
interval, the accuracy per family, what each family is mistaken for, and the forward time per note.
Several ``--model`` (runs of ``spectrostyle train classifier --fold K``, e.g. ``FOLD=K bash recipes/classifier.sh``,
same setting and seed, different folds): each model is tested on its own held-out programs and the notes are pooled;
the interval then resamples whole programs (notes of one program are not independent), and a table gives every
program's accuracy.
Goal (issue 3): >= 90% family accuracy on the held-out instruments.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from spectrostyle.core.metrics import bootstrap_ci
from spectrostyle.core.vocabulary import DEFAULT_FAMILIES
from spectrostyle.data.nsynth import NSynthIndex
from spectrostyle.data.selection import note_images
from spectrostyle.eval.classify import classify
from spectrostyle.store import load_named_model

# what recipes/classifier.sh renders
RECIPE_RENDER = {"families": DEFAULT_FAMILIES, "pitches": (36, 96), "pitch_step": 3, "velocities": (50, 127)}


def held_out_notes(data: Path, instruments: list[str]) -> list:
    """The notes of ``instruments`` in the NSynth-format dataset ``data`` (sorted by name, for a stable order)."""
    index = NSynthIndex.load(data).filter(instruments=instruments)
    return sorted(index, key=lambda e: e.note_str)


def program_names() -> dict[str, str]:
    """NSynth-style instrument name -> 'GM number name', for the tables."""
    from spectrostyle.data.programs import GM_PROGRAMS

    return {p.instrument_str: f"{p.program} {p.name}" for p in GM_PROGRAMS}


def check_folds(models: list) -> str | None:
    """What is wrong when two runs held out the same program (then they are not folds of one
    cross-validation: e.g. different seeds, which order the programs differently)."""
    seen: dict[str, int] = {}
    for number, model in enumerate(models):
        for instrument in model.metadata["held_out_instruments"]:
            if instrument in seen:
                return (f"models {seen[instrument] + 1} and {number + 1} both held out {instrument}: give folds of "
                        "one seed, each once")
            seen[instrument] = number
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("runs/fluidr3-classifier"))
    parser.add_argument("--model", action="append", help="Shipped name or model.json; repeat for folds.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    names = args.model or ["default"]
    models = [load_named_model(name, "audio_cnn").eval() for name in names]
    problem = check_folds(models)
    if problem:
        parser.error(problem)  # exit status 2
    gm = program_names()
    truth: list[str] = []
    predicted: list[str] = []
    instrument_of: list[str] = []
    seconds = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        data = args.data
        if not (data / "examples.json").is_file():
            from spectrostyle.data.render import render_dataset

            data = Path(scratch) / "fluidr3"
            print(f"{args.data} not found: rendering the recipe's dataset into {data}")
            render_dataset(data, **RECIPE_RENDER, progress=False)
        for name, model in zip(names, models, strict=True):
            instruments = list(model.metadata["held_out_instruments"])
            print(f"model {name}: {model.metadata.get('trained_on', '')}")
            print(f"held-out instruments: {', '.join(instruments)}")
            notes = held_out_notes(data, instruments)
            images = note_images([e.audio_path for e in notes], model.config.spectrogram)
            started = time.perf_counter()
            guesses = [top[0][0] for batch in torch.split(images, 32) for top in classify(batch, model, top_k=1)]
            seconds += time.perf_counter() - started
            hits = np.mean([g == e.instrument_family_str for g, e in zip(guesses, notes, strict=True)])
            if len(models) > 1:
                print(f"  {len(notes)} notes: family accuracy {hits:.1%}")
            truth += [e.instrument_family_str for e in notes]
            instrument_of += [e.instrument_str for e in notes]
            predicted += guesses
    correct = np.array([p == t for p, t in zip(predicted, truth, strict=True)], dtype=np.float64)
    rows_of: dict[str, list[int]] = {}  # note rows per program
    for row, program in enumerate(instrument_of):
        rows_of.setdefault(program, []).append(row)
    if len(models) == 1:
        low, high = bootstrap_ci(correct)
        interval = "95% CI"
    else:
        per_program = np.array([[correct[rows_of[p]].sum(), len(rows_of[p])] for p in sorted(rows_of)])
        low, high = bootstrap_ci(per_program, lambda hits: hits[:, 0].sum() / hits[:, 1].sum())
        interval = f"95% CI resampling the {len(rows_of)} programs"
    print(f"{len(truth)} notes: family accuracy {correct.mean():.1%} ({interval} {low:.1%}-{high:.1%}); "
          f"goal >= 90%; {1000 * seconds / len(truth):.1f} ms per note (batches of 32, {args.threads} threads)")
    print(f"{'family':<10}{'notes':>6}{'accuracy':>10}  mistaken for")
    for family in sorted(set(truth)):
        rows = [i for i, t in enumerate(truth) if t == family]
        print(f"{family:<10}{len(rows):>6}{correct[rows].mean():>10.1%}  {_mistakes(predicted, rows, family)}")
    if len(models) > 1:
        print(f"{'program':<46}{'notes':>6}{'accuracy':>10}  mistaken for")
        for program, rows in sorted(rows_of.items(), key=lambda item: (correct[item[1]].mean(), item[0])):
            label = f"{program} ({gm.get(program, '?')})"
            print(f"{label:<46}{len(rows):>6}{correct[rows].mean():>10.1%}  "
                  f"{_mistakes(predicted, rows, truth[rows[0]])}")


def _mistakes(predicted: list[str], rows: list[int], family: str) -> str:
    wrong = Counter(predicted[i] for i in rows if predicted[i] != family)
    return ", ".join(f"{name} {count}" for name, count in wrong.most_common()) or "-"


if __name__ == "__main__":
    main()
