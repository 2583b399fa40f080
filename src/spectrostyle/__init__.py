"""spectrostyle: new sounds from two source sounds, by image style-transfer networks on spectrograms."""

from spectrostyle.audio import load_audio, save_audio
from spectrostyle.errors import ConfigMismatchError, InputError, SpectrostyleError
from spectrostyle.phase import griffin_lim
from spectrostyle.spectrogram import Spectrogram, SpectrogramConfig

__version__ = "0.1.0"

__all__ = [
    "ConfigMismatchError",
    "InputError",
    "Spectrogram",
    "SpectrogramConfig",
    "SpectrostyleError",
    "griffin_lim",
    "load_audio",
    "save_audio",
]
