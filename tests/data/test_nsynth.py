"""NSynth-format indexes, filters, held-out splits, the spectrogram Dataset and the shipped examples."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from spectrostyle.core.audio import load_audio, save_audio
from spectrostyle.core.errors import InputError
from spectrostyle.core.vocabulary import FAMILIES, pitch_name
from spectrostyle.data.examples import example_path, examples_dir
from spectrostyle.data.nsynth import NSynthExample, NSynthIndex, SpectrogramDataset, dataset_info
from spectrostyle.data.render import default_soundfont, render_dataset

# (family, source, instruments) of the synthetic set; 3 pitches x 1 velocity each
LAYOUT = (("brass", "acoustic", 2), ("flute", "acoustic", 3), ("keyboard", "electronic", 2), ("vocal", "synthetic", 1))
PITCHES = (48, 60, 72)
# one entry as NSynth's json/wav release writes it (values made up, fields and types as released)
RELEASE_ENTRY = {"note": 201034, "sample_rate": 16000, "pitch": 60, "instrument_source": 2,
                 "instrument_family_str": "bass", "instrument_str": "bass_synthetic_033",
                 "note_str": "bass_synthetic_033-060-050", "qualities_str": ["dark"],
                 "instrument_source_str": "synthetic", "velocity": 50, "instrument_family": 0,
                 "instrument": 417, "qualities": [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]}


def tone(pitch: int, seconds: float = 4.0, sample_rate: int = 16_000) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 5))
    return (0.3 * wave * np.exp(-t) * np.clip((seconds - t) / 0.5, 0, 1)).astype(np.float32)


def entry(family: str, source: str, number: int, pitch: int, velocity: int = 100) -> dict:
    instrument_str = f"{family}_{source}_{number:03d}"
    return {"note": len(instrument_str) * 1000 + pitch, "note_str": f"{instrument_str}-{pitch:03d}-{velocity:03d}",
            "instrument": FAMILIES.index(family) * 10 + number, "instrument_str": instrument_str,
            "instrument_family": FAMILIES.index(family), "instrument_family_str": family,
            "instrument_source": ("acoustic", "electronic", "synthetic").index(source),
            "instrument_source_str": source, "pitch": pitch, "velocity": velocity, "sample_rate": 16_000,
            "qualities": [0] * 10, "qualities_str": [], "extra_field": "ignored"}


def write_dataset(root, entries: list[dict]):
    (root / "audio").mkdir(parents=True)
    for e in entries:
        save_audio(root / "audio" / f"{e['note_str']}.wav", tone(e["pitch"]))
    (root / "examples.json").write_text(json.dumps({e["note_str"]: e for e in entries}))
    return root


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    entries = [entry(family, source, n, pitch) for family, source, count in LAYOUT for n in range(count)
               for pitch in PITCHES]
    return write_dataset(tmp_path_factory.mktemp("nsynth"), entries)


@pytest.fixture(scope="module")
def index(synthetic_root) -> NSynthIndex:
    return NSynthIndex(synthetic_root)


def test_index_loads(index, synthetic_root):
    assert len(index) == 8 * 3
    assert [e.note_str for e in index] == sorted(e.note_str for e in index)
    first = index[0]
    assert isinstance(first, NSynthExample) and first.audio_path == synthetic_root / "audio" / f"{first.note_str}.wav"
    assert first.qualities == (0,) * 10 and first.gm_program is None
    assert index.families == ["brass", "flute", "keyboard", "vocal"]
    assert index.sources == ["acoustic", "electronic", "synthetic"]
    assert index.pitches == list(PITCHES) and index.velocities == [100]
    assert len(index.instruments) == 8
    assert NSynthIndex.load(synthetic_root).examples == index.examples
    assert index.counts("instrument_family_str") == {"brass": 6, "flute": 9, "keyboard": 6, "vocal": 3}
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.pitch = 1


def test_nsynth_release_entry(tmp_path):
    root = write_dataset(tmp_path / "release", [RELEASE_ENTRY])
    (example,) = NSynthIndex(root)
    assert (example.instrument_str, example.pitch, example.velocity, example.qualities_str) == (
        "bass_synthetic_033", 60, 50, ("dark",))
    assert example.qualities[1] == 1 and example.gm_program is None


def test_filters(index):
    flutes = index.filter(families="flute")
    assert len(flutes) == 9 and flutes.families == ["flute"]
    assert index.filter(families=[2]).examples == flutes.examples
    assert len(index.filter(families=["brass", "vocal"])) == 9
    assert index.filter(sources="electronic").families == ["keyboard"]
    assert index.filter(sources=[0, 2]).sources == ["acoustic", "synthetic"]
    assert index.filter(pitches=(50, 80)).pitches == [60, 72]
    assert len(index.filter(velocities=[100])) == len(index)
    assert len(index.filter(velocities=50)) == 0
    assert index.filter(instruments="flute_acoustic_001").instruments == ["flute_acoustic_001"]
    both = index.filter(families="flute", pitches=(60, 60))
    assert {(e.instrument_family_str, e.pitch) for e in both} == {("flute", 60)} and len(both) == 3
    with pytest.raises(InputError, match="kazoo.*valid: bass, brass"):
        index.filter(families="kazoo")
    with pytest.raises(InputError, match="empty"):
        index.filter(pitches=(70, 60))
    assert index.get(index[3].note_str) == index[3]
    with pytest.raises(InputError, match="no note"):
        index.get("nope")


def test_split_by_instrument(index):
    train, held = index.split_by_instrument(0.4, seed=3)
    assert not set(train.instruments) & set(held.instruments)
    assert sorted(train.examples + held.examples, key=lambda e: e.note_str) == list(index.examples)
    # stratified: each family with >= 2 instruments is on both sides; the single vocal stays in train
    assert held.families == ["brass", "flute", "keyboard"]
    assert train.families == ["brass", "flute", "keyboard", "vocal"]
    again_train, again_held = index.split_by_instrument(0.4, seed=3)
    assert again_held.examples == held.examples and again_train.examples == train.examples
    helds = {tuple(index.split_by_instrument(0.4, seed=s)[1].instruments) for s in range(8)}
    assert len(helds) > 1  # the seed matters
    with pytest.raises(InputError, match="fraction"):
        index.split_by_instrument(1.0)
    with pytest.raises(InputError, match="two or more"):
        index.filter(families="vocal").split_by_instrument(0.5)


def test_split_by_pitch(index):
    train, held = index.split_by_pitch(0.34, seed=1)
    assert len(held.pitches) == 1 and not set(train.pitches) & set(held.pitches)
    assert len(train) + len(held) == len(index)
    assert index.split_by_pitch(0.34, seed=1)[1].examples == held.examples
    train, held = index.split_by_pitch(pitches=[48, 72])
    assert held.pitches == [48, 72] and train.pitches == [60]
    with pytest.raises(InputError, match="not in this index"):
        index.split_by_pitch(pitches=[61])


def test_spectrogram_dataset(index):
    data = SpectrogramDataset(index, cache=True)
    assert len(data) == len(index)
    image, label = data[0]
    assert image.shape == (1, 512, 256) and image.dtype == torch.float32
    assert float(image.min()) >= 0.0 and float(image.max()) == pytest.approx(1.0)
    assert data.label_names[label] == index[0].instrument_family_str
    assert data.labels == [FAMILIES.index(e.instrument_family_str) for e in index]
    assert data[0][0] is image  # cached
    assert data[-1][1] == data.labels[-1]
    with pytest.raises(IndexError):
        data[len(data)]
    # the loudest row of the C3 tone (130.8 Hz, harmonics at 1/k amplitude) is its fundamental
    c3 = next(i for i, e in enumerate(index) if e.pitch == 48)
    row = int(data[c3][0][0, :, 64].argmax())
    assert abs(row * 16_000 / 1024 - 130.8) < 16_000 / 1024

    sources = SpectrogramDataset(index, label_field="source")
    assert sources.label_names == ("acoustic", "electronic", "synthetic")
    pitches = SpectrogramDataset(index, label_field="pitch")
    assert pitches.labels[0] == index[0].pitch and pitches.label_names[60] == "C4"
    train, held = index.split_by_instrument(0.4, seed=0)
    by_instrument = SpectrogramDataset(train, label_field="instrument", classes=index.instruments)
    assert by_instrument.label_names == tuple(index.instruments)
    assert [by_instrument.label_names[i] for i in by_instrument.labels] == [e.instrument_str for e in train]
    with pytest.raises(InputError, match="not among"):
        SpectrogramDataset(held, label_field="instrument", classes=train.instruments)
    with pytest.raises(InputError, match="unknown label field"):
        SpectrogramDataset(index, label_field="colour")
    loader = torch.utils.data.DataLoader(SpectrogramDataset(index.filter(pitches=(60, 60))), batch_size=4)
    images, labels = next(iter(loader))
    assert images.shape == (4, 1, 512, 256) and labels.dtype == torch.int64


def test_short_audio_is_padded(tmp_path):
    root = write_dataset(tmp_path / "short", [entry("flute", "acoustic", 0, 60)])
    save_audio(root / "audio" / "flute_acoustic_000-060-100.wav", tone(60, seconds=1.5))
    assert SpectrogramDataset(NSynthIndex(root))[0][0].shape == (1, 512, 256)
    assert SpectrogramDataset(NSynthIndex(root), duration=None)[0][0].shape == (1, 512, 96)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "object keyed by note_str"),
    (json.dumps({"x-060-100": {"note": 1}}), "no 'note_str' field"),
    (json.dumps({RELEASE_ENTRY["note_str"]: {**RELEASE_ENTRY, "pitch": "60"}}), "'pitch' should be int"),
    (json.dumps({"other": RELEASE_ENTRY}), "different note_str"),
    (json.dumps({RELEASE_ENTRY["note_str"]: [1]}), "not an object"),
])
def test_malformed_examples_json(tmp_path, content, message):
    (tmp_path / "audio").mkdir()
    (tmp_path / "examples.json").write_text(content)
    with pytest.raises(InputError, match=message):
        NSynthIndex(tmp_path)


def test_missing_dataset_parts(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        NSynthIndex(tmp_path / "absent")
    with pytest.raises(InputError, match="no examples.json"):
        NSynthIndex(tmp_path)
    (tmp_path / "examples.json").write_text(json.dumps({RELEASE_ENTRY["note_str"]: RELEASE_ENTRY}))
    with pytest.raises(InputError, match="no 'audio' folder"):
        NSynthIndex(tmp_path)
    (tmp_path / "audio").mkdir()
    with pytest.raises(InputError, match="no such file"):
        SpectrogramDataset(NSynthIndex(tmp_path))[0]


def test_dataset_info(synthetic_root):
    text = dataset_info(synthetic_root)
    assert "24 notes, 8 instruments, 4 families" in text
    assert "flute" in text and "9 notes" in text
    assert "flute_acoustic_002" in text
    assert " 60 C4 " in text
    assert pitch_name(69) == "A4" and pitch_name(21) == "A0"


def test_shipped_examples():
    root = examples_dir()
    index = NSynthIndex(root)
    pairs = {(e.instrument_family_str, e.pitch) for e in index}
    assert {("flute", 60), ("keyboard", 60), ("flute", 65), ("keyboard", 65), ("guitar", 60), ("string", 60),
            ("brass", 60), ("reed", 60)} <= pairs
    assert all(e.velocity == 100 and e.gm_program is not None for e in index)
    path = example_path("flute")
    assert path.is_file() and path == example_path("flute", 60)
    audio = load_audio(path)
    assert audio.shape == (64_000,) and 0.05 < np.abs(audio).max() <= 1.0
    assert sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) < 1.5e6
    with pytest.raises(InputError, match="available: brass at 60;.*flute at 60, 65"):
        example_path("bass", 40)


def test_rendered_dataset_loads(tmp_path):
    try:
        soundfont = default_soundfont()
    except InputError as exc:
        pytest.skip(f"no GM SoundFont: {exc}")
    render_dataset(tmp_path, soundfont=soundfont, families=["guitar", "string"], pitches=(55, 57), pitch_step=2,
                   velocities=(75,), programs_per_family=1, progress=False)
    index = NSynthIndex(tmp_path)
    assert len(index) == 4 and index.families == ["guitar", "string"]
    assert {e.gm_program for e in index} == {24, 40}
    data = SpectrogramDataset(index)
    image, label = data[3]
    assert image.shape == (1, 512, 256) and data.label_names[label] == "string"
    assert "GM program 24" in dataset_info(tmp_path)
