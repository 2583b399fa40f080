"""Round trip audio -> spectrogram image -> audio on rendered instrument notes: spectral convergence and time.

Usage: python benchmarks/bench_phase.py [--threads 2] [--repeats 3]
Prints one line per note and iteration count, then the mean over notes for each setting.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from spectrostyle.core.audio import load_audio
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig, griffin_lim, spectral_convergence_db
from spectrostyle.data.examples import examples_dir
from spectrostyle.data.nsynth import NSynthIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats; the median is reported")
    parser.add_argument("--iterations", default="32,64,100")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = SpectrogramConfig()
    index = NSynthIndex.load(examples_dir())
    results: dict[int, list[tuple[float, float]]] = {}
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, notes from {examples_dir()}")
    for example in index.examples:
        audio = load_audio(example.audio_path, sample_rate=config.sample_rate)
        spec = Spectrogram.from_audio(audio, config)
        mag = spec.magnitude()  # what the image stands for (16-bit quantisation aside)
        griffin_lim(mag, config, n_iter=2)  # warm-up
        for n_iter in (int(v) for v in args.iterations.split(",")):
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                rebuilt = griffin_lim(mag, config, n_iter=n_iter, num_samples=spec.num_samples)
                times.append(time.perf_counter() - started)
            convergence = float(spectral_convergence_db(mag, rebuilt, config))
            seconds = statistics.median(times)
            results.setdefault(n_iter, []).append((convergence, seconds))
            print(f"{example.note_str:32s} iterations {n_iter:4d}: {convergence:6.1f} dB  {seconds * 1000:6.1f} ms")
    print("mean over notes (4 s each):")
    for n_iter, rows in results.items():
        print(f"  iterations {n_iter:4d}: spectral convergence {statistics.mean(r[0] for r in rows):6.1f} dB "
              f"(worst {max(r[0] for r in rows):6.1f}), {statistics.mean(r[1] for r in rows) * 1000:6.1f} ms per note")


if __name__ == "__main__":
    main()
