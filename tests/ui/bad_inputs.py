"""The bad-input matrix, as data: every command (spectrogram, invert, transfer, classify, and the trainers' resume)
against missing, odd and hostile inputs and outputs, and signals while an output is written.

Each :class:`Case` runs in a folder of its own through :func:`spectrostyle.ui.cli.main.main` (in this process, with
the folder as working directory, so messages name relative paths): ``make`` puts its inputs there first, then the
command runs, and :func:`run_case` reports the exit status, the message (the last line it printed) and the files
the command wrote, replaced or removed. ``tests/ui/test_bad_input_matrix.py`` checks each case;
``scripts/bad_input_table.py`` writes the table of all of them to ``docs/bad-input.md``.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
import soundfile as sf
from PIL import Image, PngImagePlugin

from tests.conftest import harmonic_note

RATE = 16_000


def _note(seconds: float = 1.0) -> np.ndarray:
    return harmonic_note(seconds=seconds)


def _write(name: str, audio: np.ndarray, rate: int = RATE, **kwargs) -> Callable[[Path], None]:
    return lambda folder: sf.write(folder / name, audio, rate, **kwargs)


def _bytes(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def _truncated(folder: Path) -> None:
    sf.write(folder / "cut.wav", _note(), RATE, subtype="PCM_16")
    data = (folder / "cut.wav").read_bytes()
    (folder / "cut.wav").write_bytes(data[: len(data) // 2])


def _with_bad(value: float) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        audio = _note()
        audio[100] = value
        sf.write(folder / ("nan.wav" if np.isnan(value) else "inf.wav"), audio, RATE, subtype="FLOAT")
    return make


def _png(folder: Path) -> None:
    from spectrostyle.core.png import save_png
    from spectrostyle.core.spectrogram import Spectrogram

    save_png(folder / "note.png", Spectrogram.from_audio(_note()))


def _edited_png(name: str, width: int, text: str | None = None, height: int = 512, colour: bool = False,
                metadata: bool = True) -> Callable[[Path], None]:
    """A PNG as an editor leaves it: ``width`` frames, one drawn tone, the metadata of a 1 s note (or ``text``;
    none without ``metadata``)."""
    def make(folder: Path) -> None:
        from spectrostyle.core.spectrogram import SpectrogramConfig

        pixels = np.zeros((height, width), dtype=np.uint16)
        pixels[-40, :] = 65535
        info = PngImagePlugin.PngInfo()
        if metadata:
            one_second = {"config": SpectrogramConfig().to_dict(), "gain_db": -20.0, "num_samples": 16_000}
            info.add_itxt("spectrostyle", text or json.dumps(one_second))
        image = Image.fromarray(pixels)
        if colour:
            image = Image.fromarray((pixels // 257).astype(np.uint8)).convert("RGB")
        image.save(folder / name, pnginfo=info)
    return make


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda folder: os.mkfifo(folder / name)


def _stale_temporary(folder: Path) -> None:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a process that no longer exists: as if killed by SIGKILL while writing
    (folder / f".out.png.{child.pid}.k1ll3d00.tmp.png").write_bytes(b"partial")


def _tampered(folder: Path) -> None:
    from spectrostyle.store import weights_dir

    (folder / "tampered").mkdir()
    for kind, name in (("fast_transformer", "keyboard"), ("audio_cnn", "default")):
        for suffix in (".json", ".safetensors"):
            shutil.copy(weights_dir() / f"{kind}-{name}{suffix}", folder / "tampered" / f"{kind}{suffix}")
        weights = folder / "tampered" / f"{kind}.safetensors"
        data = bytearray(weights.read_bytes())
        data[-10] ^= 0xFF
        weights.write_bytes(bytes(data))
    (folder / "tampered" / "garbage.json").write_text("{ not json")
    (folder / "tampered" / "garbage.safetensors").write_bytes(b"")


TRAIN = ("train classifier --data data --out run --families flute,keyboard --width 0.0625 --epochs 1 --batch-size 4 "
         "--quiet")


_TRAINED: list[Path] = []


def _trained() -> Path:
    """A folder with a tiny dataset (``data``) and a finished one-epoch classifier run on it (``run``), made once
    per process."""
    if not _TRAINED:
        from spectrostyle.ui.cli.main import main
        from tests.feedforward_helpers import note_dataset

        root = Path(tempfile.mkdtemp(prefix="spectrostyle-matrix-")).resolve()
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        note_dataset(root / "data", [(family, number, 60 + 2 * number, 100) for family in ("flute", "keyboard")
                                     for number in range(3)])
        with contextlib.chdir(root), contextlib.redirect_stdout(io.StringIO()):
            assert main(shlex.split(TRAIN)) == 0
        _TRAINED.append(root)
    return _TRAINED[0]


def _data(folder: Path) -> None:
    """The dataset, linked: the run folder records the dataset's real path, the same from every case's folder."""
    (folder / "data").symlink_to(_trained() / "data", target_is_directory=True)


def _run(folder: Path) -> None:
    shutil.copytree(_trained() / "run", folder / "run")


MAKERS: dict[str, Callable[[Path], None]] = {
    "note.wav": _write("note.wav", _note()),
    "long.wav": _write("long.wav", _note(2.0)),
    "one.wav": _write("one.wav", np.array([0.5], np.float32)),
    "tenth.wav": _write("tenth.wav", _note(0.1)),
    "one44k.wav": _write("one44k.wav", np.array([0.5], np.float32), 44_100),
    "silent.wav": _write("silent.wav", np.zeros(RATE, np.float32)),
    "zero.wav": _write("zero.wav", np.zeros(0, np.float32)),
    "nan.wav": _with_bad(np.nan),
    "inf.wav": _with_bad(np.inf),
    "cut.wav": _truncated,
    "empty.wav": _bytes("empty.wav", b""),
    "text.wav": _bytes("text.wav", b"these are not samples\n" * 50),
    "u8-3ch-11k.wav": _write("u8-3ch-11k.wav", np.stack([_note()] * 3, axis=1)[:11_025], 11_025,
                             subtype="PCM_U8"),
    "24bit-48k.flac": _write("24bit-48k.flac", np.stack([_note(3.0)] * 2, axis=1), 48_000, subtype="PCM_24"),
    "note.ogg": _write("note.ogg", _note(), RATE, format="OGG", subtype="VORBIS"),
    "note.png": _png,
    "wide.png": _edited_png("wide.png", 128),
    "cropped.png": _edited_png("cropped.png", 32, text='{"config": {}, "gain_db": -20.0, "num_samples": 64000}'),
    "damaged.png": _edited_png("damaged.png", 64, text="{broken"),
    "tall.png": _edited_png("tall.png", 64, height=300, metadata=False),
    "thin.png": _edited_png("thin.png", 1, metadata=False),
    "colour.png": _edited_png("colour.png", 64, metadata=False, colour=True),
    "file.txt": _bytes("file.txt", b"a file, not a folder\n"),
    "dir": lambda folder: (folder / "dir").mkdir(),
    "out.png": _bytes("out.png", b"an older output"),
    "out.wav": _bytes("out.wav", b"an older output"),
    "out.json": _bytes("out.json", b"{}"),
    "pipe.png": _fifo("pipe.png"),
    "pipe.wav": _fifo("pipe.wav"),
    "stale": _stale_temporary,
    "tampered": _tampered,
    "data": _data,
    "run": _run,
    "bad-checkpoint": lambda folder: (folder / "run" / "checkpoint.pt").write_bytes(b"not a checkpoint"),
}


@dataclass(frozen=True)
class Case:
    """One bad input: the command line after ``spectrostyle`` (paths relative to the case's folder), the inputs to
    make first (:data:`MAKERS`), and what must come of it: the exit status, a part of the message, and the files
    written (``+NAME``), replaced (``~NAME``) or removed (``-NAME``); ``changes`` None: not checked. ``signal``:
    sent to the process while the command writes its output (the PNG of ``transfer``)."""

    command: str
    bad: str
    argv: str
    make: tuple[str, ...] = ()
    status: int = 2
    message: str = ""
    changes: tuple[str, ...] | None = ()
    signal: str | None = None

    @property
    def id(self) -> str:
        return f"{self.command}-" + re.sub(r"[^a-z0-9]+", "-", self.bad.lower()).strip("-")


def _cases(command: str, make: tuple[str, ...], rows: list[tuple]) -> list[Case]:
    return [Case(command, bad, argv, make + tuple(extra), status, message, changes, *rest)
            for bad, argv, extra, status, message, changes, *rest in rows]


NO = ()
SPECTROGRAM = _cases("spectrogram", ("note.wav",), [
    ("missing file", "spectrogram missing.wav -o out.png", NO, 2, "no such file", NO),
    ("directory", "spectrogram dir -o out.png", ["dir"], 2, "is a directory", NO),
    ("not audio", "spectrogram text.wav -o out.png", ["text.wav"], 2, "not a readable audio file", NO),
    ("truncated", "spectrogram cut.wav -o out.png", ["cut.wav"], 2, "truncated or corrupt", NO),
    ("empty file", "spectrogram empty.wav -o out.png", ["empty.wav"], 2, "empty (0 bytes)", NO),
    ("zero frames", "spectrogram zero.wav -o out.png", ["zero.wav"], 2, "zero length", NO),
    ("silent", "spectrogram silent.wav -o out.png", ["silent.wav"], 2, "is silent", NO),
    ("NaN samples", "spectrogram nan.wav -o out.png", ["nan.wav"], 2, "NaN or infinite", NO),
    ("Inf samples", "spectrogram inf.wav -o out.png", ["inf.wav"], 2, "NaN or infinite", NO),
    ("too long", "spectrogram long.wav -o out.png --max-seconds 1.5", ["long.wav"], 2, "over the limit", NO),
    ("negative length limit", "spectrogram note.wav -o out.png --max-seconds -1", NO, 2, "x>0", NO),
    ("one sample", "spectrogram one.wav -o out.png", ["one.wav"], 0, "0.00 s", ("+out.png",)),
    ("one sample at 44.1 kHz", "spectrogram one44k.wav -o out.png", ["one44k.wav"], 0, "0.00 s", ("+out.png",)),
    ("8-bit, 3 channels, 11 kHz", "spectrogram u8-3ch-11k.wav -o out.png", ["u8-3ch-11k.wav"], 0, "1.00 s",
     ("+out.png",)),
    ("24-bit FLAC, 48 kHz", "spectrogram 24bit-48k.flac -o out.png", ["24bit-48k.flac"], 0, "1.00 s", ("+out.png",)),
    ("OGG Vorbis", "spectrogram note.ogg -o out.png", ["note.ogg"], 0, "1.00 s", ("+out.png",)),
    ("device file", "spectrogram /dev/zero -o out.png", NO, 2, "not a regular file", NO),
    ("output exists", "spectrogram note.wav -o out.png", ["out.png"], 2, "pass --overwrite", NO),
    ("output exists, --overwrite", "spectrogram note.wav -o out.png --overwrite", ["out.png"], 0, "512 x 64",
     ("~out.png",)),
    ("output under a file", "spectrogram note.wav -o file.txt/out.png", ["file.txt"], 2, "is not a folder", NO),
    ("output is a folder", "spectrogram note.wav -o dir", ["dir"], 2, "should end in .png", NO),
    ("output is a pipe", "spectrogram note.wav -o pipe.png --overwrite", ["pipe.png"], 2, "not a regular file", NO),
    ("output is the input", "spectrogram note.png -o note.png --overwrite", ["note.png"], 2, "also an input", NO),
    ("SIGTERM while writing", "spectrogram note.wav -o out.png", NO, 143, "interrupted (SIGTERM)", NO, "SIGTERM"),
    ("SIGHUP while writing", "spectrogram note.wav -o out.png", NO, 129, "interrupted (SIGHUP)", NO, "SIGHUP"),
    ("Ctrl-C while writing", "spectrogram note.wav -o out.png", NO, 130, "interrupted", NO, "SIGINT"),
    ("temporary file of a killed run", "spectrogram note.wav -o out.png", ["stale"], 0, "512 x 64",
     ("+out.png", "-.out.png.PID.XXXXXXXX.tmp.png")),
])
INVERT = _cases("invert", ("note.png",), [
    ("missing file", "invert missing.png -o out.wav", NO, 2, "no such file", NO),
    ("directory", "invert dir -o out.wav", ["dir"], 2, "is a directory", NO),
    ("not an image", "invert text.wav -o out.wav", ["text.wav"], 2, "not a readable image", NO),
    ("empty file", "invert empty.wav -o out.wav", ["empty.wav"], 2, "empty (0 bytes)", NO),
    ("device file", "invert /dev/zero -o out.wav", NO, 2, "not a regular file", NO),
    ("wrong height", "invert tall.png -o out.wav", ["tall.png"], 2, "300 pixels high", NO),
    ("one pixel wide", "invert thin.png -o out.wav", ["thin.png"], 2, "at least 2 frames", NO),
    ("damaged metadata", "invert damaged.png -o out.wav", ["damaged.png"], 2, "damaged 'spectrostyle' metadata", NO),
    ("damaged metadata, --ignore-metadata", "invert damaged.png -o out.wav --ignore-metadata", ["damaged.png"], 0,
     "1.01 s", ("+out.wav",)),
    ("canvas widened in an editor", "invert wide.png -o out.wav", ["wide.png"], 0, "2.03 s", ("+out.wav",)),
    ("canvas cropped in an editor", "invert cropped.png -o out.wav", ["cropped.png"], 0, "0.50 s", ("+out.wav",)),
    ("colour, no metadata", "invert colour.png -o out.wav", ["colour.png"], 0, "1.01 s", ("+out.wav",)),
    ("output exists", "invert note.png -o out.wav", ["out.wav"], 2, "pass --overwrite", NO),
    ("output exists, --overwrite", "invert note.png -o out.wav --overwrite", ["out.wav"], 0, "1.00 s", ("~out.wav",)),
    ("output under a file", "invert note.png -o file.txt/out.wav", ["file.txt"], 2, "is not a folder", NO),
    ("output is a pipe", "invert note.png -o pipe.wav --overwrite", ["pipe.wav"], 2, "not a regular file", NO),
    ("SIGTERM while writing", "invert note.png -o out.wav", NO, 143, "interrupted (SIGTERM)", NO, "SIGTERM"),
])
TRANSFER = _cases("transfer", ("note.wav",), [
    ("missing content", "transfer missing.wav --method pix2pix -o out.wav --quiet", NO, 2, "no such file", NO),
    ("not audio", "transfer text.wav --method pix2pix -o out.wav --quiet", ["text.wav"], 2, "not a readable", NO),
    ("NaN samples", "transfer nan.wav --method pix2pix -o out.wav --quiet", ["nan.wav"], 2, "NaN or infinite", NO),
    ("silent style", "transfer note.wav --style silent.wav --method adain -o out.wav --quiet", ["silent.wav"], 2,
     "is silent", NO),
    ("no style for adain", "transfer note.wav --method adain -o out.wav --quiet", NO, 2, "needs a style sound", NO),
    ("one sample", "transfer one.wav --method fast -o out.wav --png out.png --quiet", ["one.wav"], 0,
     "0.00 s, 16 kHz mono", ("+out.png", "+out.wav")),
    ("negative length limit", "transfer note.wav --method pix2pix -o out.wav --max-seconds -1", NO, 2, "x>0", NO),
    ("unknown method", "transfer note.wav --method warp -o out.wav --quiet", NO, 2, "unknown method", NO),
    ("output not WAV or FLAC", "transfer note.wav --method pix2pix -o out.ogg --quiet", NO, 2,
     "written as .wav or .flac", NO),
    ("float FLAC", "transfer note.wav --method pix2pix -o out.flac --bit-depth float --quiet", NO, 2,
     "FLAC holds 16- or 24-bit", NO),
    ("rate under 8 kHz", "transfer note.wav --method pix2pix -o out.wav --sample-rate 4000 --quiet", NO, 2,
     "8000<=x<=384000", NO),
    ("tampered model", "transfer note.wav --method fast --model tampered/fast_transformer.json -o out.wav --quiet",
     ["tampered"], 2, "does not match the checksum", NO),
    ("model file not JSON", "transfer note.wav --method fast --model tampered/garbage.json -o out.wav --quiet",
     ["tampered"], 2, "is not valid JSON", NO),
    ("model of another kind", "transfer note.wav --method fast --model tampered/audio_cnn.json -o out.wav --quiet",
     ["tampered"], 2, "is a audio_cnn model, not a fast_transformer", NO),
    ("output exists", "transfer note.wav --method pix2pix -o out.wav --quiet", ["out.wav"], 2, "pass --overwrite", NO),
    ("PNG exists", "transfer note.wav --method pix2pix -o new.wav --png out.png --quiet", ["out.png"], 2,
     "out.png' exists", NO),
    ("PNG under a file", "transfer note.wav --method pix2pix -o out.wav --png file.txt/out.png --quiet", ["file.txt"],
     2, "is not a folder", NO),
    ("JSON is the WAV", "transfer note.wav --method pix2pix -o out.wav --json out.wav --quiet", NO, 2,
     "must be different files", NO),
    ("output is the input", "transfer note.wav --method pix2pix -o note.wav --overwrite --quiet", NO, 2,
     "also an input", NO),
    ("Ctrl-C while the PNG is written", "transfer note.wav --method pix2pix -o out.wav --png out.png --overwrite "
     "--quiet", ["out.wav"], 130, "interrupted", NO, "SIGINT"),
    ("SIGTERM while the PNG is written", "transfer note.wav --method pix2pix -o out.wav --png out.png --quiet", NO,
     143, "interrupted (SIGTERM)", NO, "SIGTERM"),
])
CLASSIFY = _cases("classify", ("note.wav",), [
    ("missing file", "classify missing.wav", NO, 2, "no such file", NO),
    ("directory", "classify dir", ["dir"], 2, "is a directory", NO),
    ("not audio", "classify text.wav", ["text.wav"], 2, "not a readable audio file", NO),
    ("empty file", "classify empty.wav", ["empty.wav"], 2, "empty (0 bytes)", NO),
    ("device file", "classify /dev/null", NO, 2, "not a regular file", NO),
    ("one sample", "classify one.wav", ["one.wav"], 0, "one.wav\t", NO),
    ("0.1 s", "classify tenth.wav", ["tenth.wav"], 0, "tenth.wav\t", NO),
    ("OGG Vorbis", "classify note.ogg", ["note.ogg"], 0, "note.ogg\t", NO),
    ("tampered model", "classify note.wav --model tampered/audio_cnn.json", ["tampered"], 2,
     "does not match the checksum", NO),
])
TRAIN_CASES = _cases("train", ("data",), [
    ("resume into a missing folder", f"{TRAIN} --resume", NO, 2, "no run folder", NO),
    ("resume, other --seed", f"{TRAIN} --resume --seed 1", ["run"], 2, "--seed 0 -> 1", NO),
    ("resume, other --lr", f"{TRAIN} --resume --lr 0.01", ["run"], 2, "--lr 0.001 -> 0.01", NO),
    ("resume, more --epochs", f"{TRAIN} --resume --epochs 10", ["run"], 2, "--epochs 1 -> 10", NO),
    ("resume, other --width", f"{TRAIN} --resume --width 0.125", ["run"], 2, "--width 0.0625 -> 0.125", NO),
    ("resume, other --augmentation", f"{TRAIN} --resume --augmentation timbre", ["run"], 2,
     '--augmentation "light" -> "timbre"', NO),
    ("resume, same settings", f"{TRAIN} --resume", ["run"], 0, "best epoch 1", None),
    ("a run there, no --resume", TRAIN, ["run"], 2, "already holds a training run", NO),
    ("run folder under a file", TRAIN.replace("--out run", "--out file.txt/run"), ["file.txt"], 2,
     "is not a folder", NO),
    ("tampered checkpoint", f"{TRAIN} --resume", ["run", "bad-checkpoint"], 2, "cannot resume from", NO),
    ("missing data", TRAIN.replace("--data data", "--data nowhere"), NO, 2, "nowhere", NO),
    ("fast: resume into a missing folder", "train fast --style note.wav --data data --out run --resume --quiet",
     ["note.wav"], 2, "no run folder", NO),
    ("adain: resume into a missing folder", "train adain --data data --out run --resume --quiet", NO, 2,
     "no run folder", NO),
    ("cyclegan: resume into a missing folder", "train cyclegan --data data --domain-a flute --domain-b keyboard "
     "--out run --resume --quiet", NO, 2, "no run folder", NO),
    ("pix2pix: resume into a missing folder", "train pix2pix --data data --domain-a flute --domain-b keyboard "
     "--out run --resume --quiet", NO, 2, "no run folder", NO),
])
CASES: list[Case] = SPECTROGRAM + INVERT + TRANSFER + CLASSIFY + TRAIN_CASES


# what writes the output, per command: a signal arrives while it writes
WRITERS = {"spectrogram": "PIL.Image.Image.save", "invert": "soundfile.write",
           "transfer": "spectrostyle.pipeline.comparison_png"}


@dataclass
class Outcome:
    status: int
    message: str
    changes: list[str]
    stdout: str
    stderr: str


def _snapshot(folder: Path) -> dict[str, str]:
    """Every regular file under ``folder`` (links not followed) by its relative path: its content's hash."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                files[str(path.relative_to(folder))] = hashlib.sha1(path.read_bytes()).hexdigest()
    return files


TEMPORARY = re.compile(r"^(?P<folder>.*/)?\.(?P<name>.+?)\.(?:\d+\.)?[a-z0-9_]{8}\.tmp(?P<suffix>(?:\.[^.]*)?)$")


def _shown(name: str) -> str:
    """A file name as the table shows it: a temporary file's process id and random part replaced."""
    match = TEMPORARY.match(name)
    if match is None:
        return name
    return f"{match['folder'] or ''}.{match['name']}.PID.XXXXXXXX.tmp{match['suffix']}"


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """``+NAME`` (written), ``~NAME`` (replaced), ``-NAME`` (removed) between two snapshots."""
    found = [f"+{_shown(n)}" for n in after if n not in before]
    found += [f"~{_shown(n)}" for n in after if n in before and after[n] != before[n]]
    found += [f"-{_shown(n)}" for n in before if n not in after]
    return sorted(found)


def _signalling(target: str, name: str) -> Callable:
    module, attribute = target.rsplit(".", 1)
    if module == "PIL.Image.Image":  # a method of a class
        owner = importlib.import_module("PIL.Image").Image
    else:
        owner = importlib.import_module(module)
    real = getattr(owner, attribute)

    def write_then_signal(*args, **kwargs):
        real(*args, **kwargs)  # the temporary file is written...
        os.kill(os.getpid(), getattr(signal, name))  # ...and the signal arrives before the command ends
        for _ in range(500):
            time.sleep(0.01)
        raise AssertionError(f"{name} was not delivered")

    return write_then_signal


@contextlib.contextmanager
def _terminal_signals():
    """Signals as from a terminal while a case runs, whatever this process inherited (a background job ignores
    SIGINT, ``nohup`` SIGHUP); restored after."""
    wanted = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL,
              signal.SIGHUP: signal.SIG_DFL}
    previous = {number: signal.signal(number, handler) for number, handler in wanted.items()}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_case(case: Case, folder: Path) -> Outcome:
    """Make the case's inputs in ``folder`` (empty), run its command there, and report what came of it."""
    from spectrostyle.ui.cli.main import main

    for name in case.make:
        MAKERS[name](folder)
    before = _snapshot(folder)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.chdir(folder))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        if case.signal is not None:
            stack.enter_context(_terminal_signals())
            stack.enter_context(mock.patch(WRITERS[case.command], _signalling(WRITERS[case.command], case.signal)))
        status = main(shlex.split(case.argv))
    said = [line.strip() for line in err.getvalue().splitlines() if line.strip()]
    printed = [line.strip() for line in out.getvalue().splitlines() if line.strip()]
    message = (printed or [""])[-1] if status == 0 else (said or [""])[-1]
    if status == 0 and said:
        message = " / ".join([message, *said])  # the result, then any note
    return Outcome(status, message, changes(before, _snapshot(folder)), out.getvalue(), err.getvalue())
