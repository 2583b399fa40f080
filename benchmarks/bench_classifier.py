"""The shipped audio CNN (``audio_cnn-default``) on the instruments it never saw in training.

Usage: python benchmarks/bench_classifier.py [--threads 2] [--data DIR] [--model NAME_OR_PATH]
Reads the held-out instruments (one GM program per family) from the model's metadata and classifies every note of
theirs in ``--data``: the FluidR3 dataset that recipes/classifier.sh trained on (default ./runs/fluidr3-classifier;
rendered into a temporary folder, as the recipe does, when absent). Prints the family accuracy with a 95% bootstrap
interval, the accuracy per family, what each family is mistaken for, and the forward time per note.
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

from spectrostyle.classifier import DEFAULT_FAMILIES, classify, note_images
from spectrostyle.data import NSynthIndex
from spectrostyle.evaluation import bootstrap_ci
from spectrostyle.registry import load_named_model

# what recipes/classifier.sh renders
RECIPE_RENDER = {"families": DEFAULT_FAMILIES, "pitches": (36, 96), "pitch_step": 3, "velocities": (50, 127)}


def held_out_notes(data: Path, instruments: list[str]) -> list:
    """The notes of ``instruments`` in the NSynth-format dataset ``data`` (sorted by name, for a stable order)."""
    index = NSynthIndex.load(data).filter(instruments=instruments)
    return sorted(index, key=lambda e: e.note_str)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("runs/fluidr3-classifier"))
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = load_named_model(args.model, "audio_cnn").eval()
    instruments = list(model.metadata["held_out_instruments"])
    print(f"model audio_cnn-{args.model}: {model.metadata.get('trained_on', '')}")
    print(f"held-out instruments: {', '.join(instruments)}")
    with tempfile.TemporaryDirectory() as scratch:
        data = args.data
        if not (data / "examples.json").is_file():
            from spectrostyle.render import render_dataset

            data = Path(scratch) / "fluidr3"
            print(f"{args.data} not found: rendering the recipe's dataset into {data}")
            render_dataset(data, **RECIPE_RENDER, progress=False)
        notes = held_out_notes(data, instruments)
        images = note_images([e.audio_path for e in notes], model.config.spectrogram)
    started = time.perf_counter()
    predicted = [top[0][0] for batch in torch.split(images, 32) for top in classify(batch, model, top_k=1)]
    seconds = time.perf_counter() - started
    truth = [e.instrument_family_str for e in notes]
    correct = np.array([p == t for p, t in zip(predicted, truth, strict=True)], dtype=np.float64)
    low, high = bootstrap_ci(correct)
    print(f"{len(notes)} notes: family accuracy {correct.mean():.1%} (95% CI {low:.1%}-{high:.1%}); "
          f"goal >= 90%; {1000 * seconds / len(notes):.1f} ms per note (batches of 32, {args.threads} threads)")
    print(f"{'family':<10}{'notes':>6}{'accuracy':>10}  mistaken for")
    for family in sorted(set(truth)):
        rows = [i for i, t in enumerate(truth) if t == family]
        wrong = Counter(predicted[i] for i in rows if predicted[i] != family)
        mistaken = ", ".join(f"{name} {count}" for name, count in wrong.most_common()) or "-"
        print(f"{family:<10}{len(rows):>6}{correct[rows].mean():>10.1%}  {mistaken}")


if __name__ == "__main__":
    main()
