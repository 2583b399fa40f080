"""Slow (Gatys) method: end-to-end time with default settings on 4 s notes, quality figures, and peak memory
for a 60 s content file.

Usage: python benchmarks/bench_gatys.py [--threads 2] [--skip-long] [--float32] [--ulyanov]
End to end = load both files, spectrograms, optimisation, Griffin-Lim, write the WAV (process start-up and the
one-off model load are reported apart). Losses are those of the result's image under a float32 pass of the feature
network, whatever precision the run took. ``--float32`` runs each pair at ``precision="fp32"`` too and prints
the default's style loss and time against it; ``--ulyanov`` times Ulyanov & Lebedev's method on the first pair
(the random 1-D CNN of 4096 filters of width 11, content weight 1e-2, no energy or frequency constraint, 300 L-BFGS
steps, 500 Griffin-Lim iterations) against the default's median.
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
from spectrostyle.core.device import feature_dtype
from spectrostyle.core.metrics import pitch_error_to_note_cents
from spectrostyle.core.spectrogram import Spectrogram
from spectrostyle.data.examples import example_path
from spectrostyle.methods.gatys import GatysMethod
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


def float32_terms(judge: GatysMethod, result, style_path: Path) -> dict[str, float]:
    """The loss terms of ``result``'s image against its content and style under a float32 pass of the shipped
    feature network."""
    config = judge.spectrogram_config
    loss = judge.loss()
    style = Spectrogram.from_audio(load_audio(style_path), config).image[None, None]
    with torch.no_grad():
        terms = loss(result.spectrogram.image[None, None], loss.targets(result.content.image[None, None], style))
    return {name: float(value.sum()) for name, value in terms.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--float32", action="store_true", help="Also run each pair in float32 and compare.")
    parser.add_argument("--ulyanov", action="store_true", help="Also time Ulyanov & Lebedev's method.")
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
    judge = GatysMethod(GatysMethod.Options(precision="fp32"))
    runs = {"default": GatysMethod(GatysMethod.Options()), "float32": judge}
    dtype = feature_dtype(runs["default"]._precision(), "cpu") or torch.float32
    print(f"default precision {runs['default'].options.precision}: the feature network runs in {dtype}")
    kinds = ["default", "float32"] if args.float32 else ["default"]
    seconds_of: dict[str, list[float]] = {kind: [] for kind in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        for (cf, cp), (sf_, sp) in PAIRS:
            styles = {}
            for kind in kinds:
                started = time.perf_counter()
                # the optimised image itself: no balance matched afterwards (its terms are judged on it)
                result = transfer(example_path(cf, cp), example_path(sf_, sp), runs[kind], balance=0.0)
                save_result(result, Path(tmp) / "out.wav")
                seconds = time.perf_counter() - started
                seconds_of[kind].append(seconds)
                terms = float32_terms(judge, result, example_path(sf_, sp))
                styles[kind] = terms["style"]
                cents = pitch_error_to_note_cents(result.audio, 16_000, cp)
                label = "" if kind == "default" else " (float32)"
                start = result.history["style"][0]
                print(f"{cf}{cp} content, {sf_}{sp} style{label}: {seconds:5.2f} s end to end; style loss "
                      f"{start:.4g} -> {terms['style']:.4g} ({start / terms['style']:.0f}x); content loss "
                      f"{terms['content']:.4g}; energy {terms['energy']:.4g}; frequency {terms['frequency']:.4g}; "
                      f"pitch error {cents:.1f} cents")
            if args.float32:
                print(f"  default against float32: style {styles['default'] / styles['float32']:.2f}x, time "
                      f"{seconds_of['default'][-1] / seconds_of['float32'][-1]:.2f}x")
    if args.ulyanov:
        (cf, cp), (sf_, sp) = PAIRS[0]
        ulyanov = GatysMethod(GatysMethod.Options(feature_net="random", random_filters=4096, content_weight=1e-2,
                                                  energy_weight=0.0, frequency_weight=0.0, steps=300))
        started = time.perf_counter()
        transfer(example_path(cf, cp), example_path(sf_, sp), ulyanov, phase_iterations=500)
        seconds = time.perf_counter() - started
        median = float(np.median(seconds_of["default"]))
        print(f"Ulyanov & Lebedev's method, {cf}{cp} content, {sf_}{sp} style: {seconds:.1f} s end to end, "
              f"{seconds / median:.0f}x the default's median ({median:.2f} s)")
    if not args.skip_long:
        child = subprocess.run([sys.executable, __file__, "--threads", str(args.threads), "--long-child", "60"],
                               capture_output=True, text=True, check=True)
        print(child.stdout.strip())


if __name__ == "__main__":
    main()
