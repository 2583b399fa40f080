"""Spectrogram images as 16-bit grey PNG files that carry what is needed to invert them.

The PNG shows low frequencies at the bottom, as people expect; the metadata (spectrogram config, gain in
dB, audio length) sits in an ``iTXt`` chunk named ``spectrostyle``. A PNG edited in an image editor that
dropped the chunk, or saved as 8-bit or colour, still loads: the caller decides which config to assume.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from spectrostyle.core.audio import atomic_output, check_output_path
from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig

METADATA_KEY = "spectrostyle"


DEFAULT_GAIN_DB = -20.0  # level assumed for pixel 1 when a PNG carries no metadata


MAX_PIXEL_16BIT = 65535


def save_png(path: str | os.PathLike, spectrogram: Spectrogram, *, inputs=()) -> Path:
    """Write ``spectrogram`` as a 16-bit grey PNG with its metadata, atomically. Returns the path."""
    path = Path(path)
    check_output_path(path, inputs)
    pixels = spectrogram.image.detach().cpu().clamp(0, 1).flip(0).numpy()  # row 0 = highest frequency
    quantised = np.round(pixels * MAX_PIXEL_16BIT).astype(np.uint16)
    image = Image.fromarray(quantised)
    info = PngImagePlugin.PngInfo()
    info.add_itxt(METADATA_KEY, json.dumps(spectrogram.metadata(), sort_keys=True))
    with atomic_output(path) as tmp_path:
        image.save(tmp_path, format="PNG", pnginfo=info)
    return path


def load_png(path: str | os.PathLike, *, config: SpectrogramConfig | None = None,
             gain_db: float | None = None) -> tuple[Spectrogram, bool]:
    """Read a spectrogram PNG. Returns ``(spectrogram, had_metadata)``.

    Metadata in the file wins; without it, ``config`` (default :class:`SpectrogramConfig`) and ``gain_db``
    (default -20 dB) are assumed and the audio length follows from the width. Colour images are converted to
    grey (luminance); 8- and 16-bit images are scaled to [0, 1]. The height must equal ``config.n_freq``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: '{path}'")
    if path.is_dir():
        raise InputError(f"'{path}' is a directory, not an image")
    try:
        with Image.open(path) as image:
            image.load()
            text = dict(getattr(image, "text", {}) or {})
            pixels = _grey_pixels(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"'{path}' is not a readable image ({exc})") from None
    metadata = _parse_metadata(text.get(METADATA_KEY), path)
    if metadata is not None:
        config = SpectrogramConfig.from_dict(metadata["config"])
        gain = float(metadata["gain_db"])
        num_samples = int(metadata["num_samples"])
    else:
        config = config or SpectrogramConfig()
        gain = DEFAULT_GAIN_DB if gain_db is None else float(gain_db)
        num_samples = config.padded_samples(pixels.shape[1])
    if pixels.shape[0] != config.n_freq:
        raise InputError(f"'{path}' is {pixels.shape[0]} pixels high, but spectrograms with n_fft "
                         f"{config.n_fft} are {config.n_freq} high")
    if num_samples > config.padded_samples(pixels.shape[1]):
        raise InputError(f"'{path}' is {pixels.shape[1]} frames wide, too narrow for the "
                         f"{num_samples} samples its metadata names (was it cropped?)")
    image_tensor = torch.from_numpy(np.ascontiguousarray(pixels[::-1])).float()
    return Spectrogram(image=image_tensor, gain_db=gain, num_samples=num_samples, config=config), \
        metadata is not None


def _grey_pixels(image: Image.Image) -> np.ndarray:
    """Pixels of any PIL image as float ``(height, width)`` in [0, 1]."""
    if image.mode in {"I;16", "I;16B", "I;16L", "I"}:
        values = np.asarray(image, dtype=np.float64)
        top = MAX_PIXEL_16BIT if values.max(initial=0) > 255 or image.mode.startswith("I;16") else 255
        return np.clip(values / top, 0.0, 1.0)
    if image.mode == "F":
        return np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    if image.mode not in {"L", "1"}:
        image = image.convert("RGBA").convert("L") if "A" in image.mode or image.mode == "P" \
            else image.convert("L")
    return np.asarray(image.convert("L"), dtype=np.float64) / 255.0


def _parse_metadata(raw: str | None, path: Path) -> dict | None:
    if raw is None:
        return None
    try:
        metadata = json.loads(raw)
        if not {"config", "gain_db", "num_samples"} <= set(metadata):
            raise ValueError("missing keys")
        return metadata
    except (json.JSONDecodeError, ValueError, TypeError):
        raise InputError(f"'{path}' has a damaged '{METADATA_KEY}' metadata chunk") from None
