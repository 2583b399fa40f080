"""Slow (Gatys) from the AdaIN blend: how many L-BFGS steps from ``--start adain`` reach the style loss that 60 steps
from the content reach, in how many seconds, with the pitch and the energy and frequency constraints kept.

Usage: python benchmarks/bench_slow_start.py [--threads 2] [--steps 10,15,20,25,30]

For each pair of example notes (content, style): the final style loss of each run against the content start's after
60 steps (ratio; <= 1: as close to the style or closer), the energy and frequency terms (ratio against the same
baseline), the median pYIN f0 error of the output against the content note (cents), and the seconds of the whole
transfer (spectrograms, the AdaIN pass, the optimisation and Griffin-Lim; models loaded beforehand).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from spectrostyle.core.audio import load_audio
from spectrostyle.core.metrics import pitch_error_to_note_cents
from spectrostyle.data.examples import example_path
from spectrostyle.methods.gatys import GatysMethod
from spectrostyle.pipeline import transfer

PAIRS = [(("keyboard", 60), ("flute", 65)), (("flute", 60), ("keyboard", 65)), (("flute", 60), ("keyboard", 60)),
         (("keyboard", 60), ("flute", 60)), (("guitar", 60), ("reed", 60)), (("string", 60), ("brass", 60))]


def run(content: np.ndarray, style: np.ndarray, pitch: int, **settings) -> dict[str, float]:
    method = GatysMethod(GatysMethod.Options(**settings))
    method.feature_net  # noqa: B018 - load the models before timing
    if settings.get("start") == "adain":
        method._adain_start(torch.zeros(1, 1, method.spectrogram_config.n_freq, 16), [torch.zeros(1, 1, 512, 16)])
    started = time.perf_counter()
    result = transfer(content, style, method)
    seconds = time.perf_counter() - started
    history = result.history
    return {"style": history["style"][-1], "energy": history["energy"][-1], "frequency": history["frequency"][-1],
            "cents": pitch_error_to_note_cents(result.audio, 16_000, pitch), "seconds": seconds,
            "steps": len(history["style"]) - 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", default="10,15,20,25,30")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    step_counts = [int(s) for s in args.steps.split(",")]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    rows: dict[str, list[dict[str, float]]] = {}
    for (cf, cp), (sf_, sp) in PAIRS:
        content, style = load_audio(example_path(cf, cp)), load_audio(example_path(sf_, sp))
        base = run(content, style, cp, start="content", steps=60)
        line = [f"{cf} {cp} as {sf_} {sp}: content/60 style {base['style']:.3g} {base['seconds']:.2f} s "
                f"{base['cents']:.0f} c"]
        rows.setdefault("content/60", []).append({**base, "style_ratio": 1.0, "energy_ratio": 1.0,
                                                  "frequency_ratio": 1.0})
        for steps in step_counts:
            r = run(content, style, cp, start="adain", steps=steps)
            r.update(style_ratio=r["style"] / base["style"], energy_ratio=r["energy"] / max(base["energy"], 1e-12),
                     frequency_ratio=r["frequency"] / max(base["frequency"], 1e-12))
            rows.setdefault(f"adain/{steps}", []).append(r)
            line.append(f"adain/{steps} {r['style_ratio']:.2f}x {r['seconds']:.2f} s {r['cents']:.0f} c")
        print("; ".join(line), flush=True)
    print(f"\n{'start/steps':12} {'style (x base), median [max]':>30} {'energy (x)':>11} {'frequency (x)':>14} "
          f"{'f0 error, median (cents)':>25} {'seconds, median [max]':>22}")
    for name, runs in rows.items():
        style = np.array([r["style_ratio"] for r in runs])
        seconds = np.array([r["seconds"] for r in runs])
        print(f"{name:12} {np.median(style):>20.2f} [{style.max():.2f}] "
              f"{np.median([r['energy_ratio'] for r in runs]):>11.2f} "
              f"{np.median([r['frequency_ratio'] for r in runs]):>14.2f} "
              f"{np.median([r['cents'] for r in runs]):>25.1f} {np.median(seconds):>12.2f} [{seconds.max():.2f}]")


if __name__ == "__main__":
    main()
