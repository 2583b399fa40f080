"""Command-line interface: a thin layer of parsing over the same functions as the Python API.

Every error a user can cause prints one line (``spectrostyle: error: ...``) and exits with status 2;
Ctrl-C exits with 130 and leaves no partial output files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from spectrostyle.errors import SpectrostyleError

EXIT_INPUT_ERROR = 2
EXIT_INTERRUPTED = 130


def _set_threads(threads: int | None) -> None:
    import torch

    if threads is not None:
        if threads < 1:
            raise click.BadParameter("must be >= 1", param_hint="--threads")
        torch.set_num_threads(threads)


def _parse_range(text: str, what: str) -> tuple[int, int]:
    try:
        low, _, high = text.partition("-")
        low_i, high_i = int(low), int(high or low)
    except ValueError:
        raise click.BadParameter(f"expected LO-HI such as 48-72, got '{text}'", param_hint=what) from None
    return low_i, high_i


def _parse_int_list(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got '{text}'", param_hint=what) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--threads", type=int, default=None, help="Torch CPU threads (default: torch's choice).")
@click.version_option(package_name="spectrostyle")
def cli(threads: int | None) -> None:
    """spectrostyle: blend two sounds by style transfer on their spectrogram images."""
    _set_threads(threads)


@cli.command()
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=Path("out"),
              show_default=True, help="Folder for the demo page and its files.")
@click.option("--seed", type=int, default=0, show_default=True)
def demo(out_dir: Path, seed: int) -> None:
    """Run the shipped example notes through every available step; write OUT/index.html."""
    from spectrostyle.demo import run_demo

    page = run_demo(out_dir, seed=seed, progress=True)
    click.echo(f"demo page: {page}")


@cli.command("spectrogram")
@click.argument("audio_path", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="PNG file to write.")
@click.option("--max-seconds", type=float, default=600.0, show_default=True, help="Refuse longer input.")
def spectrogram_cmd(audio_path: Path, out_path: Path, max_seconds: float) -> None:
    """Write the spectrogram image of AUDIO_PATH as a 16-bit grey PNG (invertible with `invert`)."""
    from spectrostyle.audio import load_audio
    from spectrostyle.png import save_png
    from spectrostyle.spectrogram import Spectrogram, SpectrogramConfig

    config = SpectrogramConfig()
    _require_suffix(out_path, ".png")
    audio = load_audio(audio_path, sample_rate=config.sample_rate, max_seconds=max_seconds)
    spec = Spectrogram.from_audio(audio, config)
    save_png(out_path, spec, inputs=[audio_path])
    click.echo(f"{out_path}: {spec.image.shape[0]} x {spec.image.shape[1]} image, {spec.duration:.2f} s, "
               f"peak {spec.gain_db:.1f} dB")


@cli.command("invert")
@click.argument("png_path", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="WAV file to write.")
@click.option("--iterations", type=click.IntRange(0, 10_000), default=None,
              help="Griffin-Lim iterations (default 64).")
@click.option("--gain-db", type=float, default=None,
              help="Level of a white pixel in dB, for PNGs without spectrostyle metadata (default -20).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--float", "as_float", is_flag=True, help="Write 32-bit float WAV instead of 16-bit.")
def invert_cmd(png_path: Path, out_path: Path, iterations: int | None, gain_db: float | None, seed: int,
               as_float: bool) -> None:
    """Turn a spectrogram PNG (ours, or one edited in any image editor) back into sound."""
    from spectrostyle.audio import save_audio
    from spectrostyle.phase import DEFAULT_ITERATIONS
    from spectrostyle.png import load_png

    _require_suffix(out_path, ".wav")
    spec, had_metadata = load_png(png_path, gain_db=gain_db)
    if not had_metadata:
        click.echo(f"note: '{png_path}' has no spectrostyle metadata; assuming the default config and a "
                   f"white-pixel level of {spec.gain_db:g} dB", err=True)
    audio = spec.to_audio(n_iter=DEFAULT_ITERATIONS if iterations is None else iterations, seed=seed)
    save_audio(out_path, audio, sample_rate=spec.config.sample_rate, subtype="float" if as_float else "pcm16",
               inputs=[png_path])
    click.echo(f"{out_path}: {spec.duration:.2f} s at {spec.config.sample_rate} Hz")


def _require_suffix(path: Path, suffix: str) -> None:
    if path.suffix.lower() != suffix:
        raise click.BadParameter(f"'{path}' should end in {suffix}", param_hint="--out")


def _float_list(text: str | None, what: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got '{text}'", param_hint=what) from None


def _name_list(text: str | None) -> tuple[str, ...] | None:
    return tuple(v.strip() for v in text.split(",") if v.strip()) if text else None


@cli.command("transfer")
@click.argument("content", type=click.Path(path_type=Path))
@click.option("--style", "styles", multiple=True, type=click.Path(path_type=Path),
              help="Style sound (repeat to mix several; see --style-mix).")
@click.option("--method", default="gatys", show_default=True, help="Transfer method.")
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), required=True, help="WAV to write.")
@click.option("--png", "png_path", type=click.Path(path_type=Path), default=None,
              help="Also write content | style | result spectrograms side by side.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Also write the settings and loss curves.")
@click.option("--steps", type=click.IntRange(1, 100_000), default=None, help="[gatys] optimisation steps.")
@click.option("--optimiser", type=click.Choice(["lbfgs", "adam"]), default=None, help="[gatys] optimiser.")
@click.option("--lr", "learning_rate", type=float, default=None, help="[gatys] learning rate.")
@click.option("--start", type=click.Choice(["content", "noise", "style"]), default=None, help="[gatys] start image.")
@click.option("--content-weight", type=float, default=None)
@click.option("--style-weight", type=float, default=None)
@click.option("--energy-weight", type=float, default=None)
@click.option("--frequency-weight", type=float, default=None)
@click.option("--tv-weight", type=float, default=None)
@click.option("--content-layers", default=None, help="Comma-separated feature layers, e.g. relu4_2.")
@click.option("--style-layers", default=None, help="Comma-separated feature layers, e.g. relu1_1,relu2_1.")
@click.option("--style-mix", default=None, help="Comma-separated weights of the --style sounds.")
@click.option("--feature-net", default=None, help="[gatys] shipped audio CNN name, model path, or 'random'.")
@click.option("--model", default=None,
              help="[fast] shipped fast_transformer name (its style) or model path; [adain] decoder name or path; "
                   "[cyclegan, pix2pix] generator name (e.g. flute-keyboard) or path.")
@click.option("--alpha", type=click.FloatRange(0.0, 1.0), default=None,
              help="[adain] style strength: 0 = the content, 1 = full style (default 1).")
@click.option("--direction", type=click.Choice(["a2b", "b2a"]), default=None,
              help="[cyclegan] a2b: the model's domain A to B (flute -> keyboard for flute-keyboard), b2a: back; "
                   "[pix2pix] a2b only (the default).")
@click.option("--phase-iterations", type=click.IntRange(0, 10_000), default=None,
              help="Griffin-Lim iterations for the result (default: the method's; 64 for gatys from random "
                   "phase, 8 for fast, adain, cyclegan and pix2pix from the content's phase).")
@click.option("--max-seconds", type=float, default=600.0, show_default=True, help="Refuse longer inputs.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def transfer_cmd(content: Path, styles: tuple[Path, ...], method: str, out_path: Path, png_path: Path | None,
                 json_path: Path | None, phase_iterations: int | None, max_seconds: float, quiet: bool,
                 content_layers: str | None, style_layers: str | None, style_mix: str | None,
                 **settings: object) -> None:
    """Make a new sound from CONTENT in the style of --style."""
    from spectrostyle.audio import check_output_path
    from spectrostyle.transfer import save_result, transfer

    _require_suffix(out_path, ".wav")
    inputs = [content, *styles]
    for path in (out_path, png_path, json_path):
        if path is not None:
            check_output_path(path, inputs)  # fail before minutes of work, not after
    settings.update(content_layers=_name_list(content_layers), style_layers=_name_list(style_layers),
                    style_mix=_float_list(style_mix, "--style-mix"))
    chosen = {k: v for k, v in settings.items() if v is not None}
    result = transfer(content, list(styles) or None, method, phase_iterations=phase_iterations,
                      max_seconds=max_seconds, progress=not quiet, **chosen)
    save_result(result, out_path, png=png_path, report_json=json_path, inputs=inputs)
    click.echo(f"{out_path}: {result.spectrogram.duration:.2f} s by {method} in {result.seconds:.1f} s")


@cli.group()
def dataset() -> None:
    """Render or inspect NSynth-format datasets (examples.json + audio/*.wav)."""


@dataset.command("render")
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
    from spectrostyle.render import render_dataset

    summary = render_dataset(
        out_dir,
        soundfont=soundfont,
        families=[f.strip() for f in families.split(",") if f.strip()] if families else None,
        pitches=_parse_range(pitches, "--pitches"),
        pitch_step=pitch_step,
        velocities=_parse_int_list(velocities, "--velocities"),
        programs_per_family=programs_per_family,
        programs=_parse_int_list(programs, "--programs") if programs is not None else None,
        progress=not quiet,
    )
    click.echo(str(summary))


@dataset.command("info")
@click.argument("root", type=click.Path(path_type=Path))
def dataset_info_cmd(root: Path) -> None:
    """Print counts per family, instrument and pitch of an NSynth-format dataset."""
    from spectrostyle.data import dataset_info

    click.echo(dataset_info(root))


def _families(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f.strip() for f in text.split(",") if f.strip()) if text else default


@cli.group()
def train() -> None:
    """Train models (checkpoints each epoch; --resume continues; runs under torchrun)."""


def _precision_option():
    # training.PRECISIONS, written out so that the CLI starts without importing torch (a test checks they agree)
    return click.option("--precision", type=click.Choice(["fp32", "bf16"]), default="fp32", show_default=True,
                        help="bf16: the training steps under bfloat16 autocast (on a CPU with AVX512-BF16 the "
                             "classifier trained 1.4x faster, Fast 1.15x, CycleGAN 1.2x slower; for GPUs); weights "
                             "and validation stay float32.")


@train.command("classifier")
@click.option("--data", type=click.Path(path_type=Path), required=True, help="NSynth-format dataset folder.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Run folder.")
@click.option("--families", default=None, help="Comma-separated families (default: the nine of the recipe).")
@click.option("--extra-data", type=click.Path(path_type=Path), multiple=True,
              help="Another rendering of the same instruments (e.g. another SoundFont); adds training notes of the "
                   "training instruments only. Repeatable.")
@click.option("--width", type=click.FloatRange(0.01, 4.0), default=0.125, show_default=True,
              help="VGG-19 width multiplier.")
@click.option("--batch-norm/--no-batch-norm", default=True, show_default=True)
@click.option("--pitch-head", is_flag=True, help="Also predict MIDI pitch (an extra head; not trained yet).")
@click.option("--epochs", type=click.IntRange(1, 10_000), default=30, show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 4096), default=8, show_default=True)
@click.option("--lr", type=click.FloatRange(1e-7, 10.0), default=1e-3, show_default=True)
@click.option("--patience", type=click.IntRange(1, 10_000), default=6, show_default=True,
              help="Stop after this many epochs without a better validation accuracy.")
@click.option("--val-instruments", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Instruments per family held out for validation.")
@click.option("--test-instruments", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Instruments per family held out for the test.")
@click.option("--fold", type=click.IntRange(0, 1000), default=0, show_default=True,
              help="Program cross-validation: fold K tests the instruments at positions K*T.. of each family's "
                   "seeded order (T = --test-instruments), so folds 0..7 test every program of an 8-program "
                   "family once.")
@click.option("--augmentation", type=click.Choice(["light", "timbre", "none"]), default="light", show_default=True,
              help="light: delays and level drops; timbre: also pitch and tempo resampling, random equalisers "
                   "and masked bands (generalises better to unheard instruments).")
@_precision_option()
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def train_classifier_cmd(data: Path, out_dir: Path, families: str | None, extra_data: tuple[Path, ...],
                         width: float, batch_norm: bool, pitch_head: bool, epochs: int, batch_size: int, lr: float,
                         patience: int,
                         val_instruments: int, test_instruments: int, fold: int, augmentation: str, precision: str,
                         seed: int, device: str, resume: bool, quiet: bool) -> None:
    """Train the VGG-19-structured audio CNN to classify instrument families."""
    from spectrostyle.classifier import DEFAULT_FAMILIES, ClassifierTrainingOptions, FitOptions, train_classifier

    options = ClassifierTrainingOptions(
        data=data, out=out_dir, families=_families(families, DEFAULT_FAMILIES), extra_data=extra_data, width=width,
        batch_norm=batch_norm, pitch_head=pitch_head, val_instruments_per_family=val_instruments,
        test_instruments_per_family=test_instruments, fold=fold, device=device, resume=resume,
        fit=FitOptions(epochs=epochs, batch_size=batch_size, learning_rate=lr, patience=patience, seed=seed,
                       augmentation=augmentation, precision=precision, progress=not quiet))
    report = train_classifier(options)
    click.echo(f"best epoch {report['best_epoch'] + 1}: validation accuracy {report['best_val_accuracy']:.3f}; "
               f"test accuracy on unseen instruments {report['test_accuracy']:.3f}; model: {out_dir / 'model.json'}")


def _pitch_range(text: str | None) -> tuple[int, int] | None:
    return _parse_range(text, "--pitches") if text else None


def _note_selection(families: str | None, pitches: str | None, velocities: str | None, max_notes: int | None,
                    val_notes: int):
    from spectrostyle.feedforward import NoteSelection

    return NoteSelection(families=_families(families, None), pitches=_pitch_range(pitches),
                         velocities=_parse_int_list(velocities, "--velocities") if velocities else None,
                         max_notes=max_notes, val_notes=val_notes)


def _data_options() -> list:
    return [
        click.option("--data", type=click.Path(path_type=Path), required=True, help="NSynth-format dataset folder."),
        click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Run folder."),
    ]


def _loop_option_list(*, batch_size: int = 4, lr: float = 1e-3, final_lr: float = 1e-4, schedule: str = "cosine",
                      checkpoint_every: int = 100) -> list:
    """The training loop's options, with a trainer's defaults."""
    decay = "cosine decay" if schedule == "cosine" else "constant for --decay-start of the steps, then linear"
    return [
        click.option("--steps", type=click.IntRange(1, 10_000_000), default=1000, show_default=True,
                     help="Optimisation steps."),
        click.option("--batch-size", type=click.IntRange(1, 4096), default=batch_size, show_default=True,
                     help="Notes per step (per process under torchrun)."),
        click.option("--lr", type=click.FloatRange(1e-7, 10.0), default=lr, show_default=True,
                     help=f"Learning rate at the start ({decay} to --final-lr)."),
        click.option("--final-lr", type=click.FloatRange(0.0, 10.0), default=final_lr, show_default=True),
        click.option("--checkpoint-every", type=click.IntRange(1, 10_000_000), default=checkpoint_every,
                     show_default=True, help="Steps between checkpoints, metrics rows and samples."),
        click.option("--samples", type=click.IntRange(0, 100), default=2, show_default=True,
                     help="Sample spectrograms and sounds written at each checkpoint."),
        click.option("--seed", type=int, default=0, show_default=True),
        _precision_option(),
        click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N or auto."),
        click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint."),
        click.option("--quiet", is_flag=True, help="No progress bars."),
    ]


def _with_options(command, options: list):
    for option in reversed(options):
        command = option(command)
    return command


def _notes_and_loop_options(command):
    """The options every feed-forward trainer takes: data selection and the training loop."""
    return _with_options(command, [
        *_data_options(),
        click.option("--families", default=None, help="Comma-separated families (default: all in --data)."),
        click.option("--pitches", default=None, help="MIDI pitch range LO-HI (default: all)."),
        click.option("--velocities", default=None, help="Comma-separated MIDI velocities (default: all)."),
        click.option("--max-notes", type=click.IntRange(1, 10_000_000), default=None,
                     help="Train on a seeded random subset of at most this many notes."),
        click.option("--val-notes", type=click.IntRange(1, 10_000), default=8, show_default=True,
                     help="Notes held out for the validation loss and the samples."),
        *_loop_option_list(),
    ])


def _loop(steps: int, batch_size: int, lr: float, final_lr: float, checkpoint_every: int, samples: int, seed: int,
          precision: str, quiet: bool, **schedule):
    from spectrostyle.feedforward import LoopOptions

    return LoopOptions(steps=steps, batch_size=batch_size, learning_rate=lr, final_learning_rate=final_lr,
                       checkpoint_every=checkpoint_every, samples=samples, seed=seed, precision=precision,
                       progress=not quiet, **schedule)


@train.command("fast")
@click.option("--style", type=click.Path(path_type=Path), required=True, help="The one style sound.")
@_notes_and_loop_options
@click.option("--feature-net", default="default", show_default=True,
              help="Loss network: shipped audio CNN name, model path, or 'random'.")
@click.option("--channels", default="16,32,64", show_default=True,
              help="Widths of the downsampling levels of the transformation network.")
@click.option("--residual-blocks", type=click.IntRange(0, 64), default=4, show_default=True)
@click.option("--content-weight", type=float, default=1.0, show_default=True)
@click.option("--style-weight", type=float, default=3e3, show_default=True)
@click.option("--energy-weight", type=float, default=10.0, show_default=True)
@click.option("--frequency-weight", type=float, default=10.0, show_default=True)
@click.option("--tv-weight", type=float, default=0.0, show_default=True)
@click.option("--spectrum-weight", type=float, default=0.0, show_default=True,
              help="Weight of the long-term spectrum constraint (each bin's power averaged over time, in dB, against "
                   "the content's): unlike --frequency-weight it counts brief loud tones at their power.")
@click.option("--spectrum-emphasis", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
              help="Weigh the spectrum constraint's bins by exp(EMPHASIS x the content's level there, 0-1 over the dB "
                   "range), so the content's strong partials (its pitch) count more than its quiet bins; 0: alike.")
@click.option("--init", "init_model", default=None,
              help="Start from this trained Fast model (shipped name or model path) of the same architecture.")
@click.option("--loss-on", type=click.Choice(["image", "heard"]), default="image", show_default=True,
              help="What the loss scores: the output image, or the sound it makes (its magnitudes with the content's "
                   "phase, inverted and analysed again), so only the style that survives phase reconstruction counts.")
def train_fast_cmd(style: Path, data: Path, out_dir: Path, families: str | None, pitches: str | None,
                   velocities: str | None, max_notes: int | None, val_notes: int, steps: int, batch_size: int,
                   lr: float, final_lr: float, checkpoint_every: int, samples: int, seed: int, precision: str,
                   device: str, resume: bool, quiet: bool, feature_net: str, channels: str, residual_blocks: int,
                   content_weight: float, style_weight: float, energy_weight: float, frequency_weight: float,
                   tv_weight: float, spectrum_weight: float, spectrum_emphasis: float, init_model: str | None,
                   loss_on: str) -> None:
    """Train a Fast (Johnson) transformation network for one --style sound over the notes of --data."""
    from spectrostyle.fast import FastTrainingOptions, train_fast

    options = FastTrainingOptions(
        style=style, data=data, out=out_dir,
        notes=_note_selection(families, pitches, velocities, max_notes, val_notes), feature_net=feature_net,
        channels=_parse_int_list(channels, "--channels"), residual_blocks=residual_blocks,
        content_weight=content_weight, style_weight=style_weight, energy_weight=energy_weight,
        frequency_weight=frequency_weight, tv_weight=tv_weight, spectrum_weight=spectrum_weight,
        spectrum_emphasis=spectrum_emphasis,
        loop=_loop(steps, batch_size, lr, final_lr, checkpoint_every, samples, seed, precision, quiet),
        device=device, resume=resume, init=init_model, loss_on=loss_on)
    report = train_fast(options)
    click.echo(f"{report['steps']} steps, validation loss {report['final_val_loss']:.4g}; "
               f"model: {out_dir / 'model.json'}")


@train.command("adain")
@_notes_and_loop_options
@click.option("--encoder", default="default", show_default=True,
              help="The audio CNN whose relu4_1 features the decoder inverts (shipped name or model path).")
@click.option("--content-weight", type=float, default=1.0, show_default=True)
@click.option("--style-weight", type=float, default=10.0, show_default=True)
@click.option("--identity-weight", type=float, default=200.0, show_default=True,
              help="Weight of a pixel loss between each content and the decoding of its own features "
                   "(0: the paper's losses only).")
def train_adain_cmd(data: Path, out_dir: Path, families: str | None, pitches: str | None, velocities: str | None,
                    max_notes: int | None, val_notes: int, steps: int, batch_size: int, lr: float,
                    final_lr: float, checkpoint_every: int, samples: int, seed: int, precision: str,
                    device: str, resume: bool, quiet: bool, encoder: str, content_weight: float, style_weight: float,
                    identity_weight: float) -> None:
    """Train an AdaIN decoder for the audio CNN --encoder on the notes of --data."""
    from spectrostyle.adain import AdainTrainingOptions, train_adain

    options = AdainTrainingOptions(
        data=data, out=out_dir, notes=_note_selection(families, pitches, velocities, max_notes, val_notes),
        encoder=encoder, content_weight=content_weight, style_weight=style_weight, identity_weight=identity_weight,
        loop=_loop(steps, batch_size, lr, final_lr, checkpoint_every, samples, seed, precision, quiet),
        device=device, resume=resume)
    report = train_adain(options)
    click.echo(f"{report['steps']} steps, validation loss {report['final_val_loss']:.4g}; "
               f"model: {out_dir / 'model.json'}")


def _gan_options(command):
    """The options both GAN trainers take: the two domains and their notes, the discriminator, the loop."""
    return _with_options(command, [
        *_data_options(),
        click.option("--domain-a", required=True,
                     help="Domain A: a family (e.g. flute) or an instrument of --data (e.g. flute_acoustic_001)."),
        click.option("--domain-b", required=True, help="Domain B, likewise (e.g. keyboard)."),
        click.option("--pitches", default=None, help="MIDI pitch range LO-HI of both domains (default: all)."),
        click.option("--velocities", default=None, help="Comma-separated MIDI velocities (default: all)."),
        click.option("--hold-out-every", type=click.IntRange(2, 1000), default=4, show_default=True,
                     help="Hold every Nth of the domains' pitches out of training (to measure quality on; the "
                          "model records them), unless --hold-out-pitches names them."),
        click.option("--hold-out-pitches", default=None,
                     help="Comma-separated MIDI pitches to hold out instead of every Nth (e.g. 69,81,93)."),
        click.option("--val-notes", type=click.IntRange(1, 10_000), default=8, show_default=True,
                     help="Held-out notes (pairs) per domain for the validation loss and the samples."),
        click.option("--max-notes", type=click.IntRange(1, 10_000_000), default=None,
                     help="Train on a seeded random subset of at most this many notes per domain."),
        click.option("--discriminator-channels", default="16,32,64,128", show_default=True,
                     help="Widths of the PatchGAN discriminator's levels."),
        click.option("--crop-frames", type=click.IntRange(32, 1_000_000), default=None,
                     help="Train on random windows of this many frames (default: whole notes)."),
        click.option("--decay-start", type=click.FloatRange(0.0, 0.99), default=0.5, show_default=True,
                     help="Fraction of the steps at --lr before the linear decay to --final-lr."),
        *_loop_option_list(batch_size=1, lr=2e-4, final_lr=0.0, schedule="linear", checkpoint_every=200),
    ])


def _gan_settings(values: dict) -> dict:
    """The common fields of a GAN trainer's options from the values of :func:`_gan_options`."""
    from spectrostyle.gan import DomainSelection

    v = values
    domains = DomainSelection(domain_a=v["domain_a"], domain_b=v["domain_b"], pitches=_pitch_range(v["pitches"]),
                              velocities=_parse_int_list(v["velocities"], "--velocities") if v["velocities"] else None,
                              hold_out_every=v["hold_out_every"], val_notes=v["val_notes"], max_notes=v["max_notes"],
                              hold_out_pitches=(_parse_int_list(v["hold_out_pitches"], "--hold-out-pitches")
                                                if v["hold_out_pitches"] else None))
    loop = _loop(v["steps"], v["batch_size"], v["lr"], v["final_lr"], v["checkpoint_every"], v["samples"], v["seed"],
                 v["precision"], v["quiet"], schedule="linear", decay_start=v["decay_start"], betas=(0.5, 0.999))
    return {"data": v["data"], "out": v["out_dir"], "domains": domains, "crop_frames": v["crop_frames"],
            "discriminator_channels": _parse_int_list(v["discriminator_channels"], "--discriminator-channels"),
            "loop": loop, "device": v["device"], "resume": v["resume"]}


def _echo_gan_report(report: dict, out_dir: Path) -> None:
    click.echo(f"{report['steps']} steps, validation loss {report['final_val_loss']:.4g}; held out of training: "
               f"pitches {', '.join(map(str, report['held_out_pitches']))}; model: {out_dir / 'model.json'}")


@train.command("cyclegan")
@_gan_options
@click.option("--channels", default="16,32,64", show_default=True,
              help="Widths of the generators' halving levels.")
@click.option("--residual-blocks", type=click.IntRange(0, 64), default=6, show_default=True)
@click.option("--cycle-weight", type=click.FloatRange(0.0), default=10.0, show_default=True)
@click.option("--identity-weight", type=click.FloatRange(0.0), default=0.5, show_default=True,
              help="Weight of the identity loss as a fraction of --cycle-weight (0: none).")
@click.option("--pool-size", type=click.IntRange(0, 10_000), default=50, show_default=True,
              help="Generated images kept to show the discriminators (0: none).")
def train_cyclegan_cmd(channels: str, residual_blocks: int, cycle_weight: float, identity_weight: float,
                       pool_size: int, **values: object) -> None:
    """Train a CycleGAN between --domain-a and --domain-b (unpaired notes of --data)."""
    from spectrostyle.cyclegan import CycleGANTrainingOptions, train_cyclegan

    options = CycleGANTrainingOptions(**_gan_settings(values), channels=_parse_int_list(channels, "--channels"),
                                      residual_blocks=residual_blocks, cycle_weight=cycle_weight,
                                      identity_weight=identity_weight, pool_size=pool_size)
    _echo_gan_report(train_cyclegan(options), options.out)


@train.command("pix2pix")
@_gan_options
@click.option("--channels", default="16,32,64,64,64", show_default=True,
              help="Widths of the U-Net's halving levels.")
@click.option("--l1-weight", type=click.FloatRange(0.0), default=100.0, show_default=True)
def train_pix2pix_cmd(channels: str, l1_weight: float, **values: object) -> None:
    """Train a pix2pix U-Net from --domain-a to --domain-b on notes of the same pitch and velocity in --data."""
    from spectrostyle.pix2pix import Pix2PixTrainingOptions, train_pix2pix

    options = Pix2PixTrainingOptions(**_gan_settings(values), channels=_parse_int_list(channels, "--channels"),
                                     l1_weight=l1_weight)
    _echo_gan_report(train_pix2pix(options), options.out)


@cli.command("experiment")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Report folder: report.html, metrics.json, table.md, config.json, the sounds (reused on re-runs).")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="NSynth-format dataset folder (default: render the notes from FluidR3_GM into OUT/data).")
@click.option("--pair", nargs=2, default=None, metavar="A B",
              help="The two sources: families, or instrument names in --data (default: flute keyboard).")
@click.option("--methods", default=None,
              help="Comma-separated methods (default: gatys,fast,adain,cyclegan,pix2pix); those without a shipped "
                   "model are skipped with a warning.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="JSON or TOML file of experiment settings (see spectrostyle.experiment.ExperimentConfig).")
@click.option("--full", is_flag=True, help="The full-size configuration for NSynth (hours on CPU).")
@click.option("--seed", type=int, default=None, help="Seed of everything (default 0).")
@click.option("--classifier-seeds", type=click.IntRange(1, 100), default=None,
              help="Classifiers per test, seeded SEED, SEED+1, ...; the table gives their mean and range "
                   "(default 1).")
@click.option("--device", default=None, help="cpu, cuda, cuda:N or auto (default cpu).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def experiment_cmd(out_dir: Path, data: Path | None, pair: tuple[str, str] | None, methods: str | None,
                   config_file: Path | None, full: bool, seed: int | None, classifier_seeds: int | None,
                   device: str | None, quiet: bool) -> None:
    """The paper's experiment: are the new sounds consistent and distinguishable from both sources?"""
    from spectrostyle.experiment import build_config, run_experiment

    config = build_config(full=full, config_file=config_file, pair=pair, methods=_name_list(methods), seed=seed,
                          classifier_seeds=classifier_seeds, device=device)
    metrics = run_experiment(out_dir, config, data=data, progress=not quiet,
                             notify=lambda message: click.echo(f"spectrostyle: warning: {message}", err=True))
    click.echo(f"{out_dir / 'report.html'}: {len(metrics['groups']) - 2} groups of new sounds "
               f"({', '.join(metrics['groups'][2:])}) in {metrics['timings_s']['total'] / 60:.1f} min")


@cli.command("classify")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--model", "model_name", default="default", show_default=True,
              help="Shipped classifier name or path to a model .json.")
@click.option("--top", type=click.IntRange(1, 20), default=3, show_default=True)
def classify_cmd(files: tuple[Path, ...], model_name: str, top: int) -> None:
    """Print the instrument family the audio CNN hears in each file, with the top probabilities."""
    from spectrostyle.audio import load_audio
    from spectrostyle.classifier import classify
    from spectrostyle.registry import load_named_model
    from spectrostyle.spectrogram import Spectrogram

    model = load_named_model(model_name, "audio_cnn")
    for path in files:
        audio = load_audio(path, sample_rate=model.spectrogram.sample_rate)
        image = Spectrogram.from_audio(audio, model.spectrogram).image[None, None]
        ranked = classify(image, model, top_k=top)[0]
        others = ", ".join(f"{name} {p:.2f}" for name, p in ranked)
        click.echo(f"{path}\t{ranked[0][0]}\t{others}")


@cli.command("app")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve on (loopback: this machine only; 0.0.0.0: every network).")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True)
@click.option("--max-seconds", type=click.FloatRange(0.1, 3600.0), default=60.0, show_default=True,
              help="Refuse uploads longer than this.")
@click.option("--max-mb", type=click.FloatRange(0.01, 1000.0), default=20.0, show_default=True,
              help="Refuse uploads bigger than this many megabytes.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@click.pass_context
def app_cmd(ctx: click.Context, host: str, port: int, max_seconds: float, max_mb: float, open_browser: bool) -> None:
    """Serve the web app: two sounds in, a blend out (needs the app extra: pip install 'spectrostyle[app]')."""
    try:
        import gradio  # noqa: F401
    except ImportError:
        from spectrostyle.errors import InputError

        raise InputError("the web app needs Gradio: pip install 'spectrostyle[app]' "
                         "(bash scripts/setup.sh installs it)") from None
    from spectrostyle.app import Limits, launch

    threads = ctx.parent.params.get("threads") if ctx.parent is not None else None
    launch(host, port, limits=Limits(max_seconds=max_seconds, max_mb=max_mb), threads=threads,
           open_browser=open_browser, announce=click.echo)


@cli.command("models")
def models_cmd() -> None:
    """List every shipped model: kind, name, what it was trained on, spectrogram config, size."""
    from spectrostyle.registry import shipped_models

    models = shipped_models()
    if not models:
        click.echo("no shipped models")
        return
    for model in models:
        click.echo(f"{model.kind:20s} {model.name:18s} {model.size_bytes / 1e6:6.2f} MB  "
                   f"[{model.spectrogram_summary}]\n{'':41s}trained on: {model.trained_on}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spectrostyle`` console script; returns the exit status."""
    try:
        cli.main(args=argv, prog_name="spectrostyle", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("spectrostyle: interrupted", err=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("spectrostyle: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_INPUT_ERROR if exc.exit_code != 0 else 0
    except SpectrostyleError as exc:
        click.echo(f"spectrostyle: error: {exc}", err=True)
        return EXIT_INPUT_ERROR
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
