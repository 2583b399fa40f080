"""A folder of notes in one run: ``spectrostyle transfer FOLDER --out-dir DIR`` over 60 four-second notes through Fast
and AdaIN, the real-time factor the command prints (its files' audio over the seconds past process start-up and
model loading), against one process per file.

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


if __name__ == "__main__":
    main()
