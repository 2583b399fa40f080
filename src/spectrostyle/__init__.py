"""spectrostyle: new sounds from two source sounds, by image style-transfer networks on spectrograms."""

from spectrostyle.core.audio import load_audio, save_audio
from spectrostyle.core.errors import ConfigMismatchError, InputError, SpectrostyleError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig, griffin_lim

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
