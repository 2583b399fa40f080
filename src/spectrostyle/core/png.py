"""Spectrogram images as 16-bit grey PNG files that carry what is needed to invert them.

The PNG shows low frequencies at the bottom, as people expect; the metadata (spectrogram config, gain in
dB, audio length, channels) sits in an ``iTXt`` chunk named ``spectrostyle``. A sound of several channels is one
image of their spectrograms stacked, the first channel on top, all at one gain. A PNG edited in an image editor that
dropped the chunk, or saved as 8-bit or colour, still loads: the caller decides which config to assume.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from spectrostyle.core.errors import InputError
from spectrostyle.core.outputs import atomic_output, check_output_path
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig

METADATA_KEY = "spectrostyle"


DEFAULT_GAIN_DB = -20.0  # level assumed for pixel 1 when a PNG carries no metadata


MAX_PIXEL_16BIT = 65535


Channels = Spectrogram | Sequence[Spectrogram]


def save_png(path: str | os.PathLike, spectrogram: Channels, *, inputs=()) -> Path:
    """Write ``spectrogram`` (or one per channel) as a 16-bit grey PNG with its metadata, atomically. Returns the
    path."""
    path = Path(path)
    check_output_path(path, inputs)
    with atomic_output(path) as tmp_path:
        write_png(tmp_path, spectrogram)
    return path


def write_png(path: str | os.PathLike, spectrogram: Channels) -> None:
    """Write ``spectrogram`` as a 16-bit grey PNG with its metadata straight to ``path`` (a temporary file of
    :class:`~spectrostyle.core.outputs.staged_outputs`; :func:`save_png` is the atomic, checked form). Several
    spectrograms (the channels of one sound: one config, gain and length) are stacked, the first on top."""
    channels = [spectrogram] if isinstance(spectrogram, Spectrogram) else list(spectrogram)
    first = channels[0]
    if any((c.config, c.gain_db, c.num_samples) != (first.config, first.gain_db, first.num_samples)
           for c in channels):
        raise InputError("the channels of one PNG need one spectrogram config, gain and length")
    pixels = np.concatenate([c.image.detach().cpu().clamp(0, 1).flip(0).numpy() for c in channels])  # top: high
    quantised = np.round(pixels * MAX_PIXEL_16BIT).astype(np.uint16)
    metadata = first.metadata()
    if len(channels) > 1:
        metadata["channels"] = len(channels)
    info = PngImagePlugin.PngInfo()
    info.add_itxt(METADATA_KEY, json.dumps(metadata, sort_keys=True))
    Image.fromarray(quantised).save(path, format="PNG", pnginfo=info)


def load_png(path: str | os.PathLike, *, config: SpectrogramConfig | None = None, gain_db: float | None = None,
             ignore_metadata: bool = False, notify: Callable[[str], object] | None = None
             ) -> tuple[Spectrogram, bool]:
    """Read a one-channel spectrogram PNG (see :func:`load_png_channels`). Returns ``(spectrogram, had_metadata)``."""
    channels, had_metadata = load_png_channels(path, config=config, gain_db=gain_db, ignore_metadata=ignore_metadata,
                                               notify=notify)
    if len(channels) > 1:
        raise InputError(f"'{path}' holds {len(channels)} channels; one is needed here")
    return channels[0], had_metadata


def load_png_channels(path: str | os.PathLike, *, config: SpectrogramConfig | None = None,
                      gain_db: float | None = None, ignore_metadata: bool = False,
                      notify: Callable[[str], object] | None = None) -> tuple[list[Spectrogram], bool]:
    """Read a spectrogram PNG: one spectrogram per channel it holds. Returns ``(spectrograms, had_metadata)``.

    Metadata in the file wins (unless ``ignore_metadata``); without it, ``config`` (default
    :class:`SpectrogramConfig`) and ``gain_db`` (default -20 dB) are assumed and the audio length follows from the
    width. The whole image is inverted: the length in the metadata is a hint, kept when the image holds it, and
    replaced by the width's when the canvas was widened or cropped in an editor (``notify`` is told). Colour images
    are converted to grey (luminance); 8- and 16-bit images are scaled to [0, 1]. The height must equal
    ``config.n_freq`` times the channels (one without metadata).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: '{path}'")
    if path.is_dir():
        raise InputError(f"'{path}' is a directory, not an image")
    if not path.is_file():
        raise InputError(f"'{path}' is not a regular file (a device, pipe or socket); give a PNG file")
    if path.stat().st_size == 0:
        raise InputError(f"'{path}' is empty (0 bytes)")
    try:
        with Image.open(path) as image:
            image.load()
            text = dict(getattr(image, "text", {}) or {})
            pixels = _grey_pixels(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"'{path}' is not a readable image ({exc})") from None
    metadata = None if ignore_metadata else _parse_metadata(text.get(METADATA_KEY), path)
    width = pixels.shape[1]
    if width < 2:
        raise InputError(f"'{path}' is {width} pixel wide; a spectrogram needs at least 2 frames")
    if metadata is not None:
        try:
            config = SpectrogramConfig.from_dict(dict(metadata["config"]))
            gain, stored = float(metadata["gain_db"]), int(metadata["num_samples"])
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"'{path}' has a damaged '{METADATA_KEY}' metadata chunk "
                             "(--ignore-metadata reads the pixels alone)") from None
        if stored < 1 or not np.isfinite(gain):
            raise InputError(f"'{path}' has a damaged '{METADATA_KEY}' metadata chunk "
                             "(--ignore-metadata reads the pixels alone)")
        num_samples = _length(stored, width, config, path, notify)
    else:
        config = config or SpectrogramConfig()
        gain = DEFAULT_GAIN_DB if gain_db is None else float(gain_db)
        num_samples = config.padded_samples(width)
    channels = _channels(metadata, path)
    if pixels.shape[0] != config.n_freq * channels:
        held = f"{channels} channels of " if channels > 1 else ""
        raise InputError(f"'{path}' is {pixels.shape[0]} pixels high, but {held}spectrograms with n_fft "
                         f"{config.n_fft} are {config.n_freq * channels} high")
    return [Spectrogram(image=torch.from_numpy(np.ascontiguousarray(part[::-1])).float(), gain_db=gain,
                        num_samples=num_samples, config=config)
            for part in np.split(pixels, channels)], metadata is not None


def _channels(metadata: dict | None, path: Path) -> int:
    """The channel count a PNG's metadata names (1 when it names none)."""
    value = 1 if metadata is None else metadata.get("channels", 1)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 64:
        raise InputError(f"'{path}' has a damaged '{METADATA_KEY}' metadata chunk "
                         "(--ignore-metadata reads the pixels alone)")
    return value


def _length(stored: int, width: int, config: SpectrogramConfig, path: Path,
            notify: Callable[[str], object] | None) -> int:
    """The audio length of an image ``width`` frames wide whose metadata names ``stored`` samples: ``stored`` while
    the image holds it and was not widened; else what the width holds."""
    held = config.padded_samples(width)
    if held >= stored and width <= config.num_frames(stored):
        return stored
    rate = config.sample_rate
    change = "widened" if held > stored else "cropped"
    if notify is not None:
        notify(f"'{path}' is {width} frames wide ({held / rate:.2f} s), its metadata names {stored / rate:.2f} s: "
               f"{change} in an editor? Inverting the whole image (--ignore-metadata ignores the metadata)")
    return held


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
        raise InputError(f"'{path}' has a damaged '{METADATA_KEY}' metadata chunk "
                         "(--ignore-metadata reads the pixels alone)") from None
