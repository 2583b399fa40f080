"""Parsing helpers shared by the commands."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from spectrostyle.core.errors import InputError


def set_threads(threads: int | None) -> None:
    import torch

    if threads is not None:
        if threads < 1:
            raise click.BadParameter("must be >= 1", param_hint="--threads")
        torch.set_num_threads(threads)


def parse_range(text: str, what: str) -> tuple[int, int]:
    try:
        low, _, high = text.partition("-")
        low_i, high_i = int(low), int(high or low)
    except ValueError:
        raise click.BadParameter(f"expected LO-HI such as 48-72, got '{text}'", param_hint=what) from None
    return low_i, high_i


def parse_int_list(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got '{text}'", param_hint=what) from None


def overwrite_option() -> Callable:
    """``--overwrite``: replace existing outputs (refused otherwise, before any work, as ``cp -n`` and ffmpeg do)."""
    return click.option("--overwrite", is_flag=True,
                        help="Replace output files that exist (refused otherwise); a replaced file keeps its mode.")


def require_suffix(path: Path, suffix: str) -> None:
    if path.suffix.lower() != suffix:
        raise click.BadParameter(f"'{path}' should end in {suffix}", param_hint="--out")


def float_list(text: str | None, what: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got '{text}'", param_hint=what) from None


def name_list(text: str | None) -> tuple[str, ...] | None:
    return tuple(v.strip() for v in text.split(",") if v.strip()) if text else None


CONFIG_TABLES = ("train", "dataset")


def config_option(table: str) -> Callable:
    """``--config FILE.toml``: a command's option values from the ``[table]`` table of a TOML file.

    The option is eager: its callback reads the file before the other options are processed and puts the values in
    ``ctx.default_map``, so they replace the options' defaults and an option given on the command line overrides
    them. Keys are the option names without the leading dashes (``batch_size`` or ``batch-size``); each value is
    checked by its option's own click type. An unknown key, a key outside the file's tables, a file without the
    command's table, a missing file or broken TOML raise :class:`InputError` (one line, exit status 2).
    """
    if table not in CONFIG_TABLES:
        raise ValueError(f"table should be one of {CONFIG_TABLES}, not {table!r}")
    other = next(t for t in CONFIG_TABLES if t != table)

    def apply(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
        if value is None or ctx.resilient_parsing:
            return
        ctx.default_map = {**(ctx.default_map or {}), **read_config(value, table, ctx)}

    return click.option(
        "--config", type=click.Path(path_type=Path), is_eager=True, expose_value=False, callback=apply,
        metavar="FILE.toml",
        help=f"Option values from the [{table}] table of a TOML file; options on the command line override them. "
             f"Keys are option names without the dashes (batch_size = 8 or batch-size = 8; quiet = true). A "
             f"[{other}] table in the file is for `{'dataset render' if other == 'dataset' else 'train KIND'}`; other "
             f"keys at the top are an error. The shipped models' files: configs/.")


def _config_options(command: click.Command) -> dict[str, click.Option]:
    """The options a config file may set, by key: each long option name without its dashes, '-' as '_'."""
    keys: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.expose_value and not param.is_eager:
            for opt in param.opts:
                if opt.startswith("--"):
                    keys[opt[2:].replace("-", "_")] = param
    return keys


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise InputError(f"config file '{path}' does not exist") from None
    except IsADirectoryError:
        raise InputError(f"config file '{path}' is a folder") from None
    except OSError as exc:
        raise InputError(f"cannot read config file '{path}': {exc.strerror or exc}") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError, UnicodeDecodeError
        raise InputError(f"config file '{path}' is not valid TOML: {exc}") from None


def _config_value(path: Path, table: str, key: str, value: Any, option: click.Option, ctx: click.Context) -> Any:
    """``value`` checked by ``option``'s click type; the value to put in the default map."""
    where = f"{path}: [{table}] {key}"
    if isinstance(value, dict):
        raise InputError(f"{where} should be a value, not a table")
    if option.multiple:
        value = list(value) if isinstance(value, list) else [value]
    elif isinstance(value, list):
        raise InputError(f"{where} takes one value, not a list (write it as on the command line, e.g. "
                         f"\"50,127\")")
    values = value if option.multiple else [value]
    for item in values:
        if option.is_flag and not isinstance(item, bool):
            raise InputError(f"{where} is a flag: write true or false")
        if not option.is_flag and (isinstance(item, bool) or not isinstance(item, str | int | float)):
            raise InputError(f"{where} should be a string or a number, not {item!r}")
    try:
        option.type_cast_value(ctx, value)
    except click.BadParameter as exc:
        raise InputError(f"{where}: {exc.message}") from None
    return value


def read_config(path: Path, table: str, ctx: click.Context) -> dict[str, Any]:
    """The ``default_map`` of ``ctx``'s command from the ``[table]`` table of the TOML file ``path``."""
    document = _load_toml(path)
    for key, value in document.items():
        if key not in CONFIG_TABLES:
            raise InputError(f"{path}: unknown key '{key}' at the top; settings go in a "
                             f"{' or '.join(f'[{t}]' for t in CONFIG_TABLES)} table")
        if not isinstance(value, dict):
            raise InputError(f"{path}: '{key}' should be a [{key}] table")
    if table not in document:
        raise InputError(f"{path} has no [{table}] table for `{ctx.command_path}`")
    options = _config_options(ctx.command)
    default_map: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for key, value in document[table].items():
        option = options.get(key.replace("-", "_"))
        if option is None:
            close = difflib.get_close_matches(key.replace("-", "_"), list(options), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(f"{path}: unknown key '{key}' in [{table}]: `{ctx.command_path}` has no option "
                             f"--{key.replace('_', '-')}{hint}")
        if option.name in seen:
            raise InputError(f"{path}: [{table}] sets --{key.replace('_', '-')} twice "
                             f"('{seen[option.name]}' and '{key}')")
        seen[option.name] = key
        default_map[option.name] = _config_value(path, table, key, value, option, ctx)
    return default_map
