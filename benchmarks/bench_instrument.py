"""A three-octave instrument with two velocity layers, built through AdaIN and through Fast: the seconds it takes,
every exported sample's pitch against its root key, every loop's seam, and every key from a fifth below the lowest
root to a fifth above the highest played through the SF2 by FluidSynth (pitch by pYIN, level).

Usage: python benchmarks/bench_instrument.py [--content flute] [--keys 60-96] [--step 3] [--velocities 64,127]
                                             [--methods adain,fast] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from spectrostyle.data.examples import example_path
from spectrostyle.instrument.build import build_instrument, notes_from_soundfont, parse_program
from spectrostyle.instrument.keys import detect_root_key, parse_keys, parse_velocities
from spectrostyle.instrument.preview import play_keys, preview_keys
from spectrostyle.methods.registry import make_options, method_class

STYLE = ("keyboard", 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", default="flute")
    parser.add_argument("--keys", default="60-96")
    parser.add_argument("--step", type=int, default=3)
    parser.add_argument("--velocities", default="64,127")
    parser.add_argument("--methods", default="adain,fast")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}")
    for method in args.methods.split(","):
        started = time.perf_counter()
        notes = notes_from_soundfont(parse_program(args.content), parse_keys(args.keys, args.step),
                                     parse_velocities(args.velocities))
        runner = method_class(method)(make_options(method, **({"model": "keyboard"} if method == "fast" else {})))
        with tempfile.TemporaryDirectory() as folder:
            built = build_instrument(notes, runner, example_path(*STYLE) if runner.needs_style else None, folder,
                                     name="bench", progress=False)
            seconds = time.perf_counter() - started
            cents = [100 * (detect_root_key(s.sample.audio.mean(axis=1), s.sample.sample_rate)[1] - s.sample.root)
                     for s in built.samples]
            seams = [s.seam for s in built.samples if s.seam is not None]
            checks = play_keys(built, preview_keys(built))
        heard = [abs(c.cents) for c in checks if np.isfinite(c.cents)]
        unheard = [c.key for c in checks if not np.isfinite(c.cents)]
        print(f"{method}: {len(notes)} notes ({args.content}, keys {args.keys} step {args.step}, velocities "
              f"{args.velocities}) -> instrument in {seconds:.1f} s (rendering and files included)")
        print(f"  samples: pitch against the root key at most {max(abs(c) for c in cents):.1f} cents "
              f"(median {np.median(np.abs(cents)):.1f}); {len(seams)} looped, seam at most {max(seams):.2f}x "
              f"the loop's typical step (90th percentile)")
        print(f"  {len(checks)} keys through the SF2: pitch within {max(heard):.1f} cents (pYIN; median "
              f"{np.median(heard):.1f}){', no pitch heard at ' + str(unheard) if unheard else ''}; quietest peak "
              f"{min(c.peak_db for c in checks):.1f} dBFS", flush=True)


if __name__ == "__main__":
    main()
