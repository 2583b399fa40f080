"""AdaIN's trainer: the loss falls and the decoder records its encoder, on tiny models and synthetic notes. Resume:
``test_shared.py``."""

from __future__ import annotations

import csv
import json

import numpy as np

from spectrostyle.pipeline import transfer
from spectrostyle.store import sha256_of
from spectrostyle.train.adain import train_adain
from tests.conftest import harmonic_note
from tests.train.conftest import adain_options as _training_options


def test_training_lowers_the_loss_and_the_decoder_records_its_encoder(training_setup, tmp_path):
    data, encoder = training_setup
    report = train_adain(_training_options(data, encoder, tmp_path / "run", steps=8, checkpoint_every=4))
    run = tmp_path / "run"
    for name in ("model.json", "checkpoint.pt", "metrics.csv", "report.json", "samples/step-000008-0.png",
                 "samples/step-000008-0.wav"):
        assert (run / name).exists(), name
    with open(run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [4, 8]
    assert float(rows[-1]["val_total"]) < float(rows[0]["val_total"])
    config = json.loads((run / "model.json").read_text())["config"]
    assert config["encoder_sha256"] == sha256_of(encoder.with_suffix(".safetensors"))
    assert report["steps"] == 8
    result = transfer(harmonic_note(300.0, 1.0), harmonic_note(500.0, 1.0), "adain", model=str(run / "model.json"),
                      alpha=0.5)
    assert np.isfinite(result.audio).all()


def test_recordings_of_any_kind_join_the_training_notes(training_setup, tmp_path):
    import dataclasses

    import soundfile as sf

    data, encoder = training_setup
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    t = np.arange(int(2.5 * 16_000)) / 16_000
    melody = 0.3 * np.sin(2 * np.pi * np.where(t < 1.2, 330.0, 440.0) * t)
    sf.write(recordings / "melody.wav", np.stack([melody, 0.5 * melody], axis=1), 16_000)
    options = dataclasses.replace(_training_options(data, encoder, tmp_path / "run", steps=2),
                                  extra_audio=(recordings,), extra_repeat=3)
    report = train_adain(options)
    assert report["steps"] == 2
    trained_on = json.loads((tmp_path / "run" / "model.json").read_text())["metadata"]["trained_on"]
    # 2.5 s cut into note-long (1 s) pieces, one every second: two
    assert "and 2 note-long pieces of 1 folder(s) of recordings (recordings; each 3x)" in trained_on
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert "recordings" in json.dumps(run)  # the resume check knows the extra audio
