"""The example notes shipped inside the package (``spectrostyle/examples``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from spectrostyle.core.errors import InputError
from spectrostyle.data.nsynth import NSynthIndex
from spectrostyle.data.render import JSON_NAME

EXAMPLES_PACKAGE = "spectrostyle"


EXAMPLES_FOLDER = "examples"
STUDIO_FOLDER = "studio"  # inside the examples: phrases at the studio's format (44.1 kHz stereo FLAC)
STUDIO_EXAMPLES = {"flute": "flute_phrase.flac", "keyboard": "piano_phrase.flac"}


def examples_dir() -> Path:
    """Folder of the tiny NSynth-format example set shipped in the package (``examples.json`` + ``audio/``)."""
    try:
        folder = resources.files(EXAMPLES_PACKAGE).joinpath(EXAMPLES_FOLDER)
    except (ModuleNotFoundError, TypeError):
        folder = None
    path = Path(str(folder)) if folder is not None else Path(__file__).resolve().parent / EXAMPLES_FOLDER
    if not (path / JSON_NAME).is_file():
        raise InputError(f"the shipped examples are missing ('{path / JSON_NAME}'); reinstall spectrostyle "
                         "or run scripts/make_examples.py")
    return path


def example_path(family: str, pitch: int = 60) -> Path:
    """WAV path of a shipped example note of ``family`` at MIDI ``pitch`` (velocity 100 if there is one).

    :class:`InputError` listing the shipped family/pitch pairs if there is none.
    """
    index = NSynthIndex(examples_dir())
    matches = [e for e in index if e.instrument_family_str == family and e.pitch == pitch]
    if not matches:
        available: dict[str, set[int]] = {}
        for example in index:
            available.setdefault(example.instrument_family_str, set()).add(example.pitch)
        listing = "; ".join(f"{f} at {', '.join(map(str, sorted(p)))}" for f, p in sorted(available.items()))
        raise InputError(f"no shipped example for family '{family}' at pitch {pitch} (available: {listing})")
    best = min(matches, key=lambda e: (abs(e.velocity - 100), e.note_str))
    return best.audio_path


def studio_example(family: str) -> Path:
    """Path of the shipped 3 s 44.1 kHz stereo phrase of ``family`` (``flute`` or ``keyboard``: a piano), rendered
    with reverb and panning by ``scripts/make_studio_examples.py``: a band up to 22 kHz and a stereo image, which the
    16 kHz mono example notes lack."""
    if family not in STUDIO_EXAMPLES:
        raise InputError(f"no shipped studio phrase for family '{family}' (available: {', '.join(STUDIO_EXAMPLES)})")
    return examples_dir() / STUDIO_FOLDER / STUDIO_EXAMPLES[family]
