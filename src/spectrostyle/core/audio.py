"""Audio I/O: load any common audio file as mono float32 at a chosen rate; save WAV atomically."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from spectrostyle.core.errors import InputError
from spectrostyle.core.outputs import atomic_output, check_output_path

__all__ = ["AudioFormat", "BIT_DEPTHS", "DEFAULT_MAX_SECONDS", "DEFAULT_SAMPLE_RATE", "MAX_PROCESSING_RATE",
           "Recording", "SAVE_SUBTYPES", "SILENCE_PEAK", "atomic_output", "check_output_format", "check_output_path",
           "file_format", "fit_length", "load_audio", "mono_at", "output_container", "read_audio", "save_audio",
           "write_audio", "write_wav"]

DEFAULT_SAMPLE_RATE = 16_000


DEFAULT_MAX_SECONDS = 600.0
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")  # what a folder of audio is searched for


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
    if sample_rate <= 0:
        raise InputError(f"sample rate must be positive, got {sample_rate}")
    samples, file_rate = read_audio(path, max_seconds=max_seconds)
    return mono_at(samples, file_rate, sample_rate, what=_describe(Path(path)))


def mono_at(samples: np.ndarray, rate: int, sample_rate: int, *, what: str = "the sound") -> np.ndarray:
    """``samples`` ``(samples, channels)`` at ``rate`` -> their mix ``(samples,)`` float32 at ``sample_rate`` (soxr,
    high quality); :class:`InputError` when the channels cancel to silence."""
    mono = np.asarray(samples, dtype=np.float32).mean(axis=1, dtype=np.float64).astype(np.float32)
    if np.abs(mono).max() < SILENCE_PEAK:
        raise InputError(f"{what} is silent once its channels are mixed to mono (they cancel)")
    if rate != sample_rate:
        resampled = soxr.resample(mono, rate, sample_rate, quality="HQ").astype(np.float32)
        mono = resampled if resampled.size else mono[:1]  # shorter than one sample at the new rate: keep one
    return np.ascontiguousarray(mono)


def read_audio(path: str | os.PathLike, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> tuple[np.ndarray, int]:
    """An audio file as it is: ``(samples, channels)`` float32 and its sample rate in Hz, with the checks of
    :func:`load_audio` (one-line :class:`InputError` for anything that is not usable audio)."""
    path = Path(path)
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
    if np.abs(data).max() < SILENCE_PEAK:
        raise InputError(f"{_describe(path)} is silent (peak below -100 dBFS)")
    return np.ascontiguousarray(data), int(file_rate)


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


BIT_DEPTHS = ("16", "24", "float")  # what a result can be written as
OUTPUT_SUFFIXES = {".wav": "WAV", ".flac": "FLAC"}
_SUBTYPE_OF_DEPTH = {"16": "PCM_16", "24": "PCM_24", "float": "FLOAT"}
MAX_PROCESSING_RATE = 48_000  # results are made at most at this rate; files at higher rates come back at their own


@dataclass(frozen=True)
class Recording:
    """A sound in memory as a file would hold it: ``samples`` ``(samples, channels)`` float32 at ``sample_rate`` Hz,
    to be stored at ``bit_depth`` (one of :data:`BIT_DEPTHS`)."""

    samples: np.ndarray
    sample_rate: int
    bit_depth: str = "24"


@dataclass(frozen=True)
class AudioFormat:
    """How a sound is stored: ``sample_rate`` in Hz, ``channels``, ``bit_depth`` one of :data:`BIT_DEPTHS`."""

    sample_rate: int
    channels: int
    bit_depth: str

    def describe(self) -> str:
        depth = "32-bit float" if self.bit_depth == "float" else f"{self.bit_depth}-bit"
        layout = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return f"{self.sample_rate / 1000:g} kHz {layout} {depth}"


def file_format(path: str | os.PathLike) -> AudioFormat:
    """The rate, channels and bit depth of an audio file (24 for 24- and 32-bit integer files, float for float ones,
    16 for everything else, lossy files included)."""
    info = sf.info(str(path))
    subtype = (info.subtype or "").upper()
    depth = "24" if subtype in ("PCM_24", "PCM_32") else "float" if subtype in ("FLOAT", "DOUBLE") else "16"
    return AudioFormat(int(info.samplerate), int(info.channels), depth)


def output_container(path: str | os.PathLike) -> str:
    """``WAV`` or ``FLAC`` by the file name's extension; anything else is refused."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InputError(f"'{path}': results are written as .wav or .flac, not '{suffix or 'no extension'}'")
    return OUTPUT_SUFFIXES[suffix]


def check_output_format(path: str | os.PathLike, bit_depth: str | None) -> None:
    """Refuse an output name or a bit depth the container cannot hold (FLAC holds 16- and 24-bit samples)."""
    container = output_container(path)
    if bit_depth is not None and bit_depth not in BIT_DEPTHS:
        raise InputError(f"bit depth must be one of {', '.join(BIT_DEPTHS)}, got '{bit_depth}'")
    if container == "FLAC" and bit_depth == "float":
        raise InputError(f"'{path}': FLAC holds 16- or 24-bit samples; write .wav for 32-bit float")


def write_audio(path: str | os.PathLike, audio: np.ndarray, *, sample_rate: int, bit_depth: str = "16",
                container: str | None = None) -> None:
    """Write ``audio`` ``(samples,)`` or ``(samples, channels)`` straight to ``path`` as WAV or FLAC (``container``,
    default by ``path``'s extension) with ``bit_depth`` 16, 24 or float (FLAC: a float request is stored as 24-bit).
    Integer depths are clipped to [-1, 1]; the caller keeps the level below that (:mod:`spectrostyle.core.loudness`).
    Temporary files of :class:`~spectrostyle.core.outputs.staged_outputs` have other extensions: pass
    ``container``."""
    container = container or output_container(path)
    if bit_depth not in BIT_DEPTHS:
        raise InputError(f"bit depth must be one of {', '.join(BIT_DEPTHS)}, got '{bit_depth}'")
    audio = _checked_audio(audio, Path(path))
    if container == "FLAC" and bit_depth == "float":
        bit_depth = "24"
    if bit_depth != "float":
        audio = np.clip(audio, -1.0, 1.0)
    sf.write(str(path), audio, sample_rate, subtype=_SUBTYPE_OF_DEPTH[bit_depth], format=container)


def fit_length(audio: np.ndarray, num_samples: int) -> np.ndarray:
    """``audio`` ``(samples, ...)`` cut or padded with silence to ``num_samples``."""
    if len(audio) >= num_samples:
        return audio[:num_samples]
    return np.pad(audio, [(0, num_samples - len(audio))] + [(0, 0)] * (audio.ndim - 1))


class CrossFaded:
    """Segments that overlap by ``overlap`` samples, cross-faded (equal gain) into one array of ``length`` samples as
    they come (shaped like ``like`` past its first axis)."""

    def __init__(self, length: int, overlap: int, like: np.ndarray):
        self.audio = np.zeros((length,) + like.shape[1:], dtype=np.float32)
        self.overlap = overlap
        self.written = 0

    def add(self, piece: np.ndarray) -> None:
        start = max(0, self.written - self.overlap) if self.written else 0
        piece = piece[: len(self.audio) - start]
        shared = min(self.written - start, len(piece))
        if shared > 0:
            fade = np.linspace(0.0, 1.0, shared, dtype=np.float32).reshape((-1,) + (1,) * (piece.ndim - 1))
            self.audio[start:start + shared] = self.audio[start:start + shared] * (1.0 - fade) + piece[:shared] * fade
        self.audio[start + shared:start + len(piece)] = piece[shared:]
        self.written = start + len(piece)


OUTPUT_PEAK = 0.98  # limit_peak: audio is never louder than this (scaled down if needed)


def limit_peak(audio: np.ndarray, peak: float = OUTPUT_PEAK) -> np.ndarray:
    """Scale ``audio`` down if its peak exceeds ``peak``. Only prevents clipping (a
    training sample's reconstruction, at its content's level)."""
    current = float(np.abs(audio).max()) if audio.size else 0.0
    if current <= peak:
        return audio.astype(np.float32)
    return (audio * (peak / current)).astype(np.float32)
