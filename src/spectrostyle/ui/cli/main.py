"""Command-line interface: a thin layer of parsing over the same functions as the Python API.

Every error a user can cause prints one line (``spectrostyle: error: ...``) and exits with status 2;
Ctrl-C exits with 130 and leaves no partial output files.
"""

from __future__ import annotations

from pathlib import Path

import click

from spectrostyle.core.errors import SpectrostyleError
from spectrostyle.ui.cli.data import dataset
from spectrostyle.ui.cli.options import (
    EXIT_INPUT_ERROR,
    EXIT_INTERRUPTED,
    float_list,
    name_list,
    require_suffix,
    set_threads,
)
from spectrostyle.ui.cli.train import train


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


@cli.command("spectrogram")
@click.argument("audio_path", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="PNG file to write.")
@click.option("--max-seconds", type=float, default=600.0, show_default=True, help="Refuse longer input.")
def spectrogram_cmd(audio_path: Path, out_path: Path, max_seconds: float) -> None:
    """Write the spectrogram image of AUDIO_PATH as a 16-bit grey PNG (invertible with `invert`)."""
    from spectrostyle.core.audio import load_audio
    from spectrostyle.core.png import save_png
    from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig

    config = SpectrogramConfig()
    require_suffix(out_path, ".png")
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
    from spectrostyle.core.audio import save_audio
    from spectrostyle.core.png import load_png
    from spectrostyle.core.spectrogram import DEFAULT_ITERATIONS

    require_suffix(out_path, ".wav")
    spec, had_metadata = load_png(png_path, gain_db=gain_db)
    if not had_metadata:
        click.echo(f"note: '{png_path}' has no spectrostyle metadata; assuming the default config and a "
                   f"white-pixel level of {spec.gain_db:g} dB", err=True)
    audio = spec.to_audio(n_iter=DEFAULT_ITERATIONS if iterations is None else iterations, seed=seed)
    save_audio(out_path, audio, sample_rate=spec.config.sample_rate, subtype="float" if as_float else "pcm16",
               inputs=[png_path])
    click.echo(f"{out_path}: {spec.duration:.2f} s at {spec.config.sample_rate} Hz")


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
    from spectrostyle.core.audio import check_output_path
    from spectrostyle.pipeline import save_result, transfer

    require_suffix(out_path, ".wav")
    inputs = [content, *styles]
    for path in (out_path, png_path, json_path):
        if path is not None:
            check_output_path(path, inputs)  # fail before minutes of work, not after
    settings.update(content_layers=name_list(content_layers), style_layers=name_list(style_layers),
                    style_mix=float_list(style_mix, "--style-mix"))
    chosen = {k: v for k, v in settings.items() if v is not None}
    result = transfer(content, list(styles) or None, method, phase_iterations=phase_iterations,
                      max_seconds=max_seconds, progress=not quiet, **chosen)
    save_result(result, out_path, png=png_path, report_json=json_path, inputs=inputs)
    click.echo(f"{out_path}: {result.spectrogram.duration:.2f} s by {method} in {result.seconds:.1f} s")


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
    """Print the instrument family the audio CNN hears in each file, with the top probabilities."""
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


cli.add_command(dataset)
cli.add_command(train)


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
