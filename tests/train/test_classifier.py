"""Classifier training end to end on a tiny rendered dataset: its files, seeds, bf16, augmentation, extra data,
folds and the command line. Resume and DDP: ``test_shared.py``."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from spectrostyle.core.errors import InputError
from spectrostyle.core.metrics import confusion_matrix
from spectrostyle.data.selection import extra_training_notes, split_instruments
from spectrostyle.eval.classify import classify
from spectrostyle.train.classifier import (
    ClassifierTrainingOptions,
    FitOptions,
    augment,
    timbre_augment,
    train_classifier,
)
from spectrostyle.ui.cli.main import main
from tests.train.conftest import FAMILIES
from tests.train.conftest import classifier_options as _options


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
    saved = json.loads((run / "model.json").read_text())
    assert saved["config"]["class_names"] == list(FAMILIES)
    assert saved["metadata"]["seed"] == 0 and saved["metadata"]["fold"] == 0  # which split it was tested on
    assert saved["metadata"]["training"]["augmentation"] == "light" and saved["metadata"]["training"]["epochs"] == 1


def test_same_seed_same_weights_and_no_overwrite(tiny_data, tmp_path):
    first = train_classifier(_options(tiny_data, tmp_path / "a", epochs=2))
    again = train_classifier(_options(tiny_data, tmp_path / "b", epochs=2))
    assert first["parameter_sha256"] == again["parameter_sha256"]
    with pytest.raises(InputError, match="already holds a training run; pass --resume"):
        train_classifier(_options(tiny_data, tmp_path / "a", epochs=3))


def test_bf16_training_is_seeded_differs_from_fp32_and_keeps_float32_weights(tiny_data, tmp_path):
    fp32 = train_classifier(_options(tiny_data, tmp_path / "fp32", epochs=2))
    bf16 = train_classifier(_options(tiny_data, tmp_path / "bf16", epochs=2, precision="bf16"))
    again = train_classifier(_options(tiny_data, tmp_path / "again", epochs=2, precision="bf16"))
    assert bf16["parameter_sha256"] == again["parameter_sha256"]
    assert bf16["parameter_sha256"] != fp32["parameter_sha256"]  # autocast really changed the arithmetic
    assert bf16["options"]["fit"]["precision"] == "bf16"
    from safetensors.torch import load_file

    weights = load_file(tmp_path / "bf16" / "model.safetensors")
    assert {tensor.dtype for tensor in weights.values() if tensor.is_floating_point()} == {torch.float32}
    with pytest.raises(InputError, match="precision must be one of fp32, bf16"):
        FitOptions(precision="fp16")


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
    from spectrostyle.nets.audio_cnn import AudioCNN, AudioCNNConfig

    model = AudioCNN(AudioCNNConfig(class_names=("a", "b", "c"), width=0.0625)).eval()
    ranked = classify(torch.rand(2, 1, 512, 32), model, top_k=2)
    assert len(ranked) == 2 and len(ranked[0]) == 2 and ranked[0][0][1] >= ranked[0][1][1]
    assert sum(p for _, p in classify(torch.rand(1, 1, 512, 32), model, top_k=3)[0]) == pytest.approx(1.0)


def test_timbre_augment_keeps_range_and_silence_and_is_seeded():
    images = torch.rand(4, 1, 64, 48)
    images[1] = 0.0
    out = timbre_augment(images, torch.Generator().manual_seed(3))
    again = timbre_augment(images, torch.Generator().manual_seed(3))
    assert out.shape == images.shape and out.dtype == images.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert float(out[1].abs().max()) == 0.0  # silence stays silent: no equaliser lifts the floor
    assert torch.equal(out, again) and not torch.equal(out, timbre_augment(images, torch.Generator().manual_seed(4)))


def test_timbre_augment_pitch_shift_moves_a_partial_by_at_most_the_limit():
    images = torch.zeros(16, 1, 256, 32)
    images[:, :, 100] = 0.8  # one steady partial at bin 100
    still = dict(max_shift=0, max_level_drop=0.0, max_stretch=1.0, max_tilt_db=0.0, bumps=0, freq_masks=0,
                 time_masks=0)
    same = timbre_augment(images, torch.Generator().manual_seed(0), max_semitones=0.0, **still)
    assert torch.allclose(same, images, atol=1e-5)
    shifted = timbre_augment(images, torch.Generator().manual_seed(0), max_semitones=2.0, **still)
    peaks = shifted[:, 0, :, 16].argmax(dim=1).float()
    low, high = 100 * 2 ** (-2 / 12), 100 * 2 ** (2 / 12)
    assert bool(((peaks >= low - 1) & (peaks <= high + 1)).all()) and float(peaks.std()) > 1.0


def test_extra_data_adds_training_instruments_only(tiny_data, tmp_path):
    from spectrostyle.data.nsynth import NSynthIndex

    examples = NSynthIndex.load(tiny_data).examples
    splits = split_instruments(examples, FAMILIES, 1, 1, seed=0)
    added = extra_training_notes([tiny_data], splits, FAMILIES)  # the same rendering stands in for another one
    train_instruments = {e.instrument_str for e in splits["train"]}
    assert len(added) == len(splits["train"]) and {e.instrument_str for e in added} == train_instruments
    with pytest.raises(InputError, match="no notes of the training instruments"):
        extra_training_notes([tiny_data], splits, ("bass",))
    report = train_classifier(ClassifierTrainingOptions(
        data=tiny_data, out=tmp_path / "run", families=FAMILIES, width=0.0625, extra_data=(tiny_data,),
        fit=FitOptions(epochs=1, batch_size=4, progress=False, augmentation="timbre")))
    assert report["extra_training_notes"] == len(added)
    assert report["notes"]["train"] == 2 * len(splits["train"])
    assert not set(report["instruments"]["test"]) & train_instruments


def test_folds_test_every_instrument_once_and_fold_zero_is_the_default_split(capsys, tiny_data, tmp_path):
    from types import SimpleNamespace

    examples = [SimpleNamespace(instrument_str=f"{family}_acoustic_{i:03d}", instrument_family_str=family, pitch=p)
                for family, count in (("flute", 5), ("keyboard", 7)) for i in range(count) for p in (60, 64)]
    tested: dict[str, list[str]] = {"flute": [], "keyboard": []}
    for fold in range(5):  # flute has 5 instruments: folds 0-4
        splits = split_instruments(examples, FAMILIES, 1, 1, seed=3, fold=fold)
        names = {part: {e.instrument_str for e in notes} for part, notes in splits.items()}
        assert len(names["test"]) == 2 and len(names["val"]) == 2
        assert not names["test"] & names["val"] and not names["train"] & (names["test"] | names["val"])
        assert sum(len(notes) for notes in splits.values()) == len(examples)
        for name in names["test"]:
            tested[name.split("_")[0]].append(name)
    assert sorted(tested["flute"]) == sorted({e.instrument_str for e in examples if e.instrument_family_str == "flute"})
    assert len(set(tested["keyboard"])) == 5  # 5 folds test 5 of keyboard's 7 instruments, none twice
    assert split_instruments(examples, FAMILIES, 1, 1, seed=3) == split_instruments(examples, FAMILIES, 1, 1, 3, 0)
    with pytest.raises(InputError, match=r"fold 5 is out of range: family 'flute' has 5 instruments.*folds are 0-4"):
        split_instruments(examples, FAMILIES, 1, 1, seed=3, fold=5)
    # the command line: tiny_data has 3 instruments per family, so folds 0-2
    status = main(["train", "classifier", "--data", str(tiny_data), "--out", str(tmp_path / "run"), "--families",
                   ",".join(FAMILIES), "--fold", "3", "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and "fold 3 is out of range" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()  # refused before anything was written
