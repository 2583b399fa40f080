"""Writing outputs: all of a command's outputs or none, modes kept, unwritable and odd locations refused before
any work, the temporary files of killed processes cleared (only ours, only stale)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from spectrostyle.core.errors import InputError
from spectrostyle.core.outputs import (
    atomic_output,
    check_output_path,
    check_outputs,
    clear_stale_temporaries,
    staged_outputs,
)
from spectrostyle.nets.audio_cnn import AudioCNN, AudioCNNConfig
from spectrostyle.pipeline import TransferResult, save_result
from spectrostyle.store import load_model, save_model
from tests.conftest import harmonic_note


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_staged_outputs_are_renamed_together_or_not_at_all(tmp_path):
    first, second = tmp_path / "a.wav", tmp_path / "b.png"
    first.write_text("old a")
    with pytest.raises(KeyboardInterrupt), staged_outputs(first, second) as (tmp_a, tmp_b):
        tmp_a.write_text("new a")
        raise KeyboardInterrupt  # while the second is being written
    assert first.read_text() == "old a" and not second.exists()
    assert sorted(os.listdir(tmp_path)) == ["a.wav"]
    with staged_outputs(first, second) as (tmp_a, tmp_b):
        assert tmp_a.name.startswith(f".a.wav.{os.getpid()}.") and tmp_a.name.endswith(".tmp.wav")
        tmp_a.write_text("new a")
        tmp_b.write_text("new b")
        assert first.read_text() == "old a"  # nothing replaced before the end
    assert first.read_text() == "new a" and second.read_text() == "new b"
    assert sorted(os.listdir(tmp_path)) == ["a.wav", "b.png"]


def test_a_replaced_file_keeps_its_mode_and_new_files_get_the_usual_one(tmp_path):
    umask = os.umask(0o022)
    try:
        for mode in (0o600, 0o640, 0o664):
            path = tmp_path / f"kept-{mode:o}.txt"
            path.write_text("old")
            path.chmod(mode)
            with atomic_output(path) as tmp:
                tmp.write_text("new")
            assert path.stat().st_mode & 0o777 == mode and path.read_text() == "new"
        with atomic_output(tmp_path / "new.txt") as tmp:
            tmp.write_text("x")
        assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(umask)


def test_a_saved_model_has_the_mode_of_the_runs_other_files(tmp_path):
    umask = os.umask(0o027)
    try:
        model = AudioCNN(AudioCNNConfig(class_names=("a", "b"), width=0.0625))
        json_path = save_model(model, tmp_path / "model")
        (tmp_path / "report.json").write_text("{}")
        modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    finally:
        os.umask(umask)
    assert modes == {"model.json": 0o640, "model.safetensors": 0o640, "report.json": 0o640}
    loaded = load_model(json_path)
    torch.testing.assert_close(loaded.state_dict()["features.conv1_1.weight"],
                               model.state_dict()["features.conv1_1.weight"])


def test_an_interrupted_model_save_changes_neither_file(tmp_path, monkeypatch):
    model = AudioCNN(AudioCNNConfig(class_names=("a", "b"), width=0.0625))
    save_model(model, tmp_path / "model")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    from spectrostyle import store

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "sha256_of", interrupted)  # after the weights, before the description
    with pytest.raises(KeyboardInterrupt):
        save_model(AudioCNN(AudioCNNConfig(class_names=("a", "b"), width=0.0625)), tmp_path / "model")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_unwritable_and_odd_output_locations_are_refused(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="output folder '.*file.txt' is not a folder"):
        check_output_path(tmp_path / "file.txt" / "x.wav")
    with pytest.raises(InputError, match="does not exist"):
        check_output_path(tmp_path / "file.txt" / "sub" / "x.wav")
    os.mkfifo(tmp_path / "pipe.wav")
    with pytest.raises(InputError, match="exists and is not a regular file"):
        check_output_path(tmp_path / "pipe.wav")
    (tmp_path / "old.wav").write_text("x")
    check_output_path(tmp_path / "old.wav")  # the Python API replaces by default
    with pytest.raises(InputError, match="exists; pass --overwrite to replace it"):
        check_output_path(tmp_path / "old.wav", overwrite=False)
    with pytest.raises(InputError, match="must be different files"):
        check_outputs([tmp_path / "a.wav", None, tmp_path / "a.wav"])


def test_unwritable_folder_is_refused_by_its_permissions(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(folder)
                        else real_access(path, mode))  # as a non-root user sees a 0555 folder
    with pytest.raises(InputError, match="is not writable"):
        check_output_path(folder / "x.wav")


def test_stale_temporaries_of_dead_processes_are_cleared_and_nothing_else(tmp_path):
    dead = _dead_pid()
    stale = tmp_path / f".out.wav.{dead}.abcd1234.tmp.wav"
    live = tmp_path / f".out.wav.{os.getpid()}.abcd1234.tmp.wav"  # a write in progress
    others = [tmp_path / ".out.wav.abcd1234.tmp.wav", tmp_path / f".notes.{dead}.txt", tmp_path / "out.wav"]
    for path in (stale, live, *others):
        path.write_text("x")
    assert clear_stale_temporaries(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, *others))
    live.unlink()
    stale.write_text("x")
    with atomic_output(tmp_path / "new.wav") as tmp:  # a later write into the folder clears them
        tmp.write_text("x")
    assert not stale.exists()


def test_save_result_writes_all_outputs_or_none(tmp_path, monkeypatch):
    from spectrostyle import pipeline
    from spectrostyle.core.spectrogram import Spectrogram

    spec = Spectrogram.from_audio(harmonic_note(seconds=0.5))
    result = TransferResult(audio=np.zeros(8000, np.float32) + 0.1, spectrogram=spec, method="fast", settings={},
                            content=spec, styles=[])
    (tmp_path / "o.wav").write_bytes(b"old wav")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the PNG is written

    monkeypatch.setattr(pipeline, "comparison_png", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_result(result, tmp_path / "o.wav", png=tmp_path / "o.png", report_json=tmp_path / "o.json")
    assert (tmp_path / "o.wav").read_bytes() == b"old wav" and sorted(os.listdir(tmp_path)) == ["o.wav"]
    with pytest.raises(InputError, match="exists; pass --overwrite"):
        save_result(result, tmp_path / "o.wav", overwrite=False)
