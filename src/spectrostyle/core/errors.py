"""Error types. Every error a user can cause is a :class:`SpectrostyleError` with a one-line message;
the CLI prints it and exits with status 2."""

from __future__ import annotations


class SpectrostyleError(Exception):
    """Base class for errors caused by user input or configuration (CLI exit status 2)."""


class InputError(SpectrostyleError):
    """A file, path or argument given by the user cannot be used."""


class ConfigMismatchError(SpectrostyleError):
    """A spectrogram or model was made with a different :class:`SpectrogramConfig` than required."""


class Interrupted(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP) raised as an interruption, like Ctrl-C: outputs in progress are
    removed on the way out; the command exits with status 128 + ``signum``."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
