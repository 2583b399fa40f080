"""The paper's experiment: statistics helpers, configuration, and a tiny run end to end whose numbers must come from
the sounds themselves (a group of exact copies of source A cannot be told from A; A and B can)."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from spectrostyle.core.errors import InputError
from spectrostyle.core.metrics import (
    balanced_accuracy,
    bootstrap_ci,
    power_share_above,
    precision_recall,
    silhouette_by_group,
    timbre_position,
)
from spectrostyle.experiment.analysis import pairwise_separability
from spectrostyle.experiment.config import CONTROL, ExperimentConfig, build_config
from spectrostyle.experiment.generation import (
    Prepared,
    Unavailable,
    generate,
    held_out_pitches,
    prepare_method,
    select_sources,
    spread,
)
from spectrostyle.methods.base import TransferMethod
from spectrostyle.ui.cli.main import main

# 5 pitches x 4 velocities per source (fewer make the tiny classifiers' learning a matter of luck); Gatys with
# one step on 2 pairs each way; classifiers on the first 32 frames (0.5 s) of each note
TINY = {
    "pitches": [60, 72], "pitch_step": 3, "velocities": [50, 75, 100, 127], "sounds_per_method": 4,
    "methods": ["gatys", "fast"], "method_settings": {"gatys": {"steps": 1}, "fast": {"model": "no-such-model"}},
    "classifier_frames": 32, "classifier_epochs": 12, "classifier_patience": 12, "classifier_batch_size": 4,
    "classifier_learning_rate": 3e-3, "bootstrap_resamples": 200, "examples": 2,
}


# ------------------------------------------------------------------------------------------ statistics helpers


def test_bootstrap_ci_is_seeded_and_brackets_the_mean(rng):
    values = (rng.random(200) < 0.7).astype(float)
    low, high = bootstrap_ci(values, seed=3)
    assert (low, high) == bootstrap_ci(values, seed=3)
    assert low < values.mean() < high
    assert 0.05 < high - low < 0.2  # about 2 x 1.96 x sqrt(0.21 / 200) = 0.13
    assert bootstrap_ci(np.ones(10)) == (1.0, 1.0)
    assert all(math.isnan(v) for v in bootstrap_ci(np.array([])))


def test_power_share_above_reads_the_held_middle_of_a_note():
    t = np.arange(4 * 16_000) / 16_000
    low, high = np.sin(2 * np.pi * 1000 * t), 0.5 * np.sin(2 * np.pi * 5000 * t)
    assert power_share_above(low, 4000, 16_000) < 1e-6
    assert power_share_above(high, 4000, 16_000) > 1 - 1e-6
    assert power_share_above(low + high, 4000, 16_000) == pytest.approx(0.2, abs=1e-3)  # power 1/4 against 1
    bright_attack = np.where(t < 0.5, high, low)  # before the middle (0.5-2.5 s): not counted
    assert power_share_above(bright_attack, 4000, 16_000) < 1e-6


def test_precision_recall_and_balanced_accuracy():
    matrix = np.array([[8, 2, 0], [1, 9, 0], [0, 0, 0]])  # class 2 absent and never predicted
    precision, recall = precision_recall(matrix)
    np.testing.assert_allclose(precision[:2], [8 / 9, 9 / 11])
    np.testing.assert_allclose(recall[:2], [0.8, 0.9])
    assert math.isnan(precision[2]) and math.isnan(recall[2])
    true = np.array([0] * 90 + [1] * 10)
    always_zero = np.zeros(100, dtype=int)
    assert balanced_accuracy(true, always_zero) == pytest.approx(0.5)  # plain accuracy would say 0.9
    assert balanced_accuracy(np.stack([true, true], 1)) == 1.0


def test_silhouette_separates_apart_groups_and_not_copies(rng):
    a = rng.normal(0, 1, (20, 5))
    b = rng.normal(8, 1, (20, 5))
    scores = silhouette_by_group(np.concatenate([a, b]), ["a"] * 20 + ["b"] * 20)
    assert scores["a"] > 0.7 and scores["b"] > 0.7
    copies = silhouette_by_group(np.concatenate([a, a, b]), ["a"] * 20 + ["copy"] * 20 + ["b"] * 20)
    assert copies["copy"] <= 0.0 and copies["a"] <= 0.0 and copies["b"] > 0.7


def test_timbre_position_runs_from_a_to_b(rng):
    a = rng.normal(0, 1, (30, 4))
    b = rng.normal(0, 1, (30, 4)) + 10
    points = np.stack([a.mean(0), b.mean(0), (a.mean(0) + b.mean(0)) / 2])
    position = timbre_position(points, a, b)
    np.testing.assert_allclose(position["position"], [0.0, 1.0, 0.5], atol=1e-9)
    np.testing.assert_allclose(position["to_a"], [0.0, 1.0, 0.5], atol=1e-9)


def test_identical_sounds_are_exactly_inseparable():
    labels = torch.tensor([0, 2, 0, 2, 1, 1])  # notes 1 and 3 are copies of notes 0 and 2, labelled class 2
    for predicted in ([0, 0, 2, 2, 1, 1], [1, 1, 0, 0, 1, 1]):  # copies are always predicted like their originals
        result = pairwise_separability(torch.tensor(predicted), labels, 2, 0, resamples=50, seed=0)
        assert result["balanced_accuracy"] == 0.5 and result["notes"] == 4
    # told apart from class 1 even when taken for class 0: only "is it class 1?" counts
    result = pairwise_separability(torch.tensor([0, 0, 0, 0, 1, 1]), labels, 2, 1, resamples=50, seed=0)
    assert result["balanced_accuracy"] == 1.0 and result["ci"] == [1.0, 1.0]


# ----------------------------------------------------------------------------------------------- configuration


def test_config_files_merge_and_refuse_unknowns(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('seed = 5\nmethods = ["gatys"]\n[method_settings.gatys]\nstyle_weight = 100.0\n')
    config = build_config(config_file=toml, seed=7)
    assert config.seed == 7 and config.methods == ("gatys",)
    assert config.method_settings["gatys"] == {"steps": 30, "style_weight": 100.0}  # merged over the default's
    full = build_config(full=True)
    assert full.sounds_per_method > ExperimentConfig().sounds_per_method and full.classifier_frames is None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"sedd": 1}))
    with pytest.raises(InputError, match="sedd"):
        build_config(config_file=bad)
    with pytest.raises(InputError, match="unknown method 'nope'"):
        ExperimentConfig(methods=("gatys", "nope"))
    with pytest.raises(InputError, match="pair"):
        ExperimentConfig(pair=("flute", "flute"))


def test_spread_and_held_out_pitches_are_disjoint():
    assert spread(list(range(10)), 3) == [0, 4, 9]
    assert spread([1, 2], None) == [1, 2]
    split = held_out_pitches(range(60, 73), ExperimentConfig())
    parts = [set(split[p]) for p in ("train", "val", "test")]
    assert all(parts) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert set().union(*parts) == set(range(60, 73))
    assert len(split["test"]) == 4 and split == held_out_pitches(range(60, 73), ExperimentConfig())


class IdentityMethod(TransferMethod):
    """A registered method with only the base class's declarations: content and style as they are."""

    name = "identity"
    title = "identity: the content as it is"
    short = "identity"
    description = "Returns the content image."
    needs_style = True

    def stylise_images(self, images, styles, *, progress=False):
        return images, {}


def test_a_registered_method_without_recipe_runs_with_its_defaults(monkeypatch):
    from spectrostyle.methods import registry as transfer

    monkeypatch.setitem(transfer.METHODS, "identity", f"{__name__}:IdentityMethod")
    config = ExperimentConfig(methods=("identity",))
    prepared = prepare_method("identity", "flute", "keyboard", "b2a", config)
    assert isinstance(prepared, Prepared) and prepared.uses_style and prepared.settings == {"seed": 0, "device": "cpu"}
    assert isinstance(prepare_method(CONTROL, "flute", "keyboard", "b2a", config), Unavailable)  # copies of A only


def test_unknown_method_on_the_command_line_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["experiment", "--out", str(tmp_path / "r"), "--methods", "gatys,warp"]) == 2
    err = capsys.readouterr().err
    assert "unknown method 'warp'" in err and "cyclegan" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------------------- a tiny run, end to end


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, dict, str]:
    folder = tmp_path_factory.mktemp("experiment")
    config_file = folder / "tiny.json"
    config_file.write_text(json.dumps(TINY))
    out = folder / "report"
    err = io.StringIO()
    threads = torch.get_num_threads()
    try:  # one thread: tensors this small gain nothing from two, and the run stays steady on a busy machine
        with contextlib.redirect_stderr(err):
            status = main(["--threads", "1", "experiment", "--out", str(out), "--config", str(config_file),
                           "--seed", "1", "--quiet"])
    finally:
        torch.set_num_threads(threads)
    assert status == 0, err.getvalue()
    return out, json.loads((out / "metrics.json").read_text()), err.getvalue()


def test_tiny_run_writes_the_report(tiny_run):
    out, metrics, err = tiny_run
    for name in ("report.html", "metrics.json", "table.md", "config.json", "tsne.png",
                 "classifiers/all/confusion.png", "classifiers/gatys/confusion.png", "classifiers/copy/metrics.csv"):
        assert (out / name).is_file(), name
    assert metrics["groups"] == ["flute", "keyboard", "copy", "gatys"]
    assert metrics["seed"] == 1 and metrics["config"]["method_settings"]["gatys"]["steps"] == 1
    page = (out / "report.html").read_text()
    assert "tsne.png" in page and "<audio" in page and "no-such-model" in page
    for example in metrics["examples"]:
        for cell in example["sounds"]:
            assert (out / cell["wav"]).is_file() and (out / cell["png"]).is_file()
    assert {c["group"] for c in metrics["examples"][0]["sounds"]} == set(metrics["groups"])
    assert "| copy (a2b) | 20 |" in (out / "table.md").read_text()
    assert "method 'fast' skipped" in err and "no-such-model" in metrics["skipped"]["fast"]
    # the saved config repeats the run
    assert build_config(config_file=out / "config.json") == build_config(config_file=None, **{
        **TINY, "seed": 1, "method_settings": TINY["method_settings"]})


def test_tiny_run_sounds_are_real(tiny_run):
    out, metrics, _ = tiny_run
    sounds = metrics["sounds"]
    gatys = [s for s in sounds if s["group"] == "gatys"]
    assert sorted(s["direction"] for s in gatys) == ["a2b", "a2b", "b2a", "b2a"]
    for sound in gatys:
        assert (out / sound["path"]).is_file()
        assert sound["seconds"] > 0 and -60 < sound["spectral_convergence_db"] < 0
        content_group = "flute" if sound["direction"] == "a2b" else "keyboard"
        assert sound["note"].startswith(content_group)
    summary = metrics["summary"]
    assert summary["gatys"]["sounds"] == 4 and summary["copy"]["sounds"] == 20 == summary["flute"]["sounds"]
    # one Gatys step keeps the content's pitch
    assert summary["gatys"]["pitch_error_cents_median"] < 50
    assert set(metrics["split_pitches"]["test"]) | set(metrics["split_pitches"]["val"]) | set(
        metrics["split_pitches"]["train"]) == {60, 63, 66, 69, 72}


def test_copies_of_a_are_not_distinguishable_from_a_but_b_is(tiny_run):
    _, metrics, _ = tiny_run
    copy_test = metrics["classification"]["copy"]
    assert copy_test["separability"]["copy vs flute"]["balanced_accuracy"] == 0.5
    assert metrics["classification"]["all"]["separability"]["flute vs copy"]["balanced_accuracy"] == 0.5
    # the same classifier learnt to tell the two sources apart on pitches it never heard
    assert copy_test["separability"]["flute vs keyboard"]["balanced_accuracy"] >= 0.75
    assert copy_test["accuracy"] <= 2 / 3 + 1e-9  # A and its copies can at best be split by luck
    summary = metrics["summary"]
    assert summary["copy"]["silhouette"] <= 0.0 < summary["keyboard"]["silhouette"]
    assert summary["copy"]["position"] == pytest.approx(summary["flute"]["position"])
    assert summary["flute"]["position"] < 0.4 < 0.6 < summary["keyboard"]["position"]
    flute = {s["note"]: s for s in metrics["sounds"] if s["group"] == "flute"}
    for sound in (s for s in metrics["sounds"] if s["group"] == "copy"):
        assert sound["pitch_error_cents"] == flute[sound["note"]]["pitch_error_cents"]
        assert sound["position"] == pytest.approx(flute[sound["note"]]["position"])


def test_sounds_are_cached(tiny_run):
    out, metrics, _ = tiny_run
    config = build_config(config_file=out / "config.json")
    _, _, pairs = select_sources(out / "data", config)
    wav = out / "sounds" / "copy" / "a2b" / f"{pairs[0][0].note_str}.wav"
    before = wav.stat().st_mtime_ns
    prepared = prepare_method(CONTROL, "flute", "keyboard", "a2b", config)
    sounds, made = generate(CONTROL, "a2b", prepared, pairs, out, config, progress=False)
    assert made == 0 and len(sounds) == 20 and wav.stat().st_mtime_ns == before
    changed = build_config(config_file=out / "config.json", seed=2)  # another seed is another sound
    _, made = generate(CONTROL, "a2b", prepared, pairs[:1], out, changed, progress=False)
    assert made == 1
    _, made = generate(CONTROL, "a2b", prepared, pairs[:1], out, config, progress=False)  # as it was
    assert made == 1


def test_several_classifier_seeds_give_mean_and_range(tiny_run, tmp_path):
    import shutil

    out = tmp_path / "report"
    shutil.copytree(tiny_run[0], out)
    threads = torch.get_num_threads()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            status = main(["--threads", "1", "experiment", "--out", str(out), "--config", str(out / "config.json"),
                           "--classifier-seeds", "2", "--quiet"])
    finally:
        torch.set_num_threads(threads)
    assert status == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["classifier_seeds"] == 2
    copies = metrics["classification"]["copy"]["over_seeds"]
    assert copies["seeds"] == [1, 2] and copies["separability"]["copy vs flute"]["values"] == [0.5, 0.5]
    gatys = metrics["classification"]["gatys"]["over_seeds"]["accuracy"]
    assert gatys["mean"] == pytest.approx(sum(gatys["values"]) / 2)
    assert metrics["summary"]["gatys"]["accuracy"] == pytest.approx(gatys["mean"])
    assert metrics["summary"]["gatys"]["accuracy_ci"] == [gatys["min"], gatys["max"]]
    assert "mean [min, max] of 2 classifiers" in (out / "table.md").read_text()
    assert (out / "classifiers" / "gatys-seed2" / "metrics.csv").is_file()
    assert build_config(classifier_seeds=0 or None).classifier_seeds == 1
    with pytest.raises(InputError, match="classifier_seeds must be a positive integer"):
        build_config(classifier_seeds=0)


def test_a_changed_method_is_not_answered_from_the_cache(tiny_run, monkeypatch):
    import spectrostyle.experiment.generation as experiment

    out, _, _ = tiny_run
    config = build_config(config_file=out / "config.json")
    _, _, pairs = select_sources(out / "data", config)
    prepared = prepare_method("gatys", "flute", "keyboard", "a2b", config)
    _, made = generate("gatys", "a2b", prepared, pairs[:1], out, config, progress=False)
    assert made == 0  # made by the tiny run with this code
    monkeypatch.setattr(experiment, "_code_fingerprint", lambda runner: "edited")
    _, made = generate("gatys", "a2b", prepared, pairs[:1], out, config, progress=False)
    assert made == 1
