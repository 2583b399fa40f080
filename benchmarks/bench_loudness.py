"""Levels of the results: every method's output against its content's integrated loudness (BS.1770), and its true
peak, with default settings and with ``loudness=-14``.

Usage: python benchmarks/bench_loudness.py [--threads 2]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from spectrostyle.core.audio import load_audio
from spectrostyle.core.loudness import integrated_loudness, true_peak_db
from spectrostyle.data.examples import example_path
from spectrostyle.pipeline import transfer

RATE = 16_000
CONTENTS = [("flute", 60), ("keyboard", 60), ("guitar", 60), ("brass", 60), ("reed", 60), ("string", 60)]
STYLE = ("keyboard", 65)
METHODS = {"gatys": True, "fast": False, "adain": True, "cyclegan": False, "pix2pix": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    style = load_audio(example_path(*STYLE))
    print(f"{len(CONTENTS)} example notes as content, style {STYLE[0]} {STYLE[1]} where the method takes one")
    print(f"{'method':9} {'|result - content| LU, max':>27} {'true peak dBTP, max':>20} "
          f"{'at -14 LUFS: |error| max':>25}")
    for method, takes_style in METHODS.items():
        errors, peaks, targeted = [], [], []
        for family, pitch in CONTENTS:
            content = load_audio(example_path(family, pitch))
            reference = integrated_loudness(content, RATE)
            result = transfer(content, style if takes_style else None, method).audio
            errors.append(abs(integrated_loudness(result, RATE) - reference))
            peaks.append(true_peak_db(result, RATE))
            louder = transfer(content, style if takes_style else None, method, loudness=-14.0).audio
            targeted.append(abs(integrated_loudness(louder, RATE) + 14.0))
            peaks.append(true_peak_db(louder, RATE))
        print(f"{method:9} {max(errors):>27.3f} {max(peaks):>20.2f} {max(targeted):>25.3f}", flush=True)
    notes = [load_audio(example_path(*c)) for c in CONTENTS]
    print(f"(contents' loudness: {', '.join(f'{integrated_loudness(n, RATE):.1f}' for n in notes)} LUFS; "
          f"true peaks {np.round([true_peak_db(n, RATE) for n in notes], 1)} dBTP)")


if __name__ == "__main__":
    main()
