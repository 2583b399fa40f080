"""Time rendering NSynth-style notes (4 s, 16 kHz) from the GM SoundFont with FluidSynth.

Usage: python benchmarks/bench_render.py [--notes 50] [--soundfont FILE.sf2]
Prints seconds per note for rendering alone, for rendering plus writing the 16-bit WAV, and for
render_dataset end to end (plan, render, write WAVs and examples.json) into a temporary folder.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from spectrostyle.core.audio import save_audio
from spectrostyle.data.programs import GM_PROGRAMS
from spectrostyle.data.render import NoteRenderer, default_soundfont, note_entry, render_dataset


def note_list(count: int) -> list[tuple[int, int, int]]:
    """``count`` varied ``(program, pitch, velocity)``: every GM program in turn, pitches across its range."""
    notes = []
    for i in range(count):
        gm = GM_PROGRAMS[i % len(GM_PROGRAMS)]
        pitch = gm.low + (i * 7) % (gm.high - gm.low + 1)
        notes.append((gm, pitch, (25, 50, 75, 100, 127)[i % 5]))
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=50)
    parser.add_argument("--soundfont", type=Path, default=None)
    args = parser.parse_args()
    soundfont = args.soundfont or default_soundfont()
    notes = note_list(args.notes)
    print(f"SoundFont {soundfont}, {len(notes)} notes")

    started = time.perf_counter()
    renderer = NoteRenderer(soundfont)
    print(f"load SoundFont:        {time.perf_counter() - started:.3f} s")
    with renderer, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        for gm, pitch, velocity in notes:
            renderer.render(gm.program, pitch, velocity)
        seconds = time.perf_counter() - started
        print(f"render only:           {seconds / len(notes) * 1000:.2f} ms per note ({seconds:.2f} s)")

        started = time.perf_counter()
        for gm, pitch, velocity in notes:
            audio = renderer.render(gm.program, pitch, velocity)
            save_audio(Path(tmp) / f"{note_entry(gm, pitch, velocity)['note_str']}.wav", audio)
        seconds = time.perf_counter() - started
        print(f"render + write WAV:    {seconds / len(notes) * 1000:.2f} ms per note ({seconds:.2f} s)")

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        summary = render_dataset(tmp, soundfont=soundfont, pitches=(48, 72), pitch_step=12, velocities=(100,),
                                 programs_per_family=2, progress=False)
        seconds = time.perf_counter() - started
        print(f"render_dataset:        {seconds / summary.total * 1000:.2f} ms per note "
              f"({summary.total} notes incl. SoundFont load and examples.json, {seconds:.2f} s)")


if __name__ == "__main__":
    main()
