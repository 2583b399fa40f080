"""Slow (Gatys) method: end-to-end time with default settings on 4 s notes, quality figures, and peak memory
for a 60 s content file.

Usage: python benchmarks/bench_gatys.py [--threads 2] [--skip-long]
End to end = load both files, spectrograms, optimisation, Griffin-Lim, write the WAV (process start-up and the
one-off model load are reported apart).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from spectrostyle.core.audio import load_audio
from spectrostyle.core.metrics import pitch_error_to_note_cents
from spectrostyle.data.examples import example_path
from spectrostyle.pipeline import save_result, transfer

PAIRS = [(("keyboard", 60), ("flute", 65)), (("flute", 60), ("keyboard", 65)), (("flute", 60), ("keyboard", 60)),
         (("keyboard", 60), ("flute", 60))]


def long_run(seconds: float, threads: int) -> None:
    """Child process: Gatys on ``seconds`` of content; prints peak resident memory."""
    torch.set_num_threads(threads)
    notes = [load_audio(example_path(f, p)) for f, p in [("flute", 60), ("keyboard", 65), ("guitar", 60)]]
    content = np.concatenate([notes[i % 3] for i in range(int(np.ceil(seconds / 4)))])[: int(seconds * 16_000)]
    started = time.perf_counter()
    result = transfer(content, load_audio(example_path("keyboard", 60)), "gatys")
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"long content {seconds:.0f} s: {elapsed:.1f} s, output {len(result.audio) / 16_000:.1f} s, "
          f"peak resident memory {peak_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--long-child", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.long_child is not None:
        long_run(args.long_child, args.threads)
        return
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    transfer(load_audio(example_path("flute", 60)), load_audio(example_path("keyboard", 60)), "gatys", steps=1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; warm-up incl. model load "
          f"{time.perf_counter() - started:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for (cf, cp), (sf_, sp) in PAIRS:
            started = time.perf_counter()
            result = transfer(example_path(cf, cp), example_path(sf_, sp), "gatys")
            save_result(result, Path(tmp) / "out.wav")
            seconds = time.perf_counter() - started
            style = result.history["style"]
            cents = pitch_error_to_note_cents(result.audio, 16_000, cp)
            print(f"{cf}{cp} content, {sf_}{sp} style: {seconds:5.2f} s end to end; style loss "
                  f"{style[0]:.4g} -> {style[-1]:.4g} ({style[0] / style[-1]:.0f}x); content loss "
                  f"{result.history['content'][-1]:.4g}; pitch error {cents:.1f} cents")
    if not args.skip_long:
        child = subprocess.run([sys.executable, __file__, "--threads", str(args.threads), "--long-child", "60"],
                               capture_output=True, text=True, check=True)
        print(child.stdout.strip())


if __name__ == "__main__":
    main()
