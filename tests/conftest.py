from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from spectrostyle.store import is_shipped


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def harmonic_note(f0: float = 261.63, seconds: float = 4.0, sample_rate: int = 16_000,
                  harmonics: int = 8, peak: float = 0.5) -> np.ndarray:
    """A decaying harmonic tone with attack and release: a stand-in for an instrument note."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    tone = sum(np.sin(2 * np.pi * f0 * k * t + 0.3 * k) / k for k in range(1, harmonics + 1)
               if f0 * k < sample_rate / 2)
    envelope = np.minimum(t / 0.02, 1.0) * np.exp(-t / 1.5) * np.clip((seconds - t) / 0.5, 0, 1)
    note = tone * envelope
    return (peak * note / np.abs(note).max()).astype(np.float32)


@pytest.fixture
def note() -> np.ndarray:
    return harmonic_note()


@pytest.fixture
def note_wav(tmp_path, note):
    path = tmp_path / "note.wav"
    sf.write(path, note, 16_000, subtype="PCM_16")
    return path


def requires_shipped(kind: str, name: str) -> pytest.MarkDecorator:
    """Skip a quality test of a shipped model until that model is shipped."""
    return pytest.mark.skipif(not is_shipped(kind, name), reason=f"{kind}-{name} is not shipped yet")
