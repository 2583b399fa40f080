"""`spectrostyle dataset ...`: render and inspect NSynth-format datasets."""

from __future__ import annotations

from pathlib import Path

import click

from spectrostyle.ui.cli.options import config_option, parse_int_list, parse_range


@click.group()
def dataset() -> None:
    """Render or inspect NSynth-format datasets (examples.json + audio/*.wav)."""


@dataset.command("render")
@config_option("dataset")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Dataset folder.")
@click.option("--soundfont", type=click.Path(path_type=Path), default=None,
              help="General MIDI SoundFont (default: Debian's FluidR3_GM).")
@click.option("--families", default=None, help="Comma-separated NSynth families (default: all available).")
@click.option("--pitches", default="36-84", show_default=True, help="MIDI pitch range LO-HI.")
@click.option("--pitch-step", type=click.IntRange(1, 24), default=1, show_default=True)
@click.option("--velocities", default="25,50,75,100,127", show_default=True, help="MIDI velocities.")
@click.option("--programs-per-family", type=click.IntRange(1, 64), default=None,
              help="Use at most this many GM programs per family.")
@click.option("--programs", default=None,
              help="Comma-separated GM program numbers (0-127) to render, of the chosen families (default: all).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def dataset_render(out_dir: Path, soundfont: Path | None, families: str | None, pitches: str, pitch_step: int,
                   velocities: str, programs_per_family: int | None, programs: str | None, quiet: bool) -> None:
    """Render NSynth-style 4 s notes (3 s held, 1 s release) from a GM SoundFont with FluidSynth."""
    from spectrostyle.data.render import render_dataset

    summary = render_dataset(
        out_dir,
        soundfont=soundfont,
        families=[f.strip() for f in families.split(",") if f.strip()] if families else None,
        pitches=parse_range(pitches, "--pitches"),
        pitch_step=pitch_step,
        velocities=parse_int_list(velocities, "--velocities"),
        programs_per_family=programs_per_family,
        programs=parse_int_list(programs, "--programs") if programs is not None else None,
        progress=not quiet,
    )
    click.echo(str(summary))


@dataset.command("info")
@click.argument("root", type=click.Path(path_type=Path))
def dataset_info_cmd(root: Path) -> None:
    """Print counts per family, instrument and pitch of an NSynth-format dataset."""
    from spectrostyle.data.nsynth import dataset_info

    click.echo(dataset_info(root))
