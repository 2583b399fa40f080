"""SoundFont 2 (SF2) files, which FluidSynth and most General MIDI players load: one preset, one instrument, a zone
per sample and channel.

Written by hand from the SoundFont 2.01 specification (RIFF chunks of fixed-size records): the maintained Python
SoundFont packages read SF2 files but do not write them. Samples are 16-bit; a stereo sample is a linked left/right
pair, panned hard left and right.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spectrostyle.instrument.sfz import RELEASE_S

PAD_SAMPLES = 46  # the specification's silence after every sample
# generator numbers (SoundFont 2.01, section 8.1.2)
PAN, RELEASE_VOL_ENV, INSTRUMENT, KEY_RANGE, VEL_RANGE, SAMPLE_ID, SAMPLE_MODES, ROOT_KEY = 17, 38, 41, 43, 44, 53, \
    54, 58
MONO, RIGHT, LEFT = 1, 2, 4  # sample types


@dataclass(frozen=True)
class Zone:
    """One sample of the instrument: ``audio`` ``(samples, channels)`` float in [-1, 1] (one or two channels) at
    ``sample_rate``, its root key, key and velocity ranges, and loop ``(start, end)`` in samples or None."""

    name: str
    audio: np.ndarray
    sample_rate: int
    root: int
    keys: tuple[int, int]
    velocities: tuple[int, int]
    loop: tuple[int, int] | None


def _chunk(tag: bytes, data: bytes) -> bytes:
    return tag + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _list(kind: bytes, *chunks: bytes) -> bytes:
    return _chunk(b"LIST", kind + b"".join(chunks))


def _name(text: str) -> bytes:
    return text.encode("ascii", "replace")[:19].ljust(20, b"\0")


def _text(text: str) -> bytes:
    raw = text.encode("ascii", "replace")[:255] + b"\0"
    return raw + (b"\0" if len(raw) % 2 else b"")


def _gen(operator: int, amount: int) -> bytes:
    return struct.pack("<Hh", operator, amount)


def _range(operator: int, low: int, high: int) -> bytes:
    return struct.pack("<HBB", operator, low, high)


def sf2_bytes(name: str, zones: list[Zone]) -> bytes:
    """The SF2 file of ``zones`` as one preset (bank 0, program 0) named ``name``."""
    samples: list[np.ndarray] = []
    headers: list[bytes] = []
    instrument_gens: list[bytes] = []
    bags: list[bytes] = []
    offset = 0
    release = round(1200 * math.log2(RELEASE_S))  # timecents
    for zone in zones:
        audio = np.atleast_2d(np.asarray(zone.audio, dtype=np.float32).T).T  # (samples, channels)
        channels = audio.shape[1]
        if channels > 2:
            raise ValueError(f"an SF2 sample has one or two channels, not {channels}")
        first_index = len(headers)
        for channel in range(channels):
            pcm = np.round(np.clip(audio[:, channel], -1.0, 1.0) * 32767).astype("<i2")
            samples += [pcm, np.zeros(PAD_SAMPLES, dtype="<i2")]
            start, end = offset, offset + len(pcm)
            loop_start, loop_end = (start + zone.loop[0], start + zone.loop[1]) if zone.loop else (start, end)
            kind, link = (MONO, 0) if channels == 1 else ((LEFT, first_index + 1) if channel == 0
                                                          else (RIGHT, first_index))
            suffix = "" if channels == 1 else "LR"[channel]
            headers.append(_name(f"{zone.name[:18]}{suffix}") + struct.pack(
                "<IIIIIBbHH", start, end, loop_start, loop_end, zone.sample_rate, zone.root, 0, link, kind))
            offset = end + PAD_SAMPLES
            gens = [_range(KEY_RANGE, *zone.keys), _range(VEL_RANGE, *zone.velocities)]
            if channels == 2:
                gens.append(_gen(PAN, -500 if channel == 0 else 500))
            gens += [_gen(RELEASE_VOL_ENV, release), _gen(SAMPLE_MODES, 1 if zone.loop else 0),
                     _gen(ROOT_KEY, zone.root), _gen(SAMPLE_ID, len(headers) - 1)]
            bags.append(struct.pack("<HH", len(instrument_gens), 0))
            instrument_gens += gens
    bags.append(struct.pack("<HH", len(instrument_gens), 0))
    pdta = _list(
        b"pdta",
        _chunk(b"phdr", _name(name) + struct.pack("<HHHIII", 0, 0, 0, 0, 0, 0)
               + _name("EOP") + struct.pack("<HHHIII", 0, 0, 1, 0, 0, 0)),
        _chunk(b"pbag", struct.pack("<HH", 0, 0) + struct.pack("<HH", 1, 0)),
        _chunk(b"pmod", bytes(10)),
        _chunk(b"pgen", _gen(INSTRUMENT, 0) + bytes(4)),
        _chunk(b"inst", _name(name) + struct.pack("<H", 0) + _name("EOI") + struct.pack("<H", len(bags) - 1)),
        _chunk(b"ibag", b"".join(bags)),
        _chunk(b"imod", bytes(10)),
        _chunk(b"igen", b"".join(instrument_gens) + bytes(4)),
        _chunk(b"shdr", b"".join(headers) + _name("EOS") + bytes(26)),
    )
    info = _list(b"INFO", _chunk(b"ifil", struct.pack("<HH", 2, 1)), _chunk(b"isng", _text("EMU8000")),
                 _chunk(b"INAM", _text(name)), _chunk(b"ISFT", _text("spectrostyle")))
    sdta = _list(b"sdta", _chunk(b"smpl", b"".join(s.tobytes() for s in samples)))
    return _chunk(b"RIFF", b"sfbk" + info + sdta + pdta)


def read_sample_headers(path: Path) -> list[dict[str, int | str]]:
    """The sample headers of an SF2 file (name, start, end, loop start/end, rate, root, type), the terminal one left
    out: enough to check what :func:`sf2_bytes` wrote."""
    data = Path(path).read_bytes()
    at = data.find(b"shdr")
    if at < 0:
        raise ValueError(f"'{path}' has no sample headers")
    size = struct.unpack_from("<I", data, at + 4)[0]
    headers = []
    for record in range(size // 46 - 1):
        fields = struct.unpack_from("<20sIIIIIBbHH", data, at + 8 + 46 * record)
        headers.append({"name": fields[0].rstrip(b"\0").decode("ascii"), "start": fields[1], "end": fields[2],
                        "loop_start": fields[3], "loop_end": fields[4], "sample_rate": fields[5], "root": fields[6],
                        "type": fields[9]})
    return headers
