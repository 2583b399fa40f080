"""Classifier training end to end on a tiny rendered dataset: resume, seeds, DDP with 2 CPU processes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from spectrostyle.classifier import (
    ClassifierTrainingOptions,
    FitOptions,
    augment,
    classify,
    confusion_matrix,
    train_classifier,
)
from spectrostyle.cli import main
from spectrostyle.errors import InputError
from spectrostyle.render import render_dataset

FAMILIES = ("flute", "keyboard")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    render_dataset(root, families=list(FAMILIES), pitches=(76, 80), pitch_step=4, velocities=(100,),
                   programs_per_family=3, progress=False)
    return root


def _options(data: Path, out: Path, epochs: int = 1, **fit) -> ClassifierTrainingOptions:
    return ClassifierTrainingOptions(data=data, out=out, families=FAMILIES, width=0.0625,
                                     fit=FitOptions(epochs=epochs, batch_size=4, progress=False, **fit))


def test_train_writes_model_metrics_and_report(tiny_data, tmp_path):
    report = train_classifier(_options(tiny_data, tmp_path / "run"))
    run = tmp_path / "run"
    for name in ("model.json", "model.safetensors", "checkpoint.pt", "metrics.csv", "confusion_test.png",
                 "report.json"):
        assert (run / name).exists(), name
    assert report["notes"] == {"train": 4, "val": 4, "test": 4}  # 3 instruments per family: 1 train, 1 val, 1 test
    assert not set(report["instruments"]["train"]) & set(report["instruments"]["test"])
    assert 0.0 <= report["test_accuracy"] <= 1.0
    assert sum(map(sum, report["confusion_matrix"])) == 4
    with open(run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [0]
    assert json.loads((run / "model.json").read_text())["config"]["class_names"] == list(FAMILIES)


def test_same_seed_same_weights_and_no_overwrite(tiny_data, tmp_path):
    first = train_classifier(_options(tiny_data, tmp_path / "a", epochs=2))
    again = train_classifier(_options(tiny_data, tmp_path / "b", epochs=2))
    assert first["parameter_sha256"] == again["parameter_sha256"]
    with pytest.raises(InputError, match="already holds a training run; pass --resume"):
        train_classifier(_options(tiny_data, tmp_path / "a", epochs=3))


def test_resume_after_a_kill_matches_the_uninterrupted_run(tiny_data, tmp_path, monkeypatch):
    whole = train_classifier(_options(tiny_data, tmp_path / "whole", epochs=2))
    from spectrostyle import classifier as module

    real_save = module.save_checkpoint

    def save_then_die(out_dir, state):
        real_save(out_dir, state)
        raise KeyboardInterrupt  # killed right after the first epoch's checkpoint

    monkeypatch.setattr(module, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_classifier(_options(tiny_data, tmp_path / "split", epochs=2))
    monkeypatch.setattr(module, "save_checkpoint", real_save)
    options = _options(tiny_data, tmp_path / "split", epochs=2)
    options.resume = True
    resumed = train_classifier(options)
    assert resumed["parameter_sha256"] == whole["parameter_sha256"]
    with open(tmp_path / "split" / "metrics.csv") as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == [0, 1]


def test_ddp_two_cpu_processes_agree(tiny_data, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
               "-m", "spectrostyle", "train", "classifier", "--data", str(tiny_data), "--out", str(out),
               "--families", ",".join(FAMILIES), "--width", "0.0625", "--epochs", "1", "--batch-size", "2",
               "--quiet"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["parameter_sha256"] == ranks[1]["parameter_sha256"]
    assert ranks[0]["best_val_accuracy"] == ranks[1]["best_val_accuracy"]
    assert json.loads((out / "report.json").read_text())["world_size"] == 2


def test_classify_and_cli(tiny_data, tmp_path, capsys):
    train_classifier(_options(tiny_data, tmp_path / "run"))
    wav = sorted((tiny_data / "audio").glob("flute*.wav"))[0]
    status = main(["classify", str(wav), "--model", str(tmp_path / "run" / "model.json"), "--top", "2"])
    line = capsys.readouterr().out.strip()
    assert status == 0 and line.startswith(str(wav)) and line.split("\t")[1] in FAMILIES
    assert main(["classify", str(tmp_path / "missing.wav"), "--model", str(tmp_path / "run" / "model.json")]) == 2


def test_helpers():
    images = torch.rand(3, 1, 8, 20)
    out = augment(images, torch.Generator().manual_seed(0), max_shift=4, max_level_drop=0.2)
    assert out.shape == images.shape and float(out.min()) >= 0 and float(out.max()) <= float(images.max())
    matrix = confusion_matrix(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 1, 1]), 2)
    assert matrix.tolist() == [[1, 1], [0, 2]]
    from spectrostyle.models import AudioCNN, AudioCNNConfig

    model = AudioCNN(AudioCNNConfig(class_names=("a", "b", "c"), width=0.0625)).eval()
    ranked = classify(torch.rand(2, 1, 512, 32), model, top_k=2)
    assert len(ranked) == 2 and len(ranked[0]) == 2 and ranked[0][0][1] >= ranked[0][1][1]
    assert sum(p for _, p in classify(torch.rand(1, 1, 512, 32), model, top_k=3)[0]) == pytest.approx(1.0)
