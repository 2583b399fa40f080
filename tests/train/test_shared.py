"""What every trainer does alike, written once over all of them on their tiny configurations: a run killed right
after its first checkpoint and resumed ends with the weights of the run that was never interrupted; two DDP
processes on CPU end with the same weights."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from spectrostyle.core.errors import InputError
from spectrostyle.train import classifier, loop
from spectrostyle.train.adain import train_adain
from spectrostyle.train.classifier import train_classifier
from spectrostyle.train.cyclegan import train_cyclegan
from spectrostyle.train.fast import train_fast
from spectrostyle.train.pix2pix import train_pix2pix
from spectrostyle.train.runtime import load_checkpoint
from tests.train.conftest import (
    FAMILIES,
    adain_options,
    classifier_options,
    cyclegan_options,
    fast_options,
    pix2pix_options,
)


@dataclass(frozen=True)
class Trainer:
    """One trainer on its tiny configuration. ``options(data, out)`` builds a run of two checkpoints (the first
    halfway), ``data`` naming the fixture it trains on; ``changed`` is a setting a resume must not change;
    ``ddp_args(data, out)`` are the arguments of ``spectrostyle train`` for a run under torchrun."""

    name: str
    data: str
    train: Callable[[Any], dict]
    options: Callable[[Any, Path], Any]
    checkpoints: ModuleType  # whose save_checkpoint writes the checkpoints
    metrics_key: str
    metrics_rows: list[int]
    result: str  # a number of the report that a resume must reproduce
    changed: dict[str, Any]
    ddp_args: Callable[[Any, Path], list[str]]
    master_port: int
    per_process_state: bool = field(default=False)  # the checkpoint keeps each process's state (image pools)


def _fast_ddp(setup, out: Path) -> list[str]:
    data, feature_net = setup
    return ["fast", "--style", str(data / "audio" / "flute_acoustic_000-055-100.wav"), "--data", str(data), "--out",
            str(out), "--feature-net", str(feature_net), "--channels", "4,8", "--residual-blocks", "1", "--steps", "2",
            "--batch-size", "1", "--val-notes", "2", "--checkpoint-every", "2", "--samples", "0"]


def _adain_ddp(setup, out: Path) -> list[str]:
    data, encoder = setup
    return ["adain", "--data", str(data), "--out", str(out), "--encoder", str(encoder), "--steps", "2",
            "--batch-size", "1", "--val-notes", "2", "--checkpoint-every", "2", "--samples", "0"]


def _gan_ddp(name: str, domain_b: str, *model: str) -> Callable[[Path, Path], list[str]]:
    def args(data: Path, out: Path) -> list[str]:
        return [name, "--data", str(data), "--out", str(out), "--domain-a", "flute", "--domain-b", domain_b,
                "--velocities", "100", *model, "--discriminator-channels", "4,8,8", "--steps", "2", "--val-notes",
                "1", "--checkpoint-every", "1", "--samples", "0"]

    return args


TRAINERS = [
    Trainer("classifier", "tiny_data", train_classifier, lambda data, out: classifier_options(data, out, epochs=2),
            classifier, "epoch", [0, 1], "best_val_accuracy", {"width": 0.125},
            lambda data, out: ["classifier", "--data", str(data), "--out", str(out), "--families", ",".join(FAMILIES),
                               "--width", "0.0625", "--epochs", "1", "--batch-size", "2"], 29517),
    Trainer("fast", "training_setup", train_fast, lambda setup, out: fast_options(*setup, out, steps=4),
            loop, "step", [2, 4], "final_val_loss", {"style_weight": 1.0}, _fast_ddp, 29533),
    Trainer("adain", "training_setup", train_adain, lambda setup, out: adain_options(*setup, out, steps=4),
            loop, "step", [2, 4], "final_val_loss", {"style_weight": 1.0}, _adain_ddp, 29535),
    Trainer("cyclegan", "data", train_cyclegan, lambda data, out: cyclegan_options(data, out, steps=4),
            loop, "step", [2, 4], "final_val_loss", {"cycle_weight": 5.0},
            _gan_ddp("cyclegan", "keyboard", "--channels", "4,8", "--residual-blocks", "1", "--pool-size", "1"),
            29541, per_process_state=True),
    Trainer("pix2pix", "data", train_pix2pix, lambda data, out: pix2pix_options(data, out, steps=4),
            loop, "step", [2, 4], "final_val_loss", {"l1_weight": 10.0},
            _gan_ddp("pix2pix", "keyboard_acoustic_000", "--channels", "4,8,8"), 29543),
]


@pytest.fixture(params=TRAINERS, ids=lambda trainer: trainer.name)
def trainer(request) -> Trainer:
    return request.param


def test_resume_after_a_kill_matches_the_uninterrupted_run(trainer, request, tmp_path, monkeypatch):
    data = request.getfixturevalue(trainer.data)

    def options(name: str, resume: bool = False, **changes):
        built = trainer.options(data, tmp_path / name)
        built.resume = resume
        for key, value in changes.items():
            setattr(built, key, value)
        return built

    whole = trainer.train(options("whole"))
    real_save = trainer.checkpoints.save_checkpoint

    def save_then_die(out_dir, state):
        real_save(out_dir, state)
        raise KeyboardInterrupt  # killed right after the first checkpoint

    monkeypatch.setattr(trainer.checkpoints, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(options("split"))
    monkeypatch.setattr(trainer.checkpoints, "save_checkpoint", real_save)
    with pytest.raises(InputError, match="already holds a training run; pass --resume"):
        trainer.train(options("split"))
    with pytest.raises(InputError, match="started with other settings"):
        trainer.train(options("split", resume=True, **trainer.changed))
    resumed = trainer.train(options("split", resume=True))
    reports = [json.loads((tmp_path / run / "report.json").read_text()) for run in ("whole", "split")]
    assert reports[1]["parameter_sha256"] == reports[0]["parameter_sha256"]
    assert resumed[trainer.result] == pytest.approx(whole[trainer.result], rel=1e-6)
    with open(tmp_path / "split" / "metrics.csv") as handle:
        assert [int(row[trainer.metrics_key]) for row in csv.DictReader(handle)] == trainer.metrics_rows


def test_ddp_two_cpu_processes_agree(trainer, request, tmp_path):
    data = request.getfixturevalue(trainer.data)
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(trainer.master_port), "-m", "spectrostyle", "train", *trainer.ddp_args(data, out), "--quiet"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [rank.pop("rank") for rank in ranks] == [0, 1]
    assert "parameter_sha256" in ranks[0] and ranks[0] == ranks[1]  # the weights (the classifier: its accuracies)
    assert json.loads((out / "report.json").read_text())["world_size"] == 2
    if trainer.per_process_state:
        assert len(load_checkpoint(out)["task"]) == 2  # each process's image pools


def test_every_train_command_is_covered():
    from spectrostyle.ui.cli.train import train

    assert sorted(trainer.name for trainer in TRAINERS) == sorted(train.commands)
