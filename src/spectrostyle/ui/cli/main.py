"""Entry point of the ``spectrostyle`` command: runs :mod:`spectrostyle.ui.cli.commands` and turns what ends a run
into an exit status.

Every error a user can cause prints one line (``spectrostyle: error: ...``) and exits with status 2; Ctrl-C,
SIGTERM and SIGHUP (from the first moment, imports included) print one line and exit with 128 + the signal's number
(130, 143, 129), leaving no partial output files. This module imports nothing heavy before :func:`main` runs.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from spectrostyle.core.errors import Interrupted

EXIT_INPUT_ERROR = 2


EXIT_INTERRUPTED = 128 + signal.SIGINT


HANDLED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Interrupted` in the main thread (as Ctrl-C raises KeyboardInterrupt), so
    that temporary files are removed on the way out; a signal already ignored (``nohup``) stays ignored, and the
    previous handlers come back at the end."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def interrupt(signum: int, frame: object) -> None:
        for number in previous:  # once: the process is on its way out
            signal.signal(number, signal.SIG_IGN)
        raise Interrupted(signum)

    for number in HANDLED_SIGNALS:
        if signal.getsignal(number) is not signal.SIG_IGN:
            previous[number] = signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _interrupted(exc: BaseException) -> int:
    """Report an interruption; its exit status (128 + the signal's number)."""
    signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
    name = signal.Signals(signum).name if signum != signal.SIGINT else ""
    print(f"spectrostyle: interrupted{f' ({name})' if name else ''}", file=sys.stderr, flush=True)
    return 128 + signum


def _run(argv: list[str] | None) -> int:
    import click

    from spectrostyle.core.errors import SpectrostyleError
    from spectrostyle.ui.cli.commands import cli

    try:
        status = cli.main(args=argv, prog_name="spectrostyle", standalone_mode=False)
    except click.exceptions.Abort as exc:  # click's form of a KeyboardInterrupt
        cause = exc.__cause__ or exc.__context__
        raise cause if isinstance(cause, KeyboardInterrupt) else KeyboardInterrupt() from None
    except click.ClickException as exc:
        exc.show()
        return EXIT_INPUT_ERROR if exc.exit_code != 0 else 0
    except SpectrostyleError as exc:
        click.echo(f"spectrostyle: error: {exc}", err=True)
        return EXIT_INPUT_ERROR
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return status if isinstance(status, int) else 0  # a command's click.exceptions.Exit(N) comes back as N


# OpenMP threads that spin at every barrier while one of them waits for a core that another process holds make
# torch's default two threads 10-20x slower than one on a busy 2-core machine (benchmarks/bench_threads.py); waiting
# passively costs little on an idle one. libgomp reads this once, when torch loads, so it is set before any import of
# torch; OMP_WAIT_POLICY set by the user wins.
OMP_WAIT_POLICY = "PASSIVE"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spectrostyle`` console script; returns the exit status."""
    os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)
    try:
        with signals_as_interrupts():
            return _run(argv)
    except KeyboardInterrupt as exc:
        return _interrupted(exc)


def __getattr__(name: str) -> Any:
    if name == "cli":  # the click group, for callers that used it from here
        from spectrostyle.ui.cli.commands import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
