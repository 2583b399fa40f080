"""Error types. Every error a user can cause is a :class:`SpectrostyleError` with a one-line message;
the CLI prints it and exits with status 2."""

from __future__ import annotations


class SpectrostyleError(Exception):
    """Base class for errors caused by user input or configuration (CLI exit status 2)."""


class InputError(SpectrostyleError):
    """A file, path or argument given by the user cannot be used."""


class ConfigMismatchError(SpectrostyleError):
    """A spectrogram or model was made with a different :class:`SpectrogramConfig` than required."""
