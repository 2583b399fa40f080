"""Morphs through AdaIN: a knob that sounds even, and an alpha curve that moves along the sound.

For each content and style pair:
- knob: the results at 11 equal steps of alpha (0, 0.1, ..., 1), each one's mean MFCCs placed on the line from the
  alpha-0 result's to the alpha-1 result's (0..1); whether the positions rise at every step, and R^2 of the positions
  against a straight line, with ``--alpha-scale linear`` (the network's alpha) and ``even`` (calibrated per sound);
- curve: ``--alpha-curve 0:0,T:1`` over the whole sound; the mean MFCCs of its first and last quarters placed between
  the same quarters of the alpha-0 and alpha-1 results (goal: at most 0.35 and at least 0.65).

Usage: python benchmarks/bench_morph.py [--threads 2]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from spectrostyle.core.audio import load_audio
from spectrostyle.core.metrics import mean_mfcc
from spectrostyle.data.examples import example_path
from spectrostyle.pipeline import transfer

RATE = 16_000
PAIRS = [(("flute", 60), ("keyboard", 60)), (("keyboard", 60), ("flute", 60)), (("guitar", 60), ("string", 60)),
         (("brass", 60), ("reed", 60)), (("string", 60), ("keyboard", 65)), (("reed", 60), ("guitar", 60))]
STEPS = np.linspace(0.0, 1.0, 11)


def position(point: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    line = end - start
    return float((point - start) @ line / max(float(line @ line), 1e-12))


def evenness(positions: np.ndarray) -> tuple[float, bool]:
    fit = np.polyfit(STEPS, positions, 1)
    residual = ((positions - np.polyval(fit, STEPS)) ** 2).sum()
    return 1.0 - residual / ((positions - positions.mean()) ** 2).sum(), bool(np.all(np.diff(positions) > 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{'content -> style':24} {'linear: R^2, rising':>20} {'even: R^2, rising':>18} "
          f"{'curve 0->1: first, last quarter':>32}")
    worst = {"linear": 1.0, "even": 1.0}
    for content_note, style_note in PAIRS:
        content, style = example_path(*content_note), example_path(*style_note)
        cells = []
        for scale in ("linear", "even"):
            points = [mean_mfcc(transfer(content, style, "adain", alpha=float(k), alpha_scale=scale).audio, RATE)
                      for k in STEPS]
            r2, rising = evenness(np.array([position(p, points[0], points[-1]) for p in points]))
            worst[scale] = min(worst[scale], r2 if rising else -1.0)
            cells.append(f"{r2:.4f}, {'yes' if rising else 'NO'}")
        seconds = len(load_audio(content)) / RATE
        curve = transfer(content, style, "adain", alpha_curve=f"0:0,{seconds:g}:1").audio
        # a curve takes no balance matching (one equaliser cannot follow it), so neither do the ends
        ends = [transfer(content, style, "adain", alpha=a, balance=0.0).audio for a in (0.0, 1.0)]
        quarter = len(curve) // 4
        spans = [slice(0, quarter), slice(len(curve) - quarter, len(curve))]
        places = [position(mean_mfcc(curve[span], RATE), mean_mfcc(ends[0][span], RATE),
                           mean_mfcc(ends[1][span], RATE)) for span in spans]
        name = f"{content_note[0]} {content_note[1]} -> {style_note[0]} {style_note[1]}"
        print(f"{name:24} {cells[0]:>20} {cells[1]:>18} {places[0]:>15.2f}, {places[1]:.2f}", flush=True)
    print(f"worst R^2 of rising knobs (-1: one fell): linear {worst['linear']:.4f}, even {worst['even']:.4f}")


if __name__ == "__main__":
    main()
