"""The trainers' tiny data and tiny configurations, shared by each trainer's tests and by the behaviour every
trainer has (``test_shared.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectrostyle.data.render import render_dataset
from spectrostyle.data.selection import DomainSelection, NoteSelection
from spectrostyle.train.adain import AdainTrainingOptions
from spectrostyle.train.classifier import ClassifierTrainingOptions, FitOptions
from spectrostyle.train.cyclegan import CycleGANTrainingOptions
from spectrostyle.train.fast import FastTrainingOptions
from spectrostyle.train.loop import LoopOptions
from spectrostyle.train.pix2pix import Pix2PixTrainingOptions
from tests.feedforward_helpers import TINY, gan_dataset, save_tiny_audio_cnn, synthetic_dataset

FAMILIES = ("flute", "keyboard")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    """The classifier's data: flute and keyboard notes rendered from 3 GM programs each."""
    root = tmp_path_factory.mktemp("tiny")
    render_dataset(root, families=list(FAMILIES), pitches=(76, 80), pitch_step=4, velocities=(100,),
                   programs_per_family=3, progress=False)
    return root


@pytest.fixture(scope="module")
def training_setup(tmp_path_factory) -> tuple[Path, Path]:
    """Fast's and AdaIN's data and loss network (encoder): synthetic notes, a tiny audio CNN."""
    root = tmp_path_factory.mktemp("feedforward-train")
    return synthetic_dataset(root / "data"), save_tiny_audio_cnn(root / "nets")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """The GANs' data: flute and keyboard notes, every pitch and velocity in both domains."""
    return gan_dataset(tmp_path_factory.mktemp("gan-data") / "data")


def classifier_options(data: Path, out: Path, epochs: int = 1, **fit) -> ClassifierTrainingOptions:
    return ClassifierTrainingOptions(data=data, out=out, families=FAMILIES, width=0.0625,
                                     fit=FitOptions(epochs=epochs, batch_size=4, progress=False, **fit))


def fast_options(data: Path, feature_net: Path, out: Path, steps: int, **loop) -> FastTrainingOptions:
    return FastTrainingOptions(
        style=data / "audio" / "keyboard_acoustic_000-058-100.wav", data=data, out=out,
        notes=NoteSelection(val_notes=2), feature_net=str(feature_net), channels=(4, 8), residual_blocks=1,
        style_weight=1e4, loop=LoopOptions(steps=steps, batch_size=2, learning_rate=1e-2, final_learning_rate=1e-2,
                                           checkpoint_every=loop.pop("checkpoint_every", 2), samples=1,
                                           progress=False, **loop))


def adain_options(data: Path, encoder: Path, out: Path, steps: int, checkpoint_every: int = 2
                  ) -> AdainTrainingOptions:
    return AdainTrainingOptions(data=data, out=out, notes=NoteSelection(val_notes=2), encoder=str(encoder),
                                loop=LoopOptions(steps=steps, batch_size=2, learning_rate=3e-3,
                                                 final_learning_rate=3e-3, checkpoint_every=checkpoint_every,
                                                 samples=1, progress=False))


def cyclegan_options(data: Path, out: Path, steps: int, **loop) -> CycleGANTrainingOptions:
    return CycleGANTrainingOptions(
        data=data, out=out, domains=DomainSelection("flute", "keyboard", val_notes=2), spectrogram=TINY,
        channels=(4, 8), residual_blocks=1, discriminator_channels=(4, 8, 8), pool_size=2,
        loop=LoopOptions(steps=steps, batch_size=2, learning_rate=2e-3, final_learning_rate=0.0, schedule="linear",
                         betas=(0.5, 0.999), checkpoint_every=loop.pop("checkpoint_every", 2),
                         samples=loop.pop("samples", 0), progress=False, **loop))


def pix2pix_options(data: Path, out: Path, steps: int, **loop) -> Pix2PixTrainingOptions:
    return Pix2PixTrainingOptions(
        data=data, out=out, domains=DomainSelection("flute", "keyboard_acoustic_000", val_notes=2),
        spectrogram=TINY, channels=(4, 8, 8), discriminator_channels=(4, 8, 8),
        loop=LoopOptions(steps=steps, batch_size=2, learning_rate=2e-3, final_learning_rate=0.0, schedule="linear",
                         betas=(0.5, 0.999), checkpoint_every=loop.pop("checkpoint_every", 2),
                         samples=loop.pop("samples", 0), progress=False, **loop))
