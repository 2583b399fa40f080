"""`spectrostyle transfer`: its method settings are flags generated from every registered method's ``Options``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from spectrostyle.core.audio import BIT_DEPTHS
from spectrostyle.methods.registry import METHODS, method_class
from spectrostyle.ui.cli.options import float_list, name_list, overwrite_option

COMMON_SETTINGS = ("seed", "device")  # every method has them: plain flags with their defaults


@dataclasses.dataclass
class _Flag:
    """One ``transfer`` flag and the methods whose setting it sets."""

    field: str
    annotation: str
    helps: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # help text -> methods
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)  # method -> default
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None


def _parser(annotation: str, flag: str) -> Callable[[str | None], Any] | None:
    """How a flag's text becomes the setting's value, for list-valued settings (comma-separated)."""
    if "tuple[str" in annotation:
        return lambda text: name_list(text)
    if "tuple[float" in annotation:
        return lambda text: float_list(text, flag)
    return None


def _click_type(spec: _Flag) -> Any:
    if spec.choices:
        return click.Choice(list(spec.choices))
    if "tuple" in spec.annotation:
        return str
    number = int if spec.annotation.startswith("int") else float if spec.annotation.startswith("float") else str
    if number is str or (spec.low is None and spec.high is None):
        return number
    if number is int:
        low, high = (None if bound is None else int(bound) for bound in (spec.low, spec.high))
        return click.IntRange(low, high)
    return click.FloatRange(spec.low, spec.high)


def _shown(value: Any) -> str | None:
    """A default as the help shows it (None: not shown)."""
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or None
    if value is None:
        return None
    return f"{value:g}" if isinstance(value, float) else f"'{value}'" if isinstance(value, str) else str(value)


def method_flags() -> dict[str, _Flag]:
    """``--flag`` -> what it sets, over every registered method's ``Options`` (settings of the same name share
    one flag)."""
    flags: dict[str, _Flag] = {}
    for name in METHODS:
        for field in dataclasses.fields(method_class(name).Options):
            if field.name in COMMON_SETTINGS or not field.metadata:
                continue
            meta = field.metadata
            flag = meta.get("flag") or "--" + field.name.replace("_", "-")
            spec = flags.setdefault(flag, _Flag(field.name, str(field.type), choices=meta.get("choices"),
                                                low=meta.get("low"), high=meta.get("high")))
            spec.helps.setdefault(meta["help"], []).append(name)
            default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
            spec.defaults[name] = default
            if spec.choices != meta.get("choices"):  # the same flag with other choices: check per method
                spec.choices = None
            spec.low = spec.low if spec.low == meta.get("low") else None
            spec.high = spec.high if spec.high == meta.get("high") else None
    return flags


def _help(spec: _Flag) -> str:
    parts = []
    for text, methods in spec.helps.items():
        defaults = {_shown(spec.defaults[m]) for m in methods} - {None}
        default = f" (default {defaults.pop()})" if len(defaults) == 1 else ""
        parts.append(f"[{', '.join(methods)}] {text.rstrip('.')}{default}.")
    return " ".join(parts)


def with_method_flags(command: Callable) -> Callable:
    """Add one click option per method setting to ``command`` (values None unless given)."""
    for flag, spec in reversed(list(method_flags().items())):
        command = click.option(flag, spec.field, type=_click_type(spec), default=None, help=_help(spec))(command)
    return command


def method_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The settings given on the command line, as the methods' ``Options`` take them."""
    chosen = {}
    for flag, spec in method_flags().items():
        value = values.get(spec.field)
        if value is None:
            continue
        parse = _parser(spec.annotation, flag)
        chosen[spec.field] = parse(value) if parse else value
    return chosen


@click.command("transfer")
@click.argument("contents", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--style", "styles", multiple=True, type=click.Path(path_type=Path),
              help="Style sound (repeat to mix several; see --style-mix).")
@click.option("--method", default="gatys", show_default=True,
              help=f"Transfer method: {', '.join(METHODS)}.")
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="WAV or FLAC to write (one CONTENT).")
@click.option("--out-dir", type=click.Path(path_type=Path), default=None,
              help="Folder for the results of many CONTENT files and folders (searched for audio files, sub-folders "
                   "mirrored, NAME.flac for FLAC inputs and NAME.wav for the rest); results that exist are skipped, "
                   "so a killed run continues.")
@click.option("--png", "png_path", type=click.Path(path_type=Path), default=None,
              help="Also write content | style | result spectrograms side by side (with -o).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Also write the settings and loss curves (with -o).")
@with_method_flags
@click.option("--phase-iterations", type=click.IntRange(0, 10_000), default=None,
              help="Griffin-Lim iterations for the result (default: the method's; 64 for gatys from random "
                   "phase, 8 for fast, adain, cyclegan and pix2pix from the content's phase).")
@click.option("--max-seconds", type=click.FloatRange(0.0, min_open=True), default=600.0, show_default=True,
              help="Refuse longer inputs.")
@click.option("--loudness", type=click.FloatRange(-70.0, 0.0), default=None, metavar="LUFS",
              help="Integrated loudness of the result (BS.1770), e.g. -14 (default: the content's); the true peak "
                   "stays at or below -1 dBTP.")
@click.option("--transients", type=click.FloatRange(0.0, 1.0), default=None,
              help="How closely the result's attacks and gaps follow the content's, in every band: 1 (the default) "
                   "keeps a drum loop's hits, 0 leaves the method's own.")
@click.option("--keep-pitch", type=click.FloatRange(0.0, 1.0), default=None,
              help="How much of the content's harmonic fine structure the result takes: 1 puts its partials where "
                   "the content's are (the content's pitch, which networks blur on low notes) while the result keeps "
                   "its spectral envelope (its timbre), below 4.5 kHz (0.7 kHz for pix2pix: around the fundamental, "
                   "its own partials above keep the translation); 0 leaves the method's own. Default: 1 for fast, "
                   "adain and pix2pix; 0 for gatys (Slow) and cyclegan, whose instrument is in the fine structure "
                   "too.")
@click.option("--balance", type=click.FloatRange(0.0, 1.0), default=None,
              help="How far the result's spectral balance (its long-term spectrum, a matching equaliser of at most "
                   "6 dB, 9 for gatys) moves toward the style's. Default: the method's style share (1 for gatys, "
                   "--alpha for adain, none along a curve; 0 for methods whose model is the style).")
@click.option("--sample-rate", "output_rate", type=click.IntRange(8000, 384_000), default=None, metavar="HZ",
              help="Sample rate of the result (default: the content's; made at up to 48 kHz, higher rates resampled).")
@click.option("--channels", "output_channels", type=click.IntRange(1, 8), default=None,
              help="Channels of the result (default: the content's; a stereo result of stereo content keeps its "
                   "image, one of mono content is the same in both).")
@click.option("--bit-depth", type=click.Choice(list(BIT_DEPTHS)), default=None,
              help="Sample format of the result (default: the content's: 24 for 24- and 32-bit files, float for "
                   "float ones, else 16; FLAC holds 16 and 24).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@overwrite_option()
def transfer_cmd(contents: tuple[Path, ...], styles: tuple[Path, ...], method: str, out_path: Path | None,
                 out_dir: Path | None, png_path: Path | None, json_path: Path | None, phase_iterations: int | None,
                 max_seconds: float, loudness: float | None, transients: float | None, keep_pitch: float | None,
                 balance: float | None, output_rate: int | None, output_channels: int | None,
                 bit_depth: str | None, quiet: bool, seed: int, device: str, overwrite: bool, **values: Any) -> None:
    """Make a new sound from CONTENT in the style of --style (-o OUT.wav or OUT.flac), or from many files and folders
    (--out-dir DIR; also under torchrun, each process taking its share).

    The result has the content's sample rate, channels and bit depth, and its loudness (BS.1770) with a true peak of
    at most -1 dBTP: the methods work on 16 kHz mono spectrograms, and the band above 7.2 kHz and the stereo image
    are made from the style's high band and the content's image. The audio, PNG and JSON of one sound are written
    together at the end (all or none); existing ones are refused before any work unless --overwrite."""
    from spectrostyle.core.audio import AudioFormat, check_output_format
    from spectrostyle.core.outputs import check_outputs
    from spectrostyle.pipeline import save_result, transfer

    settings = dict(phase_iterations=phase_iterations, max_seconds=max_seconds, loudness=loudness,
                    output_rate=output_rate, output_channels=output_channels, seed=seed, device=device,
                    **method_settings(values))
    if transients is not None:
        settings["transients"] = transients
    for name, value in (("keep_pitch", keep_pitch), ("balance", balance)):
        if value is not None:
            settings[name] = value
    if out_dir is not None:
        if out_path is not None or png_path is not None or json_path is not None:
            raise click.UsageError("--out-dir writes one WAV per input; -o, --png and --json are for one CONTENT")
        _transfer_many(contents, styles, method, out_dir, overwrite=overwrite, quiet=quiet, bit_depth=bit_depth,
                       settings=settings)
        return
    if out_path is None:
        raise click.UsageError("give -o OUT.wav (one CONTENT) or --out-dir DIR (many)")
    if len(contents) != 1:
        raise click.UsageError(f"{len(contents)} CONTENT inputs need --out-dir DIR, not -o")
    content = contents[0]
    inputs = [content, *styles]
    check_output_format(out_path, bit_depth)
    check_outputs([out_path, png_path, json_path], inputs, overwrite=overwrite)  # before minutes of work
    result = transfer(content, list(styles) or None, method, progress=not quiet, **settings)
    save_result(result, out_path, png=png_path, report_json=json_path, inputs=inputs, overwrite=overwrite,
                bit_depth=bit_depth)
    shown = AudioFormat(result.output_rate, result.output.shape[1], bit_depth or result.output_bit_depth)
    click.echo(f"{out_path}: {result.spectrogram.duration:.2f} s, {shown.describe()}, by {method} in "
               f"{result.seconds:.1f} s")


def _transfer_many(contents: tuple[Path, ...], styles: tuple[Path, ...], method: str, out_dir: Path, *,
                   overwrite: bool, quiet: bool, bit_depth: str | None, settings: dict[str, Any]) -> None:
    """``transfer --out-dir``: one method object (models loaded once) over this process's share of the files;
    each failure one line; the summary; exit status 1 when any file failed."""
    from spectrostyle.core.errors import InputError
    from spectrostyle.folders import my_share, plan_jobs, transfer_files
    from spectrostyle.methods.registry import make_options
    from spectrostyle.pipeline import prepare_styles

    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out-dir '{out_dir}' exists and is not a folder")
    jobs = my_share(plan_jobs(contents, out_dir))
    phase = {key: settings.pop(key) for key in ("phase_iterations", "max_seconds", "loudness", "output_rate",
                                                "output_channels", "transients", "keep_pitch", "balance")
             if key in settings}
    runner = method_class(method)(make_options(method, **settings))
    prepared = prepare_styles(runner, list(styles), max_seconds=phase["max_seconds"])  # models and styles: once
    summary = transfer_files(jobs, runner, prepared, overwrite=overwrite, progress=not quiet, bit_depth=bit_depth,
                             **phase)
    for source, message in summary.failed:
        click.echo(f"spectrostyle: {source}: {message}", err=True)
    click.echo(f"{out_dir}: {summary.line()}")
    if summary.failed:
        raise click.exceptions.Exit(1)
