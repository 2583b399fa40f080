"""`spectrostyle instrument`: a playable SFZ/SF2 instrument from a source of notes and a style, through any method."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from spectrostyle.methods.registry import METHODS
from spectrostyle.ui.cli.options import overwrite_option
from spectrostyle.ui.cli.transfer import method_settings, with_method_flags


@click.command("instrument")
@click.option("--content", "source", required=True,
              help="A folder of samples (root keys from names like flute_67.wav or flute_G4.wav, else from the "
                   "pitch), an instrument family (flute, keyboard, ...) or gm:PROGRAM (0-based) rendered from the "
                   "shipped SoundFont.")
@click.option("--style", "styles", multiple=True, type=click.Path(path_type=Path),
              help="Style sound (methods that take one; repeat to mix several).")
@click.option("--method", default="adain", show_default=True, help=f"Transfer method: {', '.join(METHODS)}.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for NAME.sfz, NAME.sf2, samples/, preview/ and index.html.")
@click.option("--name", default="instrument", show_default=True, help="The instrument's name (and its files').")
@click.option("--keys", default="48-84", show_default=True,
              help="Root keys to render (a family or gm: source): LOW-HIGH with --step, or a list 48,60,72.")
@click.option("--step", type=click.IntRange(1, 24), default=3, show_default=True,
              help="Semitones between rendered root keys.")
@click.option("--velocities", default="100", show_default=True,
              help="Velocity layers to render (a family or gm: source), e.g. 64,127.")
@click.option("--soundfont", type=click.Path(path_type=Path), default=None,
              help="SoundFont to render a family or gm: source from (default: the shipped FluidR3 GM).")
@click.option("--midi", type=click.Path(path_type=Path), default=None,
              help="Also play this MIDI file through the new instrument: OUT/NAME-demo.wav.")
@with_method_flags
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@overwrite_option()
def instrument_cmd(source: str, styles: tuple[Path, ...], method: str, out_dir: Path, name: str, keys: str,
                   step: int, velocities: str, soundfont: Path | None, midi: Path | None, seed: int, device: str,
                   quiet: bool, overwrite: bool, **values: Any) -> None:
    """Make a playable instrument: every note of --content through --method in the style of --style, trimmed, tuned
    to its root key, looped where it sustains (crossfaded, no click), written as SFZ (samples as 24-bit FLAC) and
    SF2, with a page that plays every key through the SF2."""
    from spectrostyle.core.audio import write_audio
    from spectrostyle.core.errors import InputError
    from spectrostyle.instrument.build import (
        RENDER_RATE,
        build_instrument,
        notes_from_folder,
        notes_from_soundfont,
        parse_program,
    )
    from spectrostyle.instrument.keys import parse_keys, parse_velocities
    from spectrostyle.instrument.preview import play_keys, preview_keys, preview_writers, render_midi
    from spectrostyle.methods.registry import make_options, method_class

    if method not in METHODS:
        raise InputError(f"unknown method '{method}' (choose from: {', '.join(METHODS)})")
    if midi is not None and not midi.is_file():
        raise InputError(f"no such MIDI file: '{midi}'")
    program = parse_program(source)
    if program is not None:
        notes = notes_from_soundfont(program, parse_keys(keys, step), parse_velocities(velocities),
                                     soundfont=soundfont)
    else:
        notes = notes_from_folder(source)
    runner = method_class(method)(make_options(method, seed=seed, device=device, **method_settings(values)))
    checks = []

    def extra(instrument) -> dict:
        checks.extend(play_keys(instrument, preview_keys(instrument)))
        writers = preview_writers(instrument, checks)
        if midi is not None:
            performance = render_midi(instrument, midi)
            writers[instrument.folder / f"{instrument.name}-demo.wav"] = lambda path: write_audio(
                path, performance, sample_rate=RENDER_RATE, bit_depth="24", container="WAV")
        return writers

    built = build_instrument(notes, runner, list(styles) or None, out_dir, name=name, overwrite=overwrite,
                             progress=not quiet, extra=extra)
    loops = [s.seam for s in built.samples if s.seam is not None]
    heard = [abs(c.cents) for c in checks if c.cents == c.cents]
    silent = [c.key for c in checks if c.peak_db < -60.0]
    click.echo(f"{built.sfz}, {built.sf2}: {len(built.samples)} samples ({len(loops)} looped"
               + (f", seam at most {max(loops):.2f}x a typical step" if loops else "") + f") in {built.seconds:.1f} s; "
               f"{len(checks)} keys played: pitch within {max(heard, default=float('nan')):.1f} cents"
               + (f", silent: {silent}" if silent else ", none silent"))
