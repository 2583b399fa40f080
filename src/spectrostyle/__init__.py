"""spectrostyle: new sounds from two source sounds, by image style-transfer networks on spectrograms.

The names below are imported on first use (PEP 562), so that ``import spectrostyle`` (and the start of the
``spectrostyle`` command, which must answer Ctrl-C from its first moment) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "ConfigMismatchError": "spectrostyle.core.errors",
    "InputError": "spectrostyle.core.errors",
    "Spectrogram": "spectrostyle.core.spectrogram",
    "SpectrogramConfig": "spectrostyle.core.spectrogram",
    "SpectrostyleError": "spectrostyle.core.errors",
    "griffin_lim": "spectrostyle.core.spectrogram",
    "load_audio": "spectrostyle.core.audio",
    "save_audio": "spectrostyle.core.audio",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spectrostyle' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
