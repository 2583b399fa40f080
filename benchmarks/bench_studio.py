"""Speed at the studio's format: a 60 s 44.1 kHz stereo recording through each feed-forward method, and a 4 s 44.1 kHz
stereo note through Slow, end to end (loading, the method, phase reconstruction, band extension, stereo image,
transients, level), models loaded once beforehand.

The recordings are made from the real-recording corpus (``scripts/make_real_corpus.py``): its 44.1 kHz stereo drum
loops one after another for the 60 s file, and a SoundFont chord for the note.

Each is run ``--repeats`` times (the machine is shared: the best run is the method's speed, the median says how
much the load moved it).

Usage: python benchmarks/bench_studio.py [--corpus data/real] [--threads 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from spectrostyle.core.audio import read_audio
from spectrostyle.data.examples import example_path
from spectrostyle.methods.registry import make_options, method_class
from spectrostyle.pipeline import prepare_styles, transfer

RATE = 44_100
FEED_FORWARD = ("fast", "adain", "cyclegan", "pix2pix")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/real"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clips = json.loads((args.corpus / "manifest.json").read_text())
    loops = [read_audio(args.corpus / c["path"])[0] for c in clips
             if c["kind"] == "drum_loop" and c["sample_rate"] == RATE and c["channels"] == 2]
    chord = next(c for c in clips if c["kind"] == "chord" and c["sample_rate"] == RATE and c["channels"] == 2)
    style = example_path("keyboard", 60)
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}")
    with tempfile.TemporaryDirectory() as folder:
        long_file = Path(folder) / "minute.wav"
        minute = np.concatenate(loops * 8)[: 60 * RATE]
        sf.write(long_file, minute, RATE, subtype="PCM_24")
        note_file = Path(folder) / "note.wav"
        note, _ = read_audio(args.corpus / chord["path"])
        sf.write(note_file, note[: 4 * RATE], RATE, subtype="PCM_24")
        for method, path, seconds in [*((m, long_file, 60.0) for m in FEED_FORWARD), ("gatys", note_file, 4.0)]:
            runner = method_class(method)(make_options(method, **({"model": "keyboard"} if method == "fast" else {})))
            styles = prepare_styles(runner, style if runner.needs_style else None)
            if method != "gatys":  # warm: models, caches (Slow's time is dominated by its steps)
                transfer(note_file, styles, runner)
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                result = transfer(path, styles, runner)
                times.append(time.perf_counter() - started)
            best, median = min(times), float(np.median(times))
            shape = f"{result.output_rate / 1000:g} kHz x {result.output.shape[1]} channels"
            print(f"{method:9} {seconds:4.0f} s {shape}: {best:6.2f} s end to end, {seconds / best:6.1f}x real time "
                  f"(median of {args.repeats}: {median:.2f} s, {seconds / median:.1f}x)", flush=True)


if __name__ == "__main__":
    main()
