"""A resume continues the run as it started: every trainer refuses, before any work and in one line with exit
status 2, a setting that would change the run (naming it), a run folder that does not exist or holds no checkpoint,
and a run folder under a file; settings that do not change the weights (progress, checkpoints, device) may change."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from spectrostyle.core.errors import InputError
from spectrostyle.data.selection import DomainSelection, NoteSelection
from spectrostyle.train import runtime
from spectrostyle.train.adain import AdainTrainingOptions, train_adain
from spectrostyle.train.classifier import ClassifierTrainingOptions, FitOptions
from spectrostyle.train.cyclegan import CycleGANTrainingOptions, train_cyclegan
from spectrostyle.train.fast import FastTrainingOptions, train_fast
from spectrostyle.train.loop import LoopOptions
from spectrostyle.train.pix2pix import Pix2PixTrainingOptions, train_pix2pix
from spectrostyle.ui.cli.main import main
from tests.feedforward_helpers import TINY, gan_dataset, note_dataset, save_tiny_audio_cnn, synthetic_dataset

CLASSIFIER_ARGS = ["--families", "flute,keyboard", "--width", "0.0625", "--epochs", "1", "--batch-size", "4",
                   "--quiet"]


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory) -> tuple[Path, Path]:
    """A finished one-epoch classifier run (three instruments per family: train, validation, test)."""
    root = tmp_path_factory.mktemp("classifier-resume")
    data = note_dataset(root / "data", [(family, number, 60 + 2 * number, 100) for family in ("flute", "keyboard")
                                        for number in range(3)])
    out = root / "run"
    assert main(["train", "classifier", "--data", str(data), "--out", str(out), *CLASSIFIER_ARGS]) == 0
    return data, out


def _resume_cli(capsys, data: Path, out: Path, *extra: str) -> tuple[int, str]:
    args = dict(zip(CLASSIFIER_ARGS[:-1:2], CLASSIFIER_ARGS[1::2], strict=True))
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        args[flag] = value
    argv = ["train", "classifier", "--data", str(data), "--out", str(out), "--resume", "--quiet"]
    for flag, value in args.items():
        argv += [flag, value]
    capsys.readouterr()
    status = main(argv)
    return status, capsys.readouterr().err


@pytest.mark.parametrize(("flag", "value"), [("--seed", "1"), ("--lr", "0.01"), ("--epochs", "10"),
                                             ("--width", "0.125"), ("--families", "keyboard,flute"),
                                             ("--augmentation", "timbre"), ("--batch-size", "2"),
                                             ("--patience", "2"), ("--fold", "1")])
def test_classifier_resume_refuses_changed_settings(classifier_run, capsys, flag, value, monkeypatch):
    data, out = classifier_run
    before = sorted(p.name for p in out.iterdir())

    def no_work(*args, **kwargs):
        raise AssertionError("the data were read before the settings were checked")

    monkeypatch.setattr("spectrostyle.data.nsynth.NSynthIndex.load", no_work)
    status, err = _resume_cli(capsys, data, out, flag, value)
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert "started with other settings" in lines[0] and flag in lines[0]
    assert sorted(p.name for p in out.iterdir()) == before


def test_classifier_resume_with_the_same_settings_and_neutral_changes(classifier_run, capsys):
    data, out = classifier_run
    status, err = _resume_cli(capsys, data, out, "--device", "cpu")
    assert status == 0, err
    recorded = json.loads((out / "run.json").read_text())
    assert recorded["fit.seed"] == 0 and recorded["width"] == 0.0625 and "fit.progress" not in recorded


def test_resume_into_a_missing_or_empty_folder_is_refused(classifier_run, tmp_path, capsys):
    data, _ = classifier_run
    status, err = _resume_cli(capsys, data, tmp_path / "no-such-run")
    assert status == 2 and "no run folder" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "no-such-run").exists()
    (tmp_path / "empty").mkdir()
    status, err = _resume_cli(capsys, data, tmp_path / "empty")
    assert status == 2 and "holds no checkpoint" in err
    assert list((tmp_path / "empty").iterdir()) == []


def test_a_run_folder_under_a_file_is_refused_before_any_work(classifier_run, tmp_path, capsys):
    data, _ = classifier_run
    (tmp_path / "file.txt").write_text("x")
    capsys.readouterr()
    status = main(["train", "classifier", "--data", str(data), "--out", str(tmp_path / "file.txt" / "run"),
                   *CLASSIFIER_ARGS])
    err = capsys.readouterr().err
    assert status == 2 and "is not a folder" in err and "Traceback" not in err


def test_settings_record_names_and_changes():
    options = ClassifierTrainingOptions(data=Path("d"), out=Path("o"), fit=FitOptions(learning_rate=0.01))
    settings = runtime.run_settings(options)
    assert settings["data"] == str(Path("d").resolve()) and "out" not in settings and "device" not in settings
    assert "fit.progress" not in settings and settings["fit.learning_rate"] == 0.01
    changes = runtime.settings_changes(settings, {**settings, "fit.learning_rate": 0.1, "loop.steps": 4})
    assert changes == ["--lr 0.01 -> 0.1", "--steps null -> 4"]
    assert runtime.setting_name("notes.families") == "--families"
    assert runtime.setting_name("spectrogram.n_fft") == "spectrogram.n_fft"


# ------------------------------------------------------------------------- the step-loop trainers (tiny runs)


def _loop(**changes) -> LoopOptions:
    return replace(LoopOptions(steps=2, batch_size=2, learning_rate=1e-2, final_learning_rate=1e-2,
                               checkpoint_every=2, samples=0, progress=False), **changes)


@pytest.fixture(scope="module")
def notes_setup(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("loop-resume")
    return synthetic_dataset(root / "data"), save_tiny_audio_cnn(root / "nets"), gan_dataset(root / "gan")


def _fast(setup, out: Path, **changes):
    data, net, _ = setup
    return replace(FastTrainingOptions(style=data / "audio" / "keyboard_acoustic_000-058-100.wav", data=data, out=out,
                                       notes=NoteSelection(val_notes=2), feature_net=str(net), channels=(4, 8),
                                       residual_blocks=1, loop=_loop()), **changes)


def _adain(setup, out: Path, **changes):
    data, net, _ = setup
    return replace(AdainTrainingOptions(data=data, out=out, notes=NoteSelection(val_notes=2), encoder=str(net),
                                        loop=_loop()), **changes)


def _cyclegan(setup, out: Path, **changes):
    return replace(CycleGANTrainingOptions(
        data=setup[2], out=out, domains=DomainSelection("flute", "keyboard", val_notes=2), spectrogram=TINY,
        channels=(4, 8), residual_blocks=1, discriminator_channels=(4, 8, 8), pool_size=2,
        loop=_loop(schedule="linear", betas=(0.5, 0.999), final_learning_rate=0.0)), **changes)


def _pix2pix(setup, out: Path, **changes):
    return replace(Pix2PixTrainingOptions(
        data=setup[2], out=out, domains=DomainSelection("flute", "keyboard_acoustic_000", val_notes=2),
        spectrogram=TINY, channels=(4, 8, 8), discriminator_channels=(4, 8, 8),
        loop=_loop(schedule="linear", betas=(0.5, 0.999), final_learning_rate=0.0)), **changes)


TRAINERS = {
    "fast": (_fast, train_fast, {"residual_blocks": 2}, "--residual-blocks"),
    "adain": (_adain, train_adain, {"style_weight": 1.0}, "--style-weight"),
    "cyclegan": (_cyclegan, train_cyclegan, {"cycle_weight": 5.0}, "--cycle-weight"),
    "pix2pix": (_pix2pix, train_pix2pix, {"l1_weight": 10.0}, "--l1-weight"),
}


@pytest.mark.parametrize("name", list(TRAINERS))
def test_every_step_loop_trainer_refuses_a_changed_resume(notes_setup, tmp_path, name, monkeypatch):
    make, train, change, flag = TRAINERS[name]
    out = tmp_path / "run"
    loop = make(notes_setup, out).loop
    train(make(notes_setup, out))
    assert (out / "run.json").exists() and (out / "checkpoint.pt").exists()

    def no_work(*args, **kwargs):
        raise AssertionError("the notes were loaded before the settings were checked")

    monkeypatch.setattr(f"spectrostyle.train.{'gan' if name in ('cyclegan', 'pix2pix') else name}."
                        f"{'load_domain_notes' if name in ('cyclegan', 'pix2pix') else 'load_training_notes'}",
                        no_work)
    for changes, named in ((change, flag), ({"loop": replace(loop, seed=3)}, "--seed"),
                           ({"loop": replace(loop, learning_rate=0.5)}, "--lr"),
                           ({"loop": replace(loop, steps=10)}, "--steps"),
                           ({"loop": replace(loop, batch_size=1)}, "--batch-size")):
        with pytest.raises(InputError, match="started with other settings") as caught:
            train(make(notes_setup, out, resume=True, **changes))
        assert named in str(caught.value) and "\n" not in str(caught.value), changes
    with pytest.raises(InputError, match="no run folder"):
        train(make(notes_setup, tmp_path / "missing", resume=True))
    monkeypatch.undo()
    report = train(make(notes_setup, out, resume=True, loop=replace(loop, checkpoint_every=1, samples=1,
                                                                    progress=True)))
    assert report["steps"] == 2  # the finished run, resumed with settings that do not change it


def test_fast_resume_refusal_through_the_cli_is_one_line(notes_setup, tmp_path, capsys):
    data, net, _ = notes_setup
    common = ["train", "fast", "--style", str(data / "audio" / "keyboard_acoustic_000-058-100.wav"), "--data",
              str(data), "--out", str(tmp_path / "run"), "--feature-net", str(net), "--channels", "4,8",
              "--residual-blocks", "1", "--steps", "2", "--batch-size", "2", "--val-notes", "2", "--samples", "0",
              "--quiet"]
    assert main(common) == 0
    capsys.readouterr()
    assert main([*common, "--resume", "--lr", "0.5"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--lr 0.001 -> 0.5" in err
