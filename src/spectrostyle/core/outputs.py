"""Writing outputs safely: every output location checked before the work, every output of a command written to a
temporary file beside it and renamed onto it together at the end, the mode of a replaced file kept, and the
temporary files of a killed process cleared by the next write into the same folder.

A temporary file is named ``.NAME.PID.XXXXXXXX.tmp.SUFFIX`` (``PID``: the writing process), so a later run can tell
the leftovers of a process that no longer exists from the files of one still writing.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from spectrostyle.core.errors import InputError

TEMPORARY_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.tmp(?:\.[^.]*)?$")


DEFERRED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def check_output_path(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), *,
                      overwrite: bool = True) -> None:
    """Refuse an output path that cannot be written or should not be: a folder, a path in a missing, non-folder or
    unwritable folder, something other than a regular file, one of ``inputs``, or (unless ``overwrite``) a file
    that exists."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"output '{path}' is a directory; give a file name")
    parent = _folder(path)
    if not parent.exists():
        raise InputError(f"output folder '{parent}' does not exist")
    if not parent.is_dir():
        raise InputError(f"output folder '{parent}' is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"output folder '{parent}' is not writable")
    resolved = path.resolve()
    for source in inputs:
        source = Path(source)
        if resolved == source.resolve() or (path.exists() and source.exists() and path.samefile(source)):
            raise InputError(f"output '{path}' is also an input; choose another output path")
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise InputError(f"output '{path}' exists and is not a regular file")
        if not overwrite:
            raise InputError(f"output '{path}' exists; pass --overwrite to replace it")


def check_outputs(paths: Sequence[str | os.PathLike | None], inputs: Iterable[str | os.PathLike] = (), *,
                  overwrite: bool = True) -> list[Path]:
    """:func:`check_output_path` for each of ``paths`` (None: not asked for), which must be different files.
    Returns the paths asked for."""
    outputs = [Path(p) for p in paths if p is not None]
    if len({p.resolve() for p in outputs}) != len(outputs):
        raise InputError(f"the outputs {', '.join(str(p) for p in outputs)} must be different files")
    inputs = list(inputs)
    for path in outputs:
        check_output_path(path, inputs, overwrite=overwrite)
    return outputs


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists (of any user)."""
    if pid <= 0:
        return True  # not a process id: never treat its files as leftovers
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def clear_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove from ``folder`` the temporary files of this module whose writing process no longer exists (a run
    killed by SIGKILL or a power cut); leaves every other file alone. Returns the files removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = TEMPORARY_NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        if process_exists(int(match["pid"])):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _mode_for(path: Path) -> int:
    """The permission bits an output gets: those of the file it replaces, else the usual ones (0666 less umask)."""
    try:
        info = path.stat()
    except OSError:
        return _new_file_mode()
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else _new_file_mode()


class _DeferredSignals:
    """Hold Ctrl-C, SIGTERM and SIGHUP (delivered when the block ends) while outputs are renamed into place."""

    def __enter__(self) -> None:
        self.blocked = (hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
                        and bool(DEFERRED_SIGNALS))
        if self.blocked:
            self.previous = signal.pthread_sigmask(signal.SIG_BLOCK, DEFERRED_SIGNALS)

    def __exit__(self, *exc: object) -> None:
        if self.blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.previous)


class staged_outputs:  # noqa: N801 - used as a context manager, reads like a function
    """Context manager yielding one temporary path beside each of ``paths``; when the block succeeds they are renamed
    onto ``paths`` together (signals held meanwhile), each with the mode of the file it replaces (else 0666 less
    the umask). On any exception (Ctrl-C and signals included) every temporary file is removed and ``paths`` are
    left untouched. Entering clears stale temporary files (:func:`clear_stale_temporaries`) from their folders."""

    def __init__(self, *paths: str | os.PathLike):
        self.paths = [Path(p) for p in paths]
        self.temporaries: list[Path] = []

    def __enter__(self) -> list[Path]:
        for folder in dict.fromkeys(_folder(p) for p in self.paths):
            clear_stale_temporaries(folder)
        try:
            for path in self.paths:
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp" + path.suffix,
                                           dir=_folder(path))
                os.close(fd)
                self.temporaries.append(Path(tmp))
                os.chmod(tmp, _mode_for(path))  # mkstemp makes owner-only files
        except BaseException:
            self._remove()
            raise
        return list(self.temporaries)

    def _remove(self) -> None:
        for tmp in self.temporaries:
            tmp.unlink(missing_ok=True)

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self._remove()
            return False
        try:
            with _DeferredSignals():
                modes = [_mode_for(path) for path in self.paths]
                for tmp, path, mode in zip(self.temporaries, self.paths, modes, strict=True):
                    os.chmod(tmp, mode)  # again: some writers replace the file they were given (safetensors: 0600)
                    os.replace(tmp, path)
        except BaseException:
            self._remove()
            raise
        return False


class atomic_output(staged_outputs):  # noqa: N801 - used as a context manager, reads like a function
    """Context manager yielding a temporary path beside ``path``; renamed onto ``path`` on success (see
    :class:`staged_outputs`). On any exception (Ctrl-C included) the temporary file is removed and ``path`` is left
    untouched."""

    def __init__(self, path: str | os.PathLike):
        super().__init__(path)
        self.path = self.paths[0]

    def __enter__(self) -> Path:  # type: ignore[override]
        return super().__enter__()[0]
