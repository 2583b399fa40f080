"""Shared fixtures of the Fast and AdaIN tests: a tiny spectrogram config, tiny feature networks and a synthetic
NSynth-format dataset of short harmonic notes (no FluidSynth needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.core.vocabulary import FAMILIES, SOURCES
from spectrostyle.nets.audio_cnn import AudioCNN, AudioCNNConfig
from spectrostyle.store import save_model
from tests.conftest import harmonic_note

# 64 frequency rows; a 1 s note is 64 x 256: images 32x smaller than the default's, the same code paths
TINY = SpectrogramConfig(n_fft=128, hop_length=64)
NOTE_SECONDS = 1.0


def tiny_audio_cnn(seed: int = 0, config: SpectrogramConfig = TINY) -> AudioCNN:
    """An untrained width-1/16 audio CNN (4..32 channels) with non-trivial batch-norm statistics."""
    torch.manual_seed(seed)
    cnn = AudioCNN(AudioCNNConfig(class_names=("flute", "keyboard"), width=0.0625, spectrogram=config))
    for module in cnn.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return cnn.eval()


def save_tiny_audio_cnn(folder: Path, name: str = "encoder", seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return save_model(tiny_audio_cnn(seed), folder / name)


def synthetic_dataset(root: Path, notes: int = 6) -> Path:
    """An NSynth-format folder of ``notes`` 1 s harmonic notes: flute-like (few harmonics) and keyboard-like
    (many), at different pitches."""
    return note_dataset(root, [(("flute", "keyboard")[i % 2], 0, 55 + 3 * i, 100) for i in range(notes)])


def note_dataset(root: Path, notes: list[tuple[str, int, int, int]], *, keyboard_decay: float | None = None) -> Path:
    """An NSynth-format folder of 1 s harmonic notes given as ``(family, instrument number, pitch, velocity)``:
    flute-like (3 harmonics) or keyboard-like (12; decaying with time constant ``keyboard_decay`` seconds when
    given), louder with the velocity."""
    (root / "audio").mkdir(parents=True)
    entries = {}
    instruments: dict[str, int] = {}
    for i, (family, number, pitch, velocity) in enumerate(notes):
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        audio = harmonic_note(f0, NOTE_SECONDS, harmonics=3 if family == "flute" else 12) * (velocity / 100)
        if family != "flute" and keyboard_decay is not None:
            audio = audio * np.exp(-np.arange(len(audio)) / (keyboard_decay * 16_000)).astype(np.float32)
        instrument = f"{family}_acoustic_{number:03d}"
        instruments.setdefault(instrument, len(instruments))
        name = f"{instrument}-{pitch:03d}-{velocity:03d}"
        sf.write(root / "audio" / f"{name}.wav", audio, 16_000, subtype="PCM_16")
        entries[name] = {"note": i, "note_str": name, "instrument": instruments[instrument],
                         "instrument_str": instrument, "instrument_family": FAMILIES.index(family),
                         "instrument_family_str": family, "instrument_source": 0,
                         "instrument_source_str": SOURCES[0], "pitch": pitch, "velocity": velocity,
                         "sample_rate": 16_000, "qualities": [0] * 10, "qualities_str": []}
    (root / "examples.json").write_text(json.dumps(entries))
    return root


def randomise(model: torch.nn.Module, seed: int = 0, scale: float = 0.1) -> torch.nn.Module:
    """Perturb every parameter (so zero-initialised layers do something): returns the model, in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * scale)
    return model.eval()


def notes_audio(count: int, seconds: float = NOTE_SECONDS) -> np.ndarray:
    """``(count, samples)`` different harmonic notes."""
    return np.stack([harmonic_note(200.0 * 2 ** (i / 12), seconds, harmonics=4 + i) for i in range(count)])


def gan_dataset(root: Path) -> Path:
    """Two flute-like and two keyboard-like instruments at pitches 55, 58, 61 and 64 (every 4th, 64, is held out
    by the GAN trainers), velocities 50 and 100: 32 notes, every flute note with two keyboard notes of the same
    pitch and velocity."""
    return note_dataset(root, [(family, number, pitch, velocity) for family in ("flute", "keyboard")
                               for number in (0, 1) for pitch in (55, 58, 61, 64) for velocity in (50, 100)],
                        keyboard_decay=0.25)


def stylise(method, images, styles=()):
    """A method's result images ``(B, 1, F, T)`` for content images, as the pipeline calls it: the styles
    prepared once, then one pass."""
    return method.stylise_images(images, method.prepare_styles(list(styles)))[0]
