"""The commands of ``spectrostyle`` (click), a thin layer of parsing over the same functions as the Python API;
:func:`spectrostyle.ui.cli.main.main` runs them (exit codes, signals)."""

from __future__ import annotations

from pathlib import Path

import click

from spectrostyle.ui.cli.data import dataset
from spectrostyle.ui.cli.instrument import instrument_cmd
from spectrostyle.ui.cli.options import name_list, overwrite_option, require_suffix, set_threads
from spectrostyle.ui.cli.train import train
from spectrostyle.ui.cli.transfer import transfer_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--threads", type=int, default=None, help="Torch CPU threads (default: torch's choice).")
@click.version_option(package_name="spectrostyle")
def cli(threads: int | None) -> None:
    """spectrostyle: blend two sounds by style transfer on their spectrogram images."""
    set_threads(threads)


@cli.command()
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=Path("out"),
              show_default=True, help="Folder for the demo page and its files.")
@click.option("--seed", type=int, default=0, show_default=True)
def demo(out_dir: Path, seed: int) -> None:
    """Run the shipped example notes through every available step; write OUT/index.html."""
    from spectrostyle.ui.demo import run_demo

    page = run_demo(out_dir, seed=seed, progress=True)
    click.echo(f"demo page: {page}")


MAX_SECONDS = click.FloatRange(0.0, min_open=True)  # a length limit must be positive


@cli.command("spectrogram")
@click.argument("audio_path", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="PNG file to write.")
@click.option("--model-config", is_flag=True,
              help="The 16 kHz mono image the shipped models take (default: the sound as it is: its sample rate, "
                   "its channels stacked, first on top).")
@click.option("--max-seconds", type=MAX_SECONDS, default=600.0, show_default=True, help="Refuse longer input.")
@overwrite_option()
def spectrogram_cmd(audio_path: Path, out_path: Path, model_config: bool, max_seconds: float, overwrite: bool) -> None:
    """Write the spectrogram image of AUDIO_PATH as a 16-bit grey PNG (invertible with `invert`): at the file's own
    sample rate (64 ms frames or the power of two below: 1024 samples at 16 kHz, 2048 at 44.1 and 48 kHz), one
    image per channel stacked, the first on top."""
    from spectrostyle.core.audio import mono_at, read_audio
    from spectrostyle.core.outputs import check_outputs
    from spectrostyle.core.png import save_png
    from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig

    require_suffix(out_path, ".png")
    check_outputs([out_path], [audio_path], overwrite=overwrite)
    samples, rate = read_audio(audio_path, max_seconds=max_seconds)
    if model_config:
        config = SpectrogramConfig()
        samples = mono_at(samples, rate, config.sample_rate, what=f"'{audio_path}'")[:, None]
    else:
        config = SpectrogramConfig.for_rate(rate)
    channels = Spectrogram.from_channels(samples, config)
    save_png(out_path, channels, inputs=[audio_path])
    shape = " x ".join(str(n) for n in ([len(channels)] if len(channels) > 1 else []) + list(channels[0].image.shape))
    click.echo(f"{out_path}: {shape} image at {config.sample_rate} Hz, {channels[0].duration:.2f} s, "
               f"peak {channels[0].gain_db:.1f} dB")


@cli.command("invert")
@click.argument("png_path", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="WAV or FLAC file to write.")
@click.option("--iterations", type=click.IntRange(0, 10_000), default=None,
              help="Griffin-Lim iterations (default 100) after the better of two starts (random and zero phase, "
                   "half as many iterations each).")
@click.option("--gain-db", type=float, default=None,
              help="Level of a white pixel in dB, for PNGs without spectrostyle metadata (default -20).")
@click.option("--ignore-metadata", is_flag=True,
              help="Read the pixels alone, as for a PNG without spectrostyle metadata (the default config, "
                   "--gain-db, the length the width holds).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--float", "as_float", is_flag=True, help="Write 32-bit float WAV instead of 16-bit.")
@overwrite_option()
def invert_cmd(png_path: Path, out_path: Path, iterations: int | None, gain_db: float | None, ignore_metadata: bool,
               seed: int, as_float: bool, overwrite: bool) -> None:
    """Turn a spectrogram PNG (ours, or one edited in any image editor) back into sound: the whole image (a canvas
    widened or cropped in an editor included; the length in the metadata is a hint), at the rate and with the
    channels it was made from."""
    import torch

    from spectrostyle.core.audio import check_output_format, output_container, write_audio
    from spectrostyle.core.outputs import atomic_output, check_outputs
    from spectrostyle.core.png import load_png_channels
    from spectrostyle.core.spectrogram import INVERT_ITERATIONS, invert_magnitudes

    depth = "float" if as_float else "16"
    check_output_format(out_path, depth)
    check_outputs([out_path], [png_path], overwrite=overwrite)

    def note(message: str) -> None:
        click.echo(f"note: {message}", err=True)

    channels, had_metadata = load_png_channels(png_path, gain_db=gain_db, ignore_metadata=ignore_metadata,
                                               notify=note)
    spec = channels[0]
    if ignore_metadata:
        note(f"ignoring the metadata of '{png_path}'; assuming the default config and a white-pixel level of "
             f"{spec.gain_db:g} dB")
    elif not had_metadata:
        note(f"'{png_path}' has no spectrostyle metadata; assuming the default config and a white-pixel level of "
             f"{spec.gain_db:g} dB")
    magnitudes = torch.stack([c.magnitude() for c in channels])  # (channels, F, T): one batch of Griffin-Lim
    audio = invert_magnitudes(magnitudes, spec.config, n_iter=INVERT_ITERATIONS if iterations is None else iterations,
                              seed=seed, num_samples=spec.num_samples).numpy().T
    with atomic_output(out_path) as tmp_path:
        write_audio(tmp_path, audio, sample_rate=spec.config.sample_rate, bit_depth=depth,
                    container=output_container(out_path))
    layout = "mono" if len(channels) == 1 else "stereo" if len(channels) == 2 else f"{len(channels)} channels"
    click.echo(f"{out_path}: {spec.duration:.2f} s at {spec.config.sample_rate} Hz, {layout}")


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
              help="JSON or TOML file of experiment settings (see spectrostyle.experiment.config.ExperimentConfig).")
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
    from spectrostyle.experiment.config import build_config
    from spectrostyle.experiment.run import run_experiment

    config = build_config(full=full, config_file=config_file, pair=pair, methods=name_list(methods), seed=seed,
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
    """Print the instrument family the audio CNN hears in each file, with the top probabilities (a sound shorter
    than the network's window is padded with silence)."""
    from spectrostyle.core.audio import load_audio
    from spectrostyle.core.spectrogram import Spectrogram
    from spectrostyle.eval.classify import classify
    from spectrostyle.store import load_named_model

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
        from spectrostyle.core.errors import InputError

        raise InputError("the web app needs Gradio: pip install 'spectrostyle[app]' "
                         "(bash scripts/setup.sh installs it)") from None
    from spectrostyle.ui.app import launch
    from spectrostyle.ui.app_blend import Limits

    threads = ctx.parent.params.get("threads") if ctx.parent is not None else None
    launch(host, port, limits=Limits(max_seconds=max_seconds, max_mb=max_mb), threads=threads,
           open_browser=open_browser, announce=click.echo)


@cli.command("models")
def models_cmd() -> None:
    """List every shipped model: kind, name, what it was trained on, spectrogram config, size."""
    from spectrostyle.store import shipped_models

    models = shipped_models()
    if not models:
        click.echo("no shipped models")
        return
    for model in models:
        click.echo(f"{model.kind:20s} {model.name:18s} {model.size_bytes / 1e6:6.2f} MB  "
                   f"[{model.spectrogram_summary}]\n{'':41s}trained on: {model.trained_on}")


cli.add_command(transfer_cmd)
cli.add_command(instrument_cmd)
cli.add_command(dataset)
cli.add_command(train)
