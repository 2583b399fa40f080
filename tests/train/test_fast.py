"""Fast's trainer: the loss falls and the run writes its files, bf16, starting from a trained model, the loss on
the sound heard, the command line's loss options; on tiny models and synthetic notes. Resume and DDP:
``test_shared.py``."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
import torch

import spectrostyle.train.fast as fast_module
from spectrostyle.core.errors import InputError
from spectrostyle.nets.transform_net import TransformNet
from spectrostyle.pipeline import transfer
from spectrostyle.store import load_model
from spectrostyle.train.fast import initialise_from, train_fast
from spectrostyle.ui.cli.main import main
from tests.conftest import harmonic_note
from tests.train.conftest import fast_options as _training_options


def test_training_lowers_the_loss_and_writes_its_files(training_setup, tmp_path):
    data, feature_net = training_setup
    report = train_fast(_training_options(data, feature_net, tmp_path / "run", steps=6, checkpoint_every=1))
    run = tmp_path / "run"
    for name in ("model.json", "model.safetensors", "checkpoint.pt", "metrics.csv", "report.json",
                 "samples/step-000006-0.png", "samples/step-000006-0.wav"):
        assert (run / name).exists(), name
    with open(run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert float(rows[-1]["val_total"]) < float(rows[0]["val_total"])
    assert float(rows[-1]["val_style"]) < float(rows[0]["val_style"])
    description = json.loads((run / "model.json").read_text())
    assert description["kind"] == "fast_transformer"
    assert description["metadata"]["style"]["file"] == "keyboard_acoustic_000-058-100.wav"
    assert len(description["metadata"]["feature_net"]["sha256"]) == 64
    training = description["metadata"]["training"]  # how it was trained travels with the weights
    assert training["steps"] == 6 and training["precision"] == "fp32" and training["seed"] == 0
    assert "progress" not in training and training["learning_rate"] == pytest.approx(0.01)
    assert report["steps"] == 6 and sf.info(run / "samples/step-000006-0.wav").frames == 16_000
    result = transfer(harmonic_note(300.0, 1.0), None, "fast", model=str(run / "model.json"))
    assert np.isfinite(result.audio).all()


def test_bf16_training_lowers_the_loss_and_differs_from_fp32(training_setup, tmp_path):
    data, feature_net = training_setup
    train_fast(_training_options(data, feature_net, tmp_path / "bf16", steps=6, checkpoint_every=1, precision="bf16"))
    train_fast(_training_options(data, feature_net, tmp_path / "fp32", steps=6, checkpoint_every=1))
    rows = {}
    for name in ("bf16", "fp32"):
        with open(tmp_path / name / "metrics.csv") as handle:
            rows[name] = list(csv.DictReader(handle))
    bf16, fp32 = rows["bf16"], rows["fp32"]
    assert float(bf16[-1]["val_style"]) < float(bf16[0]["val_style"])
    # the first step's losses are computed in bfloat16 (within its 3 significant digits), so they differ a little
    assert float(bf16[0]["train_total"]) == pytest.approx(float(fp32[0]["train_total"]), rel=0.02)
    assert float(bf16[0]["train_total"]) != float(fp32[0]["train_total"])


def test_init_starts_from_a_trained_model_and_refuses_another_architecture(training_setup, tmp_path, capsys):
    data, feature_net = training_setup
    train_fast(_training_options(data, feature_net, tmp_path / "first", steps=6, checkpoint_every=6))
    first = tmp_path / "first" / "model.json"
    options = _training_options(data, feature_net, tmp_path / "more", steps=1, checkpoint_every=1)
    options.init = str(first)
    train_fast(options)
    train_fast(_training_options(data, feature_net, tmp_path / "fresh", steps=1, checkpoint_every=1))
    trained = load_model(first)
    started = TransformNet(trained.config)
    initialise_from(started, str(first))
    assert all(torch.equal(a, b) for a, b in zip(started.state_dict().values(), trained.state_dict().values(),
                                                  strict=True))
    assert not torch.equal(load_model(tmp_path / "more" / "model.json").head[1].weight,
                           load_model(tmp_path / "fresh" / "model.json").head[1].weight)
    metadata = json.loads((tmp_path / "more" / "model.json").read_text())["metadata"]
    assert metadata["init"] == {"name": str(first), "sha256": json.loads(first.read_text())["sha256"]}
    assert json.loads((tmp_path / "fresh" / "model.json").read_text())["metadata"]["init"] is None

    wider = _training_options(data, feature_net, tmp_path / "wider", steps=1)
    wider.channels, wider.init = (4, 8, 8), str(first)
    with pytest.raises(InputError, match="has another architecture or spectrogram config"):
        train_fast(wider)
    assert main(["train", "fast", "--style", str(options.style), "--data", str(data), "--out", str(tmp_path / "x"),
                 "--feature-net", str(feature_net), "--steps", "1", "--init", str(tmp_path / "none.json"),
                 "--quiet"]) == 2
    assert "no model at" in capsys.readouterr().err


def test_loss_on_heard_trains_on_the_sound_and_is_recorded(training_setup, tmp_path, capsys, monkeypatch):
    data, feature_net = training_setup
    seen = []
    original = fast_module.heard_image
    monkeypatch.setattr(fast_module, "heard_image", lambda *args: seen.append(args[1].shape) or original(*args))
    heard = _training_options(data, feature_net, tmp_path / "heard", steps=4, checkpoint_every=1)
    heard.loss_on = "heard"
    train_fast(heard)
    train_fast(_training_options(data, feature_net, tmp_path / "image", steps=4, checkpoint_every=1))
    assert seen and all(shape[0] in (1, 2) and len(shape) == 3 for shape in seen)  # a phase (B, F, T) per batch
    rows = {}
    for name in ("heard", "image"):
        with open(tmp_path / name / "metrics.csv") as handle:
            rows[name] = list(csv.DictReader(handle))
    assert float(rows["heard"][-1]["val_style"]) < float(rows["heard"][0]["val_style"])
    assert float(rows["heard"][0]["train_total"]) != float(rows["image"][0]["train_total"])
    assert json.loads((tmp_path / "heard" / "model.json").read_text())["metadata"]["loss_on"] == "heard"
    assert (tmp_path / "heard" / "samples" / "step-000004-0.wav").exists()
    with pytest.raises(InputError, match="loss_on must be one of image, heard"):
        replace(heard, loss_on="sound")
    assert main(["train", "fast", "--style", str(heard.style), "--data", str(data), "--out", str(tmp_path / "x"),
                 "--loss-on", "sound", "--quiet"]) == 2
    assert "Invalid value for '--loss-on'" in capsys.readouterr().err


def test_cli_spectrum_options_reach_the_loss_and_are_recorded(training_setup, tmp_path, capsys):
    data, feature_net = training_setup
    style = data / "audio" / "keyboard_acoustic_000-058-100.wav"
    common = ["train", "fast", "--style", str(style), "--data", str(data), "--feature-net", str(feature_net),
              "--channels", "4,8", "--residual-blocks", "1", "--steps", "2", "--checkpoint-every", "1",
              "--val-notes", "2", "--batch-size", "2", "--quiet"]
    assert main(common + ["--out", str(tmp_path / "run"), "--spectrum-weight", "50",
                          "--spectrum-emphasis", "5"]) == 0
    weights = json.loads((tmp_path / "run" / "model.json").read_text())["metadata"]["loss_weights"]
    assert weights["spectrum"] == 50.0 and weights["spectrum_emphasis"] == 5.0
    with open(tmp_path / "run" / "metrics.csv") as handle:
        assert all(float(row["val_spectrum"]) > 0 for row in csv.DictReader(handle))
    assert main(common + ["--out", str(tmp_path / "bad"), "--spectrum-emphasis", "-1"]) == 2
    assert "Invalid value for '--spectrum-emphasis'" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
