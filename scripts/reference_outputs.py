"""Reference outputs of the shipped models, to check that a change of code leaves the sound unchanged.

    python scripts/reference_outputs.py make DIR        # demo + `transfer` of the example notes, every method
    python scripts/reference_outputs.py compare A B     # max |difference| per file; exit 1 past --tolerance

Everything runs through the CLI at ``--threads 1`` (bit-for-bit repeatable on one machine), so the same script
serves code before and after a refactor. ``compare`` reads every WAV (samples) and PNG (16-bit pixels) in both
folders and prints the largest absolute difference of each.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "spectrostyle" / "examples" / "audio"
FLUTE = EXAMPLES / "flute_acoustic_001-060-100.wav"
KEYBOARD = EXAMPLES / "keyboard_acoustic_000-060-100.wav"

# name -> (content, transfer options); every method and every shipped model on the example notes
TRANSFERS: dict[str, tuple[Path, list[str]]] = {
    "gatys": (FLUTE, ["--style", str(KEYBOARD), "--method", "gatys"]),
    "fast-keyboard": (FLUTE, ["--method", "fast", "--model", "keyboard"]),
    "fast-flute": (KEYBOARD, ["--method", "fast", "--model", "flute"]),
    "adain": (FLUTE, ["--style", str(KEYBOARD), "--method", "adain", "--alpha", "0.6"]),
    "cyclegan-a2b": (FLUTE, ["--method", "cyclegan", "--model", "flute-keyboard", "--direction", "a2b"]),
    "cyclegan-b2a": (KEYBOARD, ["--method", "cyclegan", "--model", "flute-keyboard", "--direction", "b2a"]),
    "pix2pix": (FLUTE, ["--method", "pix2pix", "--model", "flute-keyboard"]),
}


def _spectrostyle() -> list[str]:
    return [sys.executable, "-m", "spectrostyle", "--threads", "1"]


def make(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([*_spectrostyle(), "demo", "-o", str(folder / "demo")], check=True)
    for name, (content, options) in TRANSFERS.items():
        print(f"transfer: {name}", flush=True)
        subprocess.run([*_spectrostyle(), "transfer", str(content), *options, "-o", str(folder / f"{name}.wav"),
                        "--png", str(folder / f"{name}.png")], check=True)
        subprocess.run([*_spectrostyle(), "spectrogram", str(folder / f"{name}.wav"), "-o",
                        str(folder / f"{name}.spectrogram.png")], check=True)


def _read(path: Path) -> np.ndarray:
    if path.suffix == ".wav":
        return sf.read(path, dtype="float64", always_2d=True)[0]
    return np.asarray(Image.open(path), dtype=np.float64)


def compare(before: Path, after: Path, tolerance: float) -> int:
    files = sorted(p.relative_to(before) for p in before.rglob("*") if p.suffix in {".wav", ".png"})
    worst = 0.0
    failures = 0
    for relative in files:
        other = after / relative
        if not other.exists():
            print(f"{relative}: missing in {after}")
            failures += 1
            continue
        a, b = _read(before / relative), _read(other)
        if a.shape != b.shape:
            print(f"{relative}: shape {a.shape} against {b.shape}")
            failures += 1
            continue
        scale = 65535.0 if relative.suffix == ".png" and a.max() > 255 else 255.0 if relative.suffix == ".png" else 1
        difference = float(np.abs(a - b).max()) / scale if a.size else 0.0
        worst = max(worst, difference)
        mark = "" if difference <= tolerance else "  <-- over tolerance"
        failures += bool(mark)
        print(f"{relative}: max |difference| {difference:.3g}{mark}")
    print(f"{len(files)} files, largest difference {worst:.3g}, {failures} over tolerance {tolerance:g} or missing")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make_parser = commands.add_parser("make", help="write the reference outputs into DIR")
    make_parser.add_argument("folder", type=Path)
    compare_parser = commands.add_parser("compare", help="compare two folders made by `make`")
    compare_parser.add_argument("before", type=Path)
    compare_parser.add_argument("after", type=Path)
    compare_parser.add_argument("--tolerance", type=float, default=0.0,
                                help="largest allowed |difference| (samples; pixels scaled to [0, 1])")
    args = parser.parse_args()
    if args.command == "make":
        make(args.folder)
        return 0
    return compare(args.before, args.after, args.tolerance)


if __name__ == "__main__":
    sys.exit(main())
