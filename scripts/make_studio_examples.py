"""Render the two studio-format example phrases shipped in the package (src/spectrostyle/examples/studio/).

Usage: python scripts/make_studio_examples.py [--out DIR] [--soundfont FILE.sf2]

Each is 3 s of 44.1 kHz stereo, 16-bit FLAC, rendered by FluidSynth from FluidR3_GM with its reverb and chorus on and
the voices panned apart, so that they have what the shipped 16 kHz mono notes lack: a band up to 22 kHz and a stereo
image. ``spectrostyle demo`` runs them through every method ("Studio sound"); the tests use them as a small real-
format content and style. Deterministic: the same SoundFont gives the same files.
"""

from __future__ import annotations

import argparse
import ctypes
from pathlib import Path

import numpy as np
import soundfile as sf

from spectrostyle.data.render import default_soundfont

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "spectrostyle" / "examples" / "studio"
RATE = 44_100
SECONDS = 3.0
BLOCK = 64
PAN = 10  # MIDI controller numbers
REVERB_SEND = 91
CHORUS_SEND = 93
# name -> (GM program (0-based), [(start s, end s, key, velocity, pan 0..127)])
PHRASES = {
    "flute_phrase": (73, [(0.00, 0.55, 72, 96, 40), (0.50, 1.05, 74, 90, 48), (1.00, 1.55, 76, 100, 56),
                          (1.50, 2.60, 79, 104, 64)]),
    "piano_phrase": (0, [(0.00, 2.60, 48, 90, 34), (0.25, 2.60, 55, 80, 54), (0.50, 2.60, 64, 84, 74),
                         (0.75, 2.60, 67, 88, 94)]),
}


def render(soundfont: Path, program: int, notes: list[tuple[float, float, int, int, int]]) -> np.ndarray:
    """One phrase -> ``(SECONDS * RATE, 2)`` float32: each note on its own MIDI channel (its own pan)."""
    import fluidsynth

    synth = fluidsynth.Synth(gain=0.5, samplerate=float(RATE), **{"synth.reverb.active": 1,
                                                                  "synth.chorus.active": 1, "synth.cpu-cores": 1})
    write = ctypes.CDLL(fluidsynth.lib).fluid_synth_write_float
    write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                      ctypes.c_int, ctypes.c_int]
    font = synth.sfload(str(soundfont))
    events = []
    for channel, (start, end, key, velocity, pan) in enumerate(notes):
        synth.program_select(channel, font, 0, program)
        for number, value in ((PAN, pan), (REVERB_SEND, 70), (CHORUS_SEND, 30)):
            synth.cc(channel, number, value)
        events += [(start, 1, channel, key, velocity), (end, 0, channel, key, 0)]
    total = int(SECONDS * RATE)
    out = np.zeros((total + BLOCK, 2), dtype=np.float32)
    done = 0
    for time_s, on, channel, key, velocity in sorted(events):
        due = int(round(time_s * RATE)) // BLOCK * BLOCK
        if due > done:
            block = out[done:due]
            write(synth.synth, due - done, block.ctypes.data, 0, 2, block.ctypes.data, 1, 2)
            done = due
        synth.noteon(channel, key, velocity) if on else synth.noteoff(channel, key)
    rest = out[done:]
    write(synth.synth, len(rest), rest.ctypes.data, 0, 2, rest.ctypes.data, 1, 2)
    synth.delete()
    audio = out[:total]
    fade = np.linspace(1.0, 0.0, int(0.05 * RATE), dtype=np.float32)  # no click at the cut
    audio[-len(fade):] *= fade[:, None]
    return 0.5 * audio / np.abs(audio).max()  # peaks at -6 dBFS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--soundfont", type=Path, default=None, help="GM SoundFont (default: FluidR3_GM)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    soundfont = args.soundfont or default_soundfont()
    for name, (program, notes) in PHRASES.items():
        path = args.out / f"{name}.flac"
        sf.write(path, render(soundfont, program, notes), RATE, subtype="PCM_16")
        print(f"{path}: {path.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
