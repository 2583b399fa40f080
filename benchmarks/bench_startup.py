"""Start-up: what spectrostyle adds to torch's own import before a command's work starts, and the peak memory of a
long file through the feed-forward methods.

Usage: python benchmarks/bench_startup.py [--repeats 5] [--minutes 10]

Start-up, each a fresh process: the CLI's imports for ``transfer`` (click, the method registry, the pipeline with
its loudness meter) plus loading each method's models, each run right after a process that only imports torch; what
a method adds is the median over ``--repeats`` such pairs of the difference (on a shared machine the load drifts
between runs far apart, not within a pair).
Memory: a ``--minutes`` long content (the example notes one after another, 16 kHz mono) through Fast and AdaIN in a
child process, its peak resident memory (ru_maxrss) and its time; then a file as long at the studio's format (the
shipped 44.1 kHz stereo flute phrase looped, 24-bit; AdaIN's style the piano phrase).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

IMPORT_TORCH = "import torch"
LOAD = """
import torch
from spectrostyle.ui.cli import commands
from spectrostyle.methods.registry import make_options, method_class
from spectrostyle.pipeline import transfer
from spectrostyle.core.loudness import integrated_loudness  # the result's level
method = method_class({method!r})(make_options({method!r}))
method.spectrogram_config  # loads its models
"""
LONG = """
import resource, time
import numpy as np
from spectrostyle.core.audio import load_audio
from spectrostyle.data.examples import example_path
from spectrostyle.pipeline import transfer
notes = [load_audio(example_path(f, p)) for f, p in [("flute", 60), ("keyboard", 65), ("guitar", 60)]]
seconds = {minutes} * 60
content = np.concatenate([notes[i % 3] for i in range(int(np.ceil(seconds / 4)))])[: int(seconds * 16_000)]
style = load_audio(example_path("keyboard", 60)) if {method!r} == "adain" else None
started = time.perf_counter()
result = transfer(content, style, {method!r}, max_seconds=seconds + 1)
print(f"{{time.perf_counter() - started:.1f}} {{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}}")
"""
STUDIO = """
import resource, tempfile, time
from pathlib import Path
import numpy as np
import soundfile as sf
from spectrostyle.core.audio import read_audio
from spectrostyle.data.examples import studio_example
from spectrostyle.pipeline import transfer
phrase, rate = read_audio(studio_example("flute"))
seconds = {minutes} * 60
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "long.wav"
    sf.write(path, np.tile(phrase, (int(np.ceil(seconds * rate / len(phrase))), 1))[: int(seconds * rate)], rate,
             subtype="PCM_24")
    del phrase
    style = studio_example("keyboard") if {method!r} == "adain" else None
    started = time.perf_counter()
    result = transfer(path, style, {method!r}, max_seconds=seconds + 1)
    print(f"{{time.perf_counter() - started:.1f}} {{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}}")
"""


def wall(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    methods = ("fast", "adain", "cyclegan", "pix2pix", "gatys")
    pairs = {method: [(wall(IMPORT_TORCH), wall(LOAD.format(method=method))) for _ in range(args.repeats)]
             for method in methods}  # (torch alone, the method's) seconds
    torch_only = [alone for runs in pairs.values() for alone, _ in runs]
    print(f"import torch: {statistics.median(torch_only):.2f} s (median of {len(torch_only)} processes)")
    for method, runs in pairs.items():
        loaded = statistics.median(total for _, total in runs)
        added = statistics.median(total - alone for alone, total in runs)
        print(f"{method:9} imports + models loaded: {loaded:.2f} s, {added:+.2f} s over torch's import beside it "
              f"(median of {args.repeats} pairs)")
    for method in ("fast", "adain"):
        printed = subprocess.run([sys.executable, "-c", LONG.format(method=method, minutes=args.minutes)],
                                 check=True, capture_output=True, text=True).stdout.split()
        print(f"{method:9} {args.minutes:g} min file: {float(printed[0]):.1f} s, peak resident memory {printed[1]} MB")
    for method in ("fast", "adain"):
        printed = subprocess.run([sys.executable, "-c", STUDIO.format(method=method, minutes=args.minutes)],
                                 check=True, capture_output=True, text=True).stdout.split()
        print(f"{method:9} {args.minutes:g} min 44.1 kHz stereo 24-bit file (the shipped flute phrase looped): "
              f"{float(printed[0]):.1f} s, peak resident memory {printed[1]} MB")


if __name__ == "__main__":
    main()
