"""A folder of notes in one run: ``spectrostyle transfer FOLDER --out-dir DIR`` over 60 four-second notes through Fast
and AdaIN, the real-time factor the command prints (its files' audio over the seconds past process start-up and
model loading), against one process per file; and the speed of Fast's network alone, the ceiling of a folder run.

Usage: python benchmarks/bench_folders.py [--notes 60] [--single 5]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spectrostyle.data.examples import examples_dir

STYLE = "keyboard_acoustic_000-060-100.wav"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=60)
    parser.add_argument("--single", type=int, default=5, help="files run one process each, for the comparison")
    args = parser.parse_args()
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}")
    with tempfile.TemporaryDirectory() as tmp:
        notes = Path(tmp) / "notes"
        notes.mkdir()
        sources = sorted((examples_dir() / "audio").glob("*.wav"))
        for i in range(args.notes):
            shutil.copy(sources[i % len(sources)], notes / f"{i:03d}-{sources[i % len(sources)].name}")
        style = ["--style", str(examples_dir() / "audio" / STYLE)]
        for method, extra in (("fast", []), ("adain", style)):
            out = Path(tmp) / f"out-{method}"
            started = time.perf_counter()
            printed = subprocess.run([sys.executable, "-m", "spectrostyle", "transfer", str(notes), "--method",
                                      method, *extra, "--out-dir", str(out), "--quiet"], check=True,
                                     capture_output=True, text=True).stdout.strip()
            whole = time.perf_counter() - started
            speed = re.search(r"([0-9.]+)x real time", printed).group(1)
            singles = []
            for source in sorted(notes.iterdir())[: args.single]:
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "spectrostyle", "transfer", str(source), "--method", method,
                                *extra, "-o", str(Path(tmp) / "single.wav"), "--overwrite", "--quiet"], check=True,
                               capture_output=True)
                singles.append(time.perf_counter() - started)
            per_file = sum(singles) / len(singles)
            print(f"{method:6} {args.notes} notes in one run: {speed}x real time past start-up, {whole:.1f} s with "
                  f"start-up ({4 * args.notes / whole:.0f}x); one process per file: {per_file:.2f} s per note "
                  f"({4 / per_file:.1f}x)")

    print(network_only(args.notes))


def network_only(notes: int) -> str:
    """What the folder's speed would be if nothing but Fast's network ran: ``notes`` 4 s images through it one at a
    time on torch's threads, and two at a time on threads of one torch thread each (as a folder run goes)."""
    from concurrent.futures import ThreadPoolExecutor

    import torch

    from spectrostyle.store import load_named_model

    model = load_named_model("keyboard", "fast_transformer").to(memory_format=torch.channels_last)
    image = torch.rand(1, 1, model.spectrogram.n_freq, 256).contiguous(memory_format=torch.channels_last)

    def run(_: int) -> None:
        with torch.inference_mode():
            model(image)

    for _ in range(2):
        run(0)
    started = time.perf_counter()
    for i in range(notes):
        run(i)
    alone = time.perf_counter() - started
    with ThreadPoolExecutor(2, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        list(pool.map(run, range(4)))
        started = time.perf_counter()
        list(pool.map(run, range(notes)))
        paired = time.perf_counter() - started
    return (f"Fast's network alone over {notes} notes: {4 * notes / alone:.0f}x real time one at a time on "
            f"{torch.get_num_threads()} threads, {4 * notes / paired:.0f}x two at a time")


if __name__ == "__main__":
    main()
