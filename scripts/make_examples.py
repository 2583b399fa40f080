"""Render the tiny NSynth-format example set shipped in the package (src/spectrostyle/examples/).

Usage: python scripts/make_examples.py [--out DIR] [--soundfont FILE.sf2] [--clean]

Notes (velocity 100, 4 s, 16 kHz, 16-bit; the first GM program of each family in spectrostyle.render):
flute and keyboard at MIDI 60 and 65; guitar, string, brass and reed at 60. About 1 MB in all.
Existing notes are kept (rendering is resumable and deterministic); --clean deletes them first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spectrostyle.data.render import AUDIO_DIR, JSON_NAME, render_dataset

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "spectrostyle" / "examples"
# (families, pitches) groups rendered at velocity 100 with one program per family
GROUPS: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = (
    (("flute", "keyboard"), (60, 65)),
    (("guitar", "string", "brass", "reed"), (60,)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--soundfont", type=Path, default=None, help="GM SoundFont (default: FluidR3_GM)")
    parser.add_argument("--clean", action="store_true", help="delete existing example notes first")
    args = parser.parse_args()
    if args.clean:
        for wav in sorted((args.out / AUDIO_DIR).glob("*.wav")):
            wav.unlink()
        (args.out / JSON_NAME).unlink(missing_ok=True)
    for families, pitches in GROUPS:
        for pitch in pitches:
            summary = render_dataset(args.out, soundfont=args.soundfont, families=families, pitches=(pitch, pitch),
                                     velocities=(100,), programs_per_family=1, progress=False)
            print(summary)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{args.out}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
