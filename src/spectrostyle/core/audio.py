"""Audio I/O: load any common audio file as mono float32 at a chosen rate; save WAV atomically."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from spectrostyle.core.errors import InputError
from spectrostyle.core.outputs import atomic_output, check_output_path

__all__ = ["DEFAULT_MAX_SECONDS", "DEFAULT_SAMPLE_RATE", "SAVE_SUBTYPES", "SILENCE_PEAK", "atomic_output",
           "check_output_path", "load_audio", "save_audio", "write_wav"]

DEFAULT_SAMPLE_RATE = 16_000


DEFAULT_MAX_SECONDS = 600.0


SILENCE_PEAK = 1e-5  # below -100 dBFS everywhere counts as silence


SAVE_SUBTYPES = {"pcm16": "PCM_16", "float": "FLOAT"}


def _describe(path: Path) -> str:
    return f"'{path}'"


def load_audio(
    path: str | os.PathLike,
    *,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> np.ndarray:
    """Load an audio file (WAV, FLAC, OGG, MP3; any rate, depth, channels) as mono float32.

    Channels are averaged; the rate is converted with soxr (high quality). Returns ``(samples,)``
    float32 at ``sample_rate`` Hz. Raises :class:`InputError` with a one-line message for a missing
    path, a directory, a file that is not audio or is truncated, zero length, all silence, NaN/Inf
    samples, or a duration over ``max_seconds``.
    """
    path = Path(path)
    if sample_rate <= 0:
        raise InputError(f"sample rate must be positive, got {sample_rate}")
    if not max_seconds > 0:
        raise InputError(f"the length limit must be positive, got {max_seconds:g} s")
    if not path.exists():
        raise InputError(f"no such file: {_describe(path)}")
    if path.is_dir():
        raise InputError(f"{_describe(path)} is a directory, not an audio file")
    if not path.is_file():
        raise InputError(f"{_describe(path)} is not a regular file (a device, pipe or socket); give an audio file")
    if path.stat().st_size == 0:
        raise InputError(f"{_describe(path)} is empty (0 bytes)")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise InputError(f"{_describe(path)} is not a readable audio file ({_first_line(exc)})") from None
    if info.samplerate <= 0 or info.channels <= 0:
        raise InputError(f"{_describe(path)} has an invalid header (rate {info.samplerate}, "
                         f"{info.channels} channels)")
    if info.frames == 0:
        raise InputError(f"{_describe(path)} has zero length (no samples)")
    if _is_truncated(path, info):
        raise InputError(f"{_describe(path)} is truncated or corrupt: the header promises more audio "
                         "than the file holds")
    if info.frames > 0 and info.duration > max_seconds:
        raise InputError(f"{_describe(path)} is {info.duration:.1f} s long, over the limit of "
                         f"{max_seconds:g} s")
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise InputError(f"{_describe(path)} could not be decoded ({_first_line(exc)})") from None
    if data.shape[0] == 0:
        raise InputError(f"{_describe(path)} has zero length (no samples)")
    if data.shape[0] / file_rate > max_seconds:
        raise InputError(f"{_describe(path)} is {data.shape[0] / file_rate:.1f} s long, over the limit of "
                         f"{max_seconds:g} s")
    if not np.isfinite(data).all():
        raise InputError(f"{_describe(path)} contains NaN or infinite samples")
    mono = data.mean(axis=1, dtype=np.float64).astype(np.float32)
    if np.abs(mono).max() < SILENCE_PEAK:
        raise InputError(f"{_describe(path)} is silent (peak below -100 dBFS)")
    if file_rate != sample_rate:
        resampled = soxr.resample(mono, file_rate, sample_rate, quality="HQ").astype(np.float32)
        mono = resampled if resampled.size else mono[:1]  # shorter than one sample at the new rate: keep one
    return np.ascontiguousarray(mono)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_DATA_CHUNK_LOG = re.compile(r"^(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


_STREAMING_SIZE = 0xFFFF0000  # streamed WAVs (e.g. from a pipe) carry a placeholder size: not truncation


def _is_truncated(path: Path, info: sf._SoundFileInfo) -> bool:
    """True when the header promises more audio bytes than the file holds.

    libsndfile quietly reads what is there, so a cut-off download would pass unnoticed; its log
    (``extra_info``) records the mismatch as ``data : CLAIMED (should be ACTUAL)``.
    """
    for claimed, actual in _DATA_CHUNK_LOG.findall(info.extra_info or ""):
        if int(actual) < int(claimed) < _STREAMING_SIZE:
            return True
    return False


def save_audio(
    path: str | os.PathLike,
    audio: np.ndarray,
    *,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    subtype: str = "pcm16",
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write ``audio`` (``(samples,)`` float, or ``(samples, channels)``) as a WAV file, atomically.

    ``subtype`` is ``"pcm16"`` (16-bit, samples clipped to [-1, 1]) or ``"float"`` (32-bit float).
    The file is written to a temporary name in the same folder and renamed, so an interrupted
    write never leaves a partial file. ``inputs`` are the paths the audio was made from: writing
    over one of them is refused. Returns the path written.
    """
    path = Path(path)
    if subtype not in SAVE_SUBTYPES:
        raise InputError(f"unknown WAV subtype '{subtype}' (choose from: {', '.join(SAVE_SUBTYPES)})")
    check_output_path(path, inputs)
    audio = _checked_audio(audio, path)
    with atomic_output(path) as tmp_path:
        write_wav(tmp_path, audio, sample_rate=sample_rate, subtype=subtype)
    return path


def _checked_audio(audio: np.ndarray, path: Path) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim not in (1, 2) or audio.shape[0] == 0:
        raise InputError(f"audio to save must be (samples,) or (samples, channels), got {audio.shape}")
    if not np.isfinite(audio).all():
        raise InputError(f"refusing to write {path}: the audio contains NaN or infinite samples")
    return audio


def write_wav(path: str | os.PathLike, audio: np.ndarray, *, sample_rate: int = DEFAULT_SAMPLE_RATE,
              subtype: str = "pcm16") -> None:
    """Write ``audio`` as a WAV file straight to ``path`` (a temporary file of
    :class:`~spectrostyle.core.outputs.staged_outputs`; :func:`save_audio` is the atomic, checked form)."""
    if subtype not in SAVE_SUBTYPES:
        raise InputError(f"unknown WAV subtype '{subtype}' (choose from: {', '.join(SAVE_SUBTYPES)})")
    audio = _checked_audio(audio, Path(path))
    if subtype == "pcm16":
        audio = np.clip(audio, -1.0, 1.0)
    sf.write(str(path), audio, sample_rate, subtype=SAVE_SUBTYPES[subtype], format="WAV")
