"""Audio I/O: load any common audio file as mono float32 at a chosen rate; save WAV atomically."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from spectrostyle.core.errors import InputError

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
    if not path.exists():
        raise InputError(f"no such file: {_describe(path)}")
    if path.is_dir():
        raise InputError(f"{_describe(path)} is a directory, not an audio file")
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
        mono = soxr.resample(mono, file_rate, sample_rate, quality="HQ").astype(np.float32)
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
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim not in (1, 2) or audio.shape[0] == 0:
        raise InputError(f"audio to save must be (samples,) or (samples, channels), got {audio.shape}")
    if not np.isfinite(audio).all():
        raise InputError(f"refusing to write {path}: the audio contains NaN or infinite samples")
    if subtype == "pcm16":
        audio = np.clip(audio, -1.0, 1.0)
    with atomic_output(path) as tmp_path:
        sf.write(str(tmp_path), audio, sample_rate, subtype=SAVE_SUBTYPES[subtype], format="WAV")
    return path


def check_output_path(path: Path, inputs: Iterable[str | os.PathLike] = ()) -> None:
    """Refuse an output path that is a directory, sits in a missing folder, or is one of ``inputs``."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"output '{path}' is a directory; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise InputError(f"output folder '{parent}' does not exist")
    resolved = path.resolve()
    for source in inputs:
        source = Path(source)
        if resolved == source.resolve() or (path.exists() and source.exists() and path.samefile(source)):
            raise InputError(f"output '{path}' is also an input; choose another output path")


class atomic_output:  # noqa: N801 - used as a context manager, reads like a function
    """Context manager yielding a temporary path beside ``path``; renamed onto ``path`` on success.

    On any exception (Ctrl-C included) the temporary file is removed and ``path`` is left untouched.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.tmp_path: Path | None = None

    def __enter__(self) -> Path:
        parent = self.path.parent if str(self.path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp" + self.path.suffix,
                                   dir=parent)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes owner-only files; give the usual permissions
        self.tmp_path = Path(tmp)
        return self.tmp_path

    def __exit__(self, exc_type, exc, tb) -> bool:
        assert self.tmp_path is not None
        if exc_type is None:
            os.replace(self.tmp_path, self.path)
        else:
            self.tmp_path.unlink(missing_ok=True)
        return False
