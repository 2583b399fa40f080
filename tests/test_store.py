from __future__ import annotations

import json
import os
import pickle

import pytest
import torch

from spectrostyle.core.errors import ConfigMismatchError, InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.nets.audio_cnn import AudioCNN, AudioCNNConfig, RandomSpectrumCNN
from spectrostyle.store import load_model, read_description, resolve_model, save_model, sha256_of, shipped_models


def _models():
    torch.manual_seed(0)
    cnn = AudioCNN(AudioCNNConfig(class_names=("x", "y"), pitch_head=True))
    for m in cnn.modules():  # make batch-norm statistics non-trivial so they must be saved too
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return [cnn.eval(), RandomSpectrumCNN(filters=32, seed=5).eval()]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.kind)
def test_save_load_gives_identical_outputs(tmp_path, model):
    path = save_model(model, tmp_path / "m", metadata={"trained_on": "nothing"})
    loaded = load_model(path)
    assert type(loaded) is type(model) and not loaded.training
    assert loaded.metadata == {"trained_on": "nothing"}
    images = torch.rand(2, 1, 512, 32)
    layer = "relu" if model.kind == "random_spectrum_cnn" else "relu4_1"
    torch.testing.assert_close(loaded.extract(images, [layer])[layer], model.extract(images, [layer])[layer],
                               atol=0, rtol=0)
    assert sorted(os.listdir(tmp_path)) == ["m.json", "m.safetensors"]


def test_refusals(tmp_path):
    model = _models()[1]
    path = save_model(model, tmp_path / "m")
    with pytest.raises(InputError, match="is a random_spectrum_cnn model, not a audio_cnn"):
        load_model(path, expect_kind="audio_cnn")
    with pytest.raises(ConfigMismatchError, match="n_fft=1024 \\(expected 512\\)"):
        load_model(path, spectrogram=SpectrogramConfig(n_fft=512, hop_length=128))
    weights = tmp_path / "m.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"abcd")
    with pytest.raises(InputError, match="does not match the checksum"):
        load_model(path)
    weights.unlink()
    with pytest.raises(InputError, match="missing weights"):
        load_model(path)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_description(tmp_path / "bad.json")
    with pytest.raises(InputError, match="no model description"):
        load_model(tmp_path / "absent")


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED_MARKER",))


def test_a_pickle_posing_as_weights_is_never_unpickled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = _models()[1]
    path = save_model(model, tmp_path / "m")
    weights = tmp_path / "m.safetensors"
    weights.write_bytes(pickle.dumps(_Exploit()))
    description = json.loads(path.read_text())
    description["sha256"] = sha256_of(weights)  # even with a matching checksum
    path.write_text(json.dumps(description))
    with pytest.raises(InputError, match="cannot read weights"):
        load_model(path)
    assert not (tmp_path / "PWNED_MARKER").exists()


def test_registry_resolves_paths_and_lists_names(tmp_path):
    model = _models()[0]
    path = save_model(model, tmp_path / "audio_cnn-tiny", metadata={"trained_on": "unit test"})
    assert resolve_model(str(tmp_path / "audio_cnn-tiny"), "audio_cnn") == path
    assert resolve_model(str(path.with_suffix(".safetensors")), "audio_cnn") == path
    listed = shipped_models(tmp_path)
    assert [(m.name, m.kind, m.trained_on) for m in listed] == [("tiny", "audio_cnn", "unit test")]
    assert listed[0].size_bytes == path.with_suffix(".safetensors").stat().st_size
    with pytest.raises(InputError, match="no shipped audio_cnn model named 'nonesuch'"):
        resolve_model("nonesuch", "audio_cnn")
    with pytest.raises(InputError, match="no model at"):
        resolve_model(str(tmp_path / "missing.json"), "audio_cnn")
