"""Render an NSynth-format dataset from a General MIDI SoundFont with FluidSynth.

Each note is NSynth's layout: 4 s of mono audio at 16 kHz (configurable), the key held for 3 s and
released for the last second. Reverb and chorus are off and every note starts from the same synth state,
so rendering is deterministic (the same note gives bit-identical samples). The output folder follows
NSynth's json/wav release: ``examples.json`` (a dict keyed by ``note_str``) and ``audio/<note_str>.wav``
(16-bit PCM).

GM program numbers here are 0-based (0 = Acoustic Grand Piano); MIDI pitches and velocities are 0-127.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spectrostyle.core.audio import atomic_output, save_audio
from spectrostyle.core.errors import InputError
from spectrostyle.core.vocabulary import FAMILIES, NSYNTH_VELOCITIES, QUALITIES
from spectrostyle.data.programs import GMProgram, family_programs

SOUNDFONT_ENV = "SPECTROSTYLE_SOUNDFONT"


SOUNDFONT_DIR = Path("/usr/share/sounds/sf2")


SOUNDFONT_NAMES: tuple[str, ...] = ("FluidR3_GM.sf2", "FluidR3_GM.sf3", "default-GM.sf2")


DEFAULT_SAMPLE_RATE = 16_000


RENDER_RATE = 44_100  # FluidR3's own rate; rendering at 16 kHz directly aliases bright notes


NOTE_SECONDS = 4.0


HOLD_SECONDS = 3.0


# synth.gain: FluidR3_GM's notes peak at 0.16 or less at FluidSynth's default 0.2. At 0.8 the loudest note
# of the table (every program, pitch in range, velocity 127) peaks at 0.65 (-3.8 dBFS) and velocity-25
# notes stay far above the 16-bit floor; anything past full scale would still be clipped to [-1, 1].
DEFAULT_GAIN = 0.8


BLOCK = 64  # FluidSynth renders in blocks of 64 frames; events take effect on block boundaries


MAX_TAIL_BLOCKS = 2_000  # at most ~3 s at 44.1 kHz to let killed voices finish between notes


SILENT_PEAK = 1e-4  # a rendered note quieter than -80 dBFS everywhere is not written


JSON_NAME = "examples.json"


AUDIO_DIR = "audio"


SAVE_EVERY = 200  # rewrite examples.json after this many newly rendered notes


def default_soundfont() -> Path:
    """The General MIDI SoundFont to use: ``$SPECTROSTYLE_SOUNDFONT`` if set, else Debian's FluidR3_GM.

    Raises :class:`InputError` (with what to install) when none exists.
    """
    configured = os.environ.get(SOUNDFONT_ENV)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise InputError(f"{SOUNDFONT_ENV} is set to '{path}', which is not a file")
        return path
    for name in SOUNDFONT_NAMES:
        path = SOUNDFONT_DIR / name
        if path.is_file():
            return path
    raise InputError(f"no General MIDI SoundFont found in {SOUNDFONT_DIR}: install one with "
                     "'sudo apt-get install fluid-soundfont-gm', pass --soundfont FILE.sf2, or set "
                     f"{SOUNDFONT_ENV}")


def _check_soundfont(soundfont: str | os.PathLike | None) -> Path:
    if soundfont is None:
        return default_soundfont()
    path = Path(soundfont).expanduser()
    if not path.exists():
        raise InputError(f"SoundFont '{path}' does not exist")
    if not path.is_file():
        raise InputError(f"SoundFont '{path}' is not a file")
    return path


def _check_midi(value: int, what: str, low: int = 0, high: int = 127) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
        raise InputError(f"{what} must be an integer in {low}..{high}, got {value!r}")
    return int(value)


class NoteRenderer:
    """A FluidSynth synth with one SoundFont loaded, rendering single notes as mono float32 arrays.

    Reverb and chorus are off. Before each note the same note is struck and killed once, so every
    FluidSynth voice slot it uses starts in the same state: rendering is deterministic and independent of
    the notes rendered before. Notes are rendered at ``render_rate`` and resampled to ``sample_rate``
    with soxr. Use as a context manager or call :meth:`close`.
    """

    def __init__(self, soundfont: str | os.PathLike | None = None, *, sample_rate: int = DEFAULT_SAMPLE_RATE,
                 gain: float = DEFAULT_GAIN, render_rate: int = RENDER_RATE):
        self.soundfont = _check_soundfont(soundfont)
        if not 8_000 <= sample_rate <= 192_000:
            raise InputError(f"sample rate must be in 8000..192000 Hz, got {sample_rate}")
        if not 8_000 <= render_rate <= 96_000:
            raise InputError(f"FluidSynth render rate must be in 8000..96000 Hz, got {render_rate}")
        if not 0 < gain <= 10:
            raise InputError(f"synth gain must be in (0, 10], got {gain}")
        self.sample_rate = int(sample_rate)
        self.render_rate = int(render_rate)
        self.gain = float(gain)
        try:
            import fluidsynth
        except ImportError as exc:  # pyfluidsynth raises ImportError when libfluidsynth is missing
            raise InputError(f"FluidSynth is not available ({exc}); install libfluidsynth3 and "
                             "pyfluidsynth") from None
        self._fluidsynth = fluidsynth
        write_float = ctypes.CDLL(fluidsynth.lib).fluid_synth_write_float
        write_float.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        write_float.restype = ctypes.c_int
        self._write_float = write_float
        settings: dict[str, Any] = {"synth.reverb.active": 0, "synth.chorus.active": 0,
                                    "synth.cpu-cores": 1, "synth.midi-channels": 16}
        self._synth = fluidsynth.Synth(gain=self.gain, samplerate=float(self.render_rate), **settings)
        self._sfid = self._synth.sfload(str(self.soundfont))
        if self._sfid < 0:
            self.close()
            raise InputError(f"FluidSynth could not load '{self.soundfont}' as a SoundFont")

    def __enter__(self) -> NoteRenderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the synth (idempotent)."""
        synth = getattr(self, "_synth", None)
        if synth is not None:
            self._synth = None
            synth.delete()

    def _render(self, frames: int) -> np.ndarray:
        """Render ``frames`` (a multiple of :data:`BLOCK`) stereo frames -> ``(frames, 2)`` float32."""
        out = np.zeros((frames, 2), dtype=np.float32)
        pointer = out.ctypes.data
        if self._write_float(self._synth.synth, frames, pointer, 0, 2, pointer, 1, 2) != 0:
            raise RuntimeError("fluid_synth_write_float failed")
        return out

    def _silence(self) -> None:
        """Kill every voice and render until none is left, so nothing carries over to the next note."""
        self._synth.all_notes_off(0)
        self._synth.all_sounds_off(0)
        for _ in range(MAX_TAIL_BLOCKS):
            self._render(BLOCK)
            if self._synth.get_active_voice_count() == 0:
                return
        raise RuntimeError("FluidSynth voices did not stop after all-sounds-off")

    def render(self, program: int, pitch: int, velocity: int = 100, *, duration: float = NOTE_SECONDS,
               hold: float = HOLD_SECONDS) -> np.ndarray:
        """One note: ``(round(duration * sample_rate),)`` float32 mono in [-1, 1].

        ``program`` is a 0-based GM program (bank 0), ``pitch`` and ``velocity`` MIDI values; the key is
        held for ``hold`` seconds, then released for the rest of ``duration``.
        """
        if self._synth is None:
            raise InputError("this NoteRenderer is closed")
        program = _check_midi(program, "GM program")
        pitch = _check_midi(pitch, "MIDI pitch")
        velocity = _check_midi(velocity, "MIDI velocity", 1, 127)
        if not 0 < hold <= duration or duration > 60:
            raise InputError(f"need 0 < hold <= duration <= 60 s, got hold {hold} s, duration {duration} s")
        synth = self._synth
        if synth.program_select(0, self._sfid, 0, program) != 0:
            raise InputError(f"SoundFont '{self.soundfont.name}' has no preset for GM program {program} "
                             "(bank 0)")
        self._silence()
        # Prime: the same note, struck and killed, leaves its voice slots with this note's mixing gains
        # (FluidSynth ramps a reused voice from the previous occupant's gains over the first block).
        synth.noteon(0, pitch, velocity)
        self._render(BLOCK)
        self._silence()
        hold_blocks = math.ceil(hold * self.render_rate / BLOCK)
        total_frames = round(duration * self.render_rate)
        total_blocks = max(math.ceil(total_frames / BLOCK), hold_blocks)
        synth.noteon(0, pitch, velocity)
        held = self._render(hold_blocks * BLOCK)
        synth.noteoff(0, pitch)
        released = self._render((total_blocks - hold_blocks) * BLOCK)
        self._silence()
        stereo = np.concatenate([held, released])[:total_frames]
        mono = stereo.mean(axis=1, dtype=np.float64).astype(np.float32)
        num_samples = round(duration * self.sample_rate)
        if self.sample_rate != self.render_rate:
            import soxr

            mono = soxr.resample(mono, self.render_rate, self.sample_rate, quality="HQ").astype(np.float32)
        if mono.shape[0] < num_samples:
            mono = np.pad(mono, (0, num_samples - mono.shape[0]))
        return np.ascontiguousarray(np.clip(mono[:num_samples], -1.0, 1.0), dtype=np.float32)


    def render_events(self, events: Sequence[tuple[float, str, int, int, int]], seconds: float) -> np.ndarray:
        """A performance: ``events`` ``(time_s, kind, channel, a, b)`` with ``kind`` one of ``note_on`` (key ``a``,
        velocity ``b``), ``note_off`` (key ``a``) and ``program`` (0-based program ``a`` of bank 0), in time order ->
        ``(round(seconds * sample_rate), 2)`` float32 stereo."""
        if self._synth is None:
            raise InputError("this NoteRenderer is closed")
        synth = self._synth
        self._silence()
        for channel in range(16):
            synth.program_select(channel, self._sfid, 0, 0)
        total = round(seconds * self.render_rate)
        parts, done = [], 0
        for time_s, kind, channel, a, b in events:
            due = min(total, int(round(time_s * self.render_rate)) // BLOCK * BLOCK)
            if due > done:
                parts.append(self._render(due - done))
                done = due
            if kind == "note_on" and b > 0:
                synth.noteon(channel, a, b)
            elif kind in ("note_on", "note_off"):
                synth.noteoff(channel, a)
            elif kind == "program":
                synth.program_select(channel, self._sfid, 0, a)
        rest = math.ceil(max(0, total - done) / BLOCK) * BLOCK
        if rest:
            parts.append(self._render(rest))
        self._silence()
        stereo = np.concatenate(parts)[:total] if parts else np.zeros((total, 2), dtype=np.float32)
        if self.sample_rate != self.render_rate:
            import soxr

            stereo = soxr.resample(stereo, self.render_rate, self.sample_rate, quality="HQ").astype(np.float32)
        return np.ascontiguousarray(stereo, dtype=np.float32)


def render_note(program: int, pitch: int, velocity: int = 100, *, soundfont: str | os.PathLike | None = None,
                sample_rate: int = DEFAULT_SAMPLE_RATE, duration: float = NOTE_SECONDS,
                hold: float = HOLD_SECONDS, gain: float = DEFAULT_GAIN) -> np.ndarray:
    """Render one note of GM ``program`` (0-based): ``(duration * sample_rate,)`` float32 mono in [-1, 1].

    NSynth's layout by default: 4 s at 16 kHz (64000 samples), key held 3 s, then 1 s of release.
    Loads the SoundFont each call; for many notes use a :class:`NoteRenderer`.
    """
    with NoteRenderer(soundfont, sample_rate=sample_rate, gain=gain) as renderer:
        return renderer.render(program, pitch, velocity, duration=duration, hold=hold)


def note_entry(gm: GMProgram, pitch: int, velocity: int, sample_rate: int = DEFAULT_SAMPLE_RATE
               ) -> dict[str, Any]:
    """The ``examples.json`` entry of one note, with NSynth's field names plus ``gm_program``.

    ``note`` is a stable id (``program * 16384 + pitch * 128 + velocity``), so entries from separate runs
    never collide.
    """
    instrument_str = gm.instrument_str
    return {
        "note": gm.program * 128 * 128 + pitch * 128 + velocity,
        "note_str": f"{instrument_str}-{pitch:03d}-{velocity:03d}",
        "instrument": gm.program,
        "instrument_str": instrument_str,
        "instrument_family": gm.family_id,
        "instrument_family_str": gm.family,
        "instrument_source": gm.source_id,
        "instrument_source_str": gm.source,
        "pitch": pitch,
        "velocity": velocity,
        "sample_rate": sample_rate,
        "qualities": [0] * len(QUALITIES),
        "qualities_str": [],
        "gm_program": gm.program,
    }


@dataclass
class RenderSummary:
    """What :func:`render_dataset` did. ``silent``: note_strs that rendered silent and were not written."""

    out_dir: Path
    total: int
    rendered: int
    skipped: int
    silent: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __str__(self) -> str:
        text = (f"{self.out_dir}: {self.total} notes planned, {self.rendered} rendered, {self.skipped} already "
                f"there, in {self.seconds:.1f} s")
        if self.silent:
            shown = ", ".join(self.silent[:5]) + (" ..." if len(self.silent) > 5 else "")
            text += f"; {len(self.silent)} silent and not written ({shown})"
        return text


def plan_notes(*, families: Iterable[str] | None = None, pitches: tuple[int, int] = (21, 108),
               pitch_step: int = 1, velocities: Iterable[int] = NSYNTH_VELOCITIES,
               programs_per_family: int | None = None, programs: Iterable[int] | None = None
               ) -> list[tuple[GMProgram, int, int]]:
    """The ``(program, pitch, velocity)`` triples :func:`render_dataset` renders, in its order.

    Order: families in NSynth order, programs most typical first, pitches then velocities ascending.
    Only pitches inside each program's playable range are included; ``programs`` (GM numbers 0-127) keeps only
    those programs (before ``programs_per_family`` counts). Raises :class:`InputError` for unknown families,
    bad ranges, or a listed program that is not in the chosen families.
    """
    family_list = _check_families(families)
    lo, hi = _check_pitches(pitches)
    if isinstance(pitch_step, bool) or not isinstance(pitch_step, int) or pitch_step < 1:
        raise InputError(f"pitch step must be a positive integer, got {pitch_step!r}")
    velocity_list = sorted({_check_midi(v, "velocity", 1, 127) for v in velocities})
    if not velocity_list:
        raise InputError("no velocities given")
    if programs_per_family is not None and (isinstance(programs_per_family, bool)
                                            or not isinstance(programs_per_family, int)
                                            or programs_per_family < 1):
        raise InputError(f"programs per family must be a positive integer, got {programs_per_family!r}")
    wanted = _check_programs(programs, family_list)
    plan = []
    for family in family_list:
        chosen = [gm for gm in family_programs(family) if wanted is None or gm.program in wanted]
        for gm in chosen[:programs_per_family]:
            for pitch in range(lo, hi + 1, pitch_step):
                if gm.plays(pitch):
                    plan.extend((gm, pitch, velocity) for velocity in velocity_list)
    return plan


def _check_programs(programs: Iterable[int] | None, families: Sequence[str]) -> set[int] | None:
    """The set of GM program numbers asked for (None: all); :class:`InputError` for a number outside 0..127 or a
    program that the chosen families do not have."""
    if programs is None:
        return None
    wanted = {_check_midi(p, "GM program") for p in programs}
    if not wanted:
        raise InputError("no GM programs given")
    offered = {gm.program for family in families for gm in family_programs(family)}
    missing = sorted(wanted - offered)
    if missing:
        raise InputError(f"GM program{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} "
                         f"{'are' if len(missing) > 1 else 'is'} not in the families {', '.join(families)}")
    return wanted


def _check_families(families: Iterable[str] | None) -> list[str]:
    if families is None:
        return list(FAMILIES)
    if isinstance(families, str):
        families = [families]
    requested = [str(f).strip() for f in families]
    unknown = [f for f in requested if f not in FAMILIES]
    if unknown:
        raise InputError(f"unknown instrument famil{'y' if len(unknown) == 1 else 'ies'} "
                         f"{', '.join(repr(f) for f in unknown)} (valid: {', '.join(FAMILIES)})")
    if not requested:
        raise InputError(f"no instrument families given (valid: {', '.join(FAMILIES)})")
    return [f for f in FAMILIES if f in requested]


def _check_pitches(pitches: Sequence[int]) -> tuple[int, int]:
    try:
        lo, hi = pitches
    except (TypeError, ValueError):
        raise InputError(f"pitch range must be (low, high), got {pitches!r}") from None
    lo = _check_midi(lo, "lowest pitch")
    hi = _check_midi(hi, "highest pitch")
    if lo > hi:
        raise InputError(f"pitch range {lo}-{hi} is empty: the low pitch is above the high one")
    return lo, hi


def _load_existing(json_path: Path) -> dict[str, dict[str, Any]]:
    if not json_path.exists():
        return {}
    try:
        entries = json.loads(json_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"existing '{json_path}' is not valid JSON ({exc}); move it away to start "
                         "afresh") from None
    if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
        raise InputError(f"existing '{json_path}' is not an NSynth examples.json (a dict of notes)")
    return entries


def _write_json(json_path: Path, entries: dict[str, dict[str, Any]]) -> None:
    """Write ``examples.json`` atomically, sorted by note_str, one note per line."""
    lines = [f"{json.dumps(key)}: {json.dumps(entries[key])}" for key in sorted(entries)]
    with atomic_output(json_path) as tmp:
        tmp.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def render_dataset(out_dir: str | os.PathLike, *, soundfont: str | os.PathLike | None = None,
                   families: Iterable[str] | None = None, pitches: tuple[int, int] = (21, 108),
                   pitch_step: int = 1, velocities: Iterable[int] = NSYNTH_VELOCITIES,
                   programs_per_family: int | None = None, programs: Iterable[int] | None = None,
                   sample_rate: int = DEFAULT_SAMPLE_RATE, gain: float = DEFAULT_GAIN, progress: bool = True
                   ) -> RenderSummary:
    """Render an NSynth-format dataset into ``out_dir``: ``examples.json`` and ``audio/<note_str>.wav``.

    Every ``(program, pitch, velocity)`` of :func:`plan_notes` becomes a 4 s, 16-bit mono WAV at
    ``sample_rate``. Resumable: notes whose WAV exists are not rendered again, and ``examples.json`` is
    merged with what is already there and written atomically (also every few hundred notes, and when
    interrupted). Notes that render silent are reported, not written. Returns a :class:`RenderSummary`.
    """
    started = time.perf_counter()
    plan = plan_notes(families=families, pitches=pitches, pitch_step=pitch_step, velocities=velocities,
                      programs_per_family=programs_per_family, programs=programs)
    soundfont_path = _check_soundfont(soundfont)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"dataset folder '{out}' exists and is not a folder")
    json_path = out / JSON_NAME
    entries = _load_existing(json_path)
    rates = {v.get("sample_rate") for v in entries.values()} - {sample_rate}
    if rates:
        raise InputError(f"'{json_path}' holds notes at {', '.join(map(str, sorted(rates, key=str)))} Hz, "
                         f"not {sample_rate} Hz; render into another folder")
    audio_dir = out / AUDIO_DIR
    audio_dir.mkdir(parents=True, exist_ok=True)

    from tqdm import tqdm

    summary = RenderSummary(out_dir=out, total=len(plan), rendered=0, skipped=0)
    renderer: NoteRenderer | None = None
    unsaved = 0
    try:
        with tqdm(plan, desc="rendering notes", unit="note", disable=not progress) as bar:
            for gm, pitch, velocity in bar:
                entry = note_entry(gm, pitch, velocity, sample_rate)
                wav_path = audio_dir / f"{entry['note_str']}.wav"
                if wav_path.exists():
                    summary.skipped += 1
                    if entries.get(entry["note_str"]) != entry:
                        entries[entry["note_str"]] = entry
                        unsaved += 1
                    continue
                if renderer is None:
                    renderer = NoteRenderer(soundfont_path, sample_rate=sample_rate, gain=gain)
                audio = renderer.render(gm.program, pitch, velocity)
                if float(np.abs(audio).max()) < SILENT_PEAK:
                    summary.silent.append(entry["note_str"])
                    continue
                save_audio(wav_path, audio, sample_rate=sample_rate, subtype="pcm16")
                entries[entry["note_str"]] = entry
                summary.rendered += 1
                unsaved += 1
                if unsaved >= SAVE_EVERY:
                    _write_json(json_path, entries)
                    unsaved = 0
    finally:
        if renderer is not None:
            renderer.close()
        if unsaved or not json_path.exists():
            _write_json(json_path, entries)
    summary.seconds = time.perf_counter() - started
    return summary
