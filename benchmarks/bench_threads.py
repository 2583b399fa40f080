"""Thread policy under load: every method through the CLI, on an idle machine and with one core kept busy by a
spinning process, with the default settings against ``--threads 1`` and ``--threads 2``; and torch's own OpenMP
waiting (``OMP_WAIT_POLICY`` unset) against spectrostyle's passive waiting.

Usage: python benchmarks/bench_threads.py [--notes 8] [--gatys-steps 10] [--methods fast,adain,...]

Each run is one ``spectrostyle transfer NOTES --out-dir DIR`` process over a folder of 4 s example notes (Slow:
two notes at ``--gatys-steps``); the time is what the command prints for its files, past process start-up and
model loading. Ratios are against the fastest thread count of the same condition, measured in the same run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from spectrostyle.data.examples import examples_dir

STYLE = "keyboard_acoustic_000-060-100.wav"
METHODS = {"fast": [], "adain": ["--style"], "cyclegan": [], "pix2pix": [], "gatys": ["--style"]}


def spin() -> None:
    """Keep one core busy (what a DAW, a browser or a second render does to the machine)."""
    while True:
        pass


def run(notes: Path, method: str, threads: int | None, policy: str | None, steps: int, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "spectrostyle"] + ([] if threads is None else ["--threads", str(threads)])
    command += ["transfer", str(notes), "--method", method, "--out-dir", str(out), "--quiet"]
    if METHODS[method]:
        command += ["--style", str(examples_dir() / "audio" / STYLE)]
    if method == "gatys":
        command += ["--steps", str(steps)]
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy is not None:
        env["OMP_WAIT_POLICY"] = policy  # "" leaves libgomp's own default (spin, then sleep)
    printed = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"in ([0-9.]+) s", printed).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=8)
    parser.add_argument("--gatys-steps", type=int, default=10)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}; cores {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        notes = tmp / "notes"
        notes.mkdir()
        sources = sorted((examples_dir() / "audio").glob("*.wav"))
        for i in range(args.notes):
            shutil.copy(sources[i % len(sources)], notes / f"{i:02d}-{sources[i % len(sources)].name}")
        few = tmp / "few"
        few.mkdir()
        for source in sorted(notes.iterdir())[:2]:
            shutil.copy(source, few / source.name)
        settings = [("default", None, None), ("--threads 1", 1, None), ("--threads 2", 2, None),
                    ("default, torch's OpenMP waiting", None, "")]
        print(f"{'method':9} {'condition':9} " + " ".join(f"{name:>34}" for name, _, _ in settings))
        for method in args.methods.split(","):
            folder = few if method == "gatys" else notes
            for condition in ("idle", "busy"):
                spinner = multiprocessing.Process(target=spin, daemon=True) if condition == "busy" else None
                if spinner:
                    spinner.start()
                try:
                    times = [run(folder, method, threads, policy, args.gatys_steps, tmp / "out")
                             for _, threads, policy in settings]
                finally:
                    if spinner:
                        spinner.terminate()
                        spinner.join()
                best = min(times[1:3])
                cells = [f"{t:7.2f} s ({t / best:5.2f}x best of 1, 2)" for t in times]
                print(f"{method:9} {condition:9} " + " ".join(f"{c:>34}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
