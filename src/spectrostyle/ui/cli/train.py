"""`spectrostyle train ...`: one command per trainer."""

from __future__ import annotations

from pathlib import Path

import click

from spectrostyle.methods.losses import LossWeights
from spectrostyle.ui.cli.options import config_option, parse_int_list, parse_range


def _families(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f.strip() for f in text.split(",") if f.strip()) if text else default


@click.group()
def train() -> None:
    """Train models (checkpoints each epoch; --resume continues; runs under torchrun)."""


def _precision_option():
    # training.PRECISIONS, written out so that the CLI starts without importing torch (a test checks they agree)
    return click.option("--precision", type=click.Choice(["fp32", "bf16"]), default="fp32", show_default=True,
                        help="bf16: the training steps under bfloat16 autocast (on a CPU with AVX512-BF16 the "
                             "classifier trained 1.4x faster, Fast 1.15x, CycleGAN 1.2x slower; for GPUs); weights "
                             "and validation stay float32.")


@train.command("classifier")
@config_option("train")
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
    from spectrostyle.core.vocabulary import DEFAULT_FAMILIES
    from spectrostyle.train.classifier import ClassifierTrainingOptions, FitOptions, train_classifier

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
    return parse_range(text, "--pitches") if text else None


def _note_selection(families: str | None, pitches: str | None, velocities: str | None, max_notes: int | None,
                    val_notes: int):
    from spectrostyle.data.selection import NoteSelection

    return NoteSelection(families=_families(families, None), pitches=_pitch_range(pitches),
                         velocities=parse_int_list(velocities, "--velocities") if velocities else None,
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
    from spectrostyle.train.loop import LoopOptions

    return LoopOptions(steps=steps, batch_size=batch_size, learning_rate=lr, final_learning_rate=final_lr,
                       checkpoint_every=checkpoint_every, samples=samples, seed=seed, precision=precision,
                       progress=not quiet, **schedule)


@train.command("fast")
@config_option("train")
@click.option("--style", type=click.Path(path_type=Path), required=True, help="The one style sound.")
@_notes_and_loop_options
@click.option("--feature-net", default="default", show_default=True,
              help="Loss network: shipped audio CNN name, model path, or 'random'.")
@click.option("--channels", default="16,32,64", show_default=True,
              help="Widths of the downsampling levels of the transformation network.")
@click.option("--residual-blocks", type=click.IntRange(0, 64), default=4, show_default=True)
@click.option("--content-weight", type=float, default=1.0, show_default=True)
@click.option("--style-weight", type=float, default=LossWeights.style, show_default=True)
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
    from spectrostyle.train.fast import FastTrainingOptions, train_fast

    options = FastTrainingOptions(
        style=style, data=data, out=out_dir,
        notes=_note_selection(families, pitches, velocities, max_notes, val_notes), feature_net=feature_net,
        channels=parse_int_list(channels, "--channels"), residual_blocks=residual_blocks,
        content_weight=content_weight, style_weight=style_weight, energy_weight=energy_weight,
        frequency_weight=frequency_weight, tv_weight=tv_weight, spectrum_weight=spectrum_weight,
        spectrum_emphasis=spectrum_emphasis,
        loop=_loop(steps, batch_size, lr, final_lr, checkpoint_every, samples, seed, precision, quiet),
        device=device, resume=resume, init=init_model, loss_on=loss_on)
    report = train_fast(options)
    click.echo(f"{report['steps']} steps, validation loss {report['final_val_loss']:.4g}; "
               f"model: {out_dir / 'model.json'}")


@train.command("adain")
@config_option("train")
@_notes_and_loop_options
@click.option("--encoder", default="default", show_default=True,
              help="The audio CNN whose relu4_1 features the decoder inverts (shipped name or model path).")
@click.option("--content-weight", type=float, default=1.0, show_default=True)
@click.option("--style-weight", type=float, default=10.0, show_default=True)
@click.option("--identity-weight", type=float, default=200.0, show_default=True,
              help="Weight of a pixel loss between each content and the decoding of its own features "
                   "(0: the paper's losses only).")
@click.option("--extra-audio", type=click.Path(exists=True, file_okay=False, path_type=Path), multiple=True,
              help="A folder of recordings of any kind (searched recursively), cut into note-long pieces that join "
                   "the training notes as contents and styles. Repeatable.")
@click.option("--extra-repeat", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="How many times each piece of --extra-audio joins the notes (its share of the draws).")
def train_adain_cmd(data: Path, out_dir: Path, families: str | None, pitches: str | None, velocities: str | None,
                    max_notes: int | None, val_notes: int, steps: int, batch_size: int, lr: float,
                    final_lr: float, checkpoint_every: int, samples: int, seed: int, precision: str,
                    device: str, resume: bool, quiet: bool, encoder: str, content_weight: float, style_weight: float,
                    identity_weight: float, extra_audio: tuple[Path, ...], extra_repeat: int) -> None:
    """Train an AdaIN decoder for the audio CNN --encoder on the notes of --data (and recordings of
    --extra-audio)."""
    from spectrostyle.train.adain import AdainTrainingOptions, train_adain

    options = AdainTrainingOptions(
        data=data, out=out_dir, notes=_note_selection(families, pitches, velocities, max_notes, val_notes),
        encoder=encoder, content_weight=content_weight, style_weight=style_weight, identity_weight=identity_weight,
        loop=_loop(steps, batch_size, lr, final_lr, checkpoint_every, samples, seed, precision, quiet),
        device=device, resume=resume, extra_audio=extra_audio, extra_repeat=extra_repeat)
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
    from spectrostyle.data.selection import DomainSelection

    v = values
    domains = DomainSelection(domain_a=v["domain_a"], domain_b=v["domain_b"], pitches=_pitch_range(v["pitches"]),
                              velocities=parse_int_list(v["velocities"], "--velocities") if v["velocities"] else None,
                              hold_out_every=v["hold_out_every"], val_notes=v["val_notes"], max_notes=v["max_notes"],
                              hold_out_pitches=(parse_int_list(v["hold_out_pitches"], "--hold-out-pitches")
                                                if v["hold_out_pitches"] else None))
    loop = _loop(v["steps"], v["batch_size"], v["lr"], v["final_lr"], v["checkpoint_every"], v["samples"], v["seed"],
                 v["precision"], v["quiet"], schedule="linear", decay_start=v["decay_start"], betas=(0.5, 0.999))
    return {"data": v["data"], "out": v["out_dir"], "domains": domains, "crop_frames": v["crop_frames"],
            "discriminator_channels": parse_int_list(v["discriminator_channels"], "--discriminator-channels"),
            "loop": loop, "device": v["device"], "resume": v["resume"]}


def _echo_gan_report(report: dict, out_dir: Path) -> None:
    click.echo(f"{report['steps']} steps, validation loss {report['final_val_loss']:.4g}; held out of training: "
               f"pitches {', '.join(map(str, report['held_out_pitches']))}; model: {out_dir / 'model.json'}")


@train.command("cyclegan")
@config_option("train")
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
    from spectrostyle.train.cyclegan import CycleGANTrainingOptions, train_cyclegan

    options = CycleGANTrainingOptions(**_gan_settings(values), channels=parse_int_list(channels, "--channels"),
                                      residual_blocks=residual_blocks, cycle_weight=cycle_weight,
                                      identity_weight=identity_weight, pool_size=pool_size)
    _echo_gan_report(train_cyclegan(options), options.out)


@train.command("pix2pix")
@config_option("train")
@_gan_options
@click.option("--channels", default="16,32,64,64,64", show_default=True,
              help="Widths of the U-Net's halving levels.")
@click.option("--l1-weight", type=click.FloatRange(0.0), default=100.0, show_default=True)
def train_pix2pix_cmd(channels: str, l1_weight: float, **values: object) -> None:
    """Train a pix2pix U-Net from --domain-a to --domain-b on notes of the same pitch and velocity in --data."""
    from spectrostyle.train.pix2pix import Pix2PixTrainingOptions, train_pix2pix

    options = Pix2PixTrainingOptions(**_gan_settings(values), channels=parse_int_list(channels, "--channels"),
                                     l1_weight=l1_weight)
    _echo_gan_report(train_pix2pix(options), options.out)
