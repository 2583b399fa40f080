"""The command line as a user meets it: exit codes, one-line errors, files written."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from spectrostyle.ui.cli.main import main
from tests.conftest import requires_shipped


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spectrostyle", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def test_spectrogram_then_invert_round_trip(tmp_path, note_wav):
    png, wav = tmp_path / "n.png", tmp_path / "back.wav"
    assert main(["spectrogram", str(note_wav), "-o", str(png)]) == 0
    assert Image.open(png).size == (256, 512)
    assert main(["invert", str(png), "-o", str(wav)]) == 0
    audio, rate = sf.read(wav)
    assert rate == 16_000 and len(audio) == 64_000 and np.abs(audio).max() > 0.05


def test_a_stereo_44k_recording_round_trips_at_its_rate_channels_and_length(tmp_path):
    from spectrostyle.core.spectrogram import SpectrogramConfig, magnitude, spectral_convergence_db
    from tests.core.test_studio import stereo_recording

    rate = 44_100
    recording = stereo_recording(2.0, rate)
    source, png, back = tmp_path / "s.wav", tmp_path / "s.png", tmp_path / "back.flac"
    sf.write(source, recording, rate, subtype="PCM_24")
    assert main(["spectrogram", str(source), "-o", str(png)]) == 0
    assert Image.open(png).size == (176, 2 * 1024)
    assert main(["invert", str(png), "-o", str(back)]) == 0
    audio, back_rate = sf.read(back, dtype="float32")
    assert back_rate == rate and audio.shape == recording.shape
    config = SpectrogramConfig.for_rate(rate)
    for channel in range(2):
        target = magnitude(torch.from_numpy(recording[:, channel].copy()), config)
        assert float(spectral_convergence_db(target, torch.from_numpy(audio[:, channel].copy()), config)) < -20.0
    assert main(["spectrogram", str(source), "-o", str(tmp_path / "m.png"), "--model-config"]) == 0
    assert Image.open(tmp_path / "m.png").size == (128, 512)  # 2 s at 16 kHz, hop 256, padded to 16 frames


def test_invert_an_edited_png_warns_and_works(tmp_path, capsys):
    edited = tmp_path / "drawn.png"
    pixels = np.zeros((512, 64), dtype=np.uint8)
    pixels[-20, :] = 255  # a line drawn in a paint program: one steady tone
    Image.fromarray(pixels).save(edited)
    assert main(["invert", str(edited), "-o", str(tmp_path / "drawn.wav"), "--gain-db", "-10"]) == 0
    assert "no spectrostyle metadata" in capsys.readouterr().err
    audio, _ = sf.read(tmp_path / "drawn.wav")
    spectrum = np.abs(np.fft.rfft(audio[2000:10000]))
    assert abs(np.argmax(spectrum) * 16_000 / 8000 - (511 - 492) * 16_000 / 1024) < 20  # row 19 from the bottom


@pytest.mark.parametrize(("args", "message"), [
    (["spectrogram", "{tmp}/missing.wav", "-o", "{tmp}/x.png"], "no such file"),
    (["spectrogram", "{tmp}", "-o", "{tmp}/x.png"], "is a directory"),
    (["spectrogram", "{note}", "-o", "{tmp}/x.jpg"], "should end in .png"),
    (["spectrogram", "{note}", "-o", "{note}"], "should end in .png"),
    (["invert", "{note}", "-o", "{tmp}/x.wav"], "not a readable image"),
    (["dataset", "info", "{tmp}/nothing"], "error"),
    (["transfer", "{note}", "--style", "{note}", "-o", "{note}"], "also an input"),
    (["transfer", "{note}", "--style", "{note}", "-o", "{tmp}/o.wav", "--method", "warp"], "unknown method"),
    (["classify", "{note}", "--model", "nonesuch"], "no shipped audio_cnn model named 'nonesuch'"),
    (["spectrogram"], "Missing argument"),
    (["train", "fast", "--style", "{note}", "--data", "{tmp}", "--out", "{tmp}/r", "--precision", "fp16"],
     "'fp16' is not one of 'fp32', 'bf16'"),
    (["frobnicate"], "No such command"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, note_wav, args, message):
    filled = [a.format(tmp=tmp_path, note=note_wav) for a in args]
    completed = run_cli(*filled)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
    error_lines = [line for line in completed.stderr.splitlines() if "rror" in line]
    assert len(error_lines) == 1


def test_existing_output_is_replaced_atomically_and_input_kept(tmp_path, note_wav):
    before = note_wav.read_bytes()
    png = tmp_path / "n.png"
    png.write_bytes(b"old")
    assert main(["spectrogram", str(note_wav), "-o", str(png)]) == 2  # refused without --overwrite
    assert png.read_bytes() == b"old"
    assert main(["spectrogram", str(note_wav), "-o", str(png), "--overwrite"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG" and note_wav.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["n.png", "note.wav"]


def test_dataset_render_and_info(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["dataset", "render", "--out", str(out), "--families", "flute", "--pitches", "60-62",
                 "--pitch-step", "2", "--velocities", "100", "--programs-per-family", "1", "--quiet"]) == 0
    assert main(["dataset", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 notes" in text and "flute" in text
    assert main(["dataset", "render", "--out", str(out), "--families", "kazoo", "--quiet"]) == 2
    assert main(["dataset", "render", "--out", str(out), "--families", "flute", "--programs", "0",
                 "--quiet"]) == 2
    assert "GM program 0 is not in the families flute" in capsys.readouterr().err
    assert main(["dataset", "render", "--out", str(out), "--families", "flute", "--programs", "74,x",
                 "--quiet"]) == 2


def test_demo_writes_the_page(tmp_path):
    completed = run_cli("demo", "-o", str(tmp_path / "out"))
    assert completed.returncode == 0, completed.stderr[-2000:]
    page = (tmp_path / "out" / "index.html").read_text()
    from spectrostyle.methods.registry import METHODS, shipped_settings

    results = sum(shipped_settings(m, a, b) is not None for m in METHODS for a, b in (("flute", "keyboard"),
                                                                                     ("keyboard", "flute")))
    assert results >= 2  # Slow at least, both directions
    studio = sum(shipped_settings(m, "flute", "keyboard") is not None for m in METHODS)
    assert page.count("<audio") == 4 + results + 2 + studio and "Slow: Gatys" in page
    for name in ("flute_60.png", "flute_60_rebuilt.wav", "gatys_flute_as_keyboard.wav",
                 "gatys_keyboard_as_flute.png"):
        assert (tmp_path / "out" / name).stat().st_size > 1000
    # the studio section: full-band stereo results at the content's rate, pictures of every channel's whole band
    assert "Studio sound: 44.1 kHz stereo" in page
    from spectrostyle.core.loudness import integrated_loudness
    from spectrostyle.core.metrics import high_band_share_db
    from spectrostyle.core.png import load_png_channels

    content, rate = sf.read(tmp_path / "out" / "studio_flute_phrase.wav", dtype="float32")
    result, result_rate = sf.read(tmp_path / "out" / "studio_gatys.wav", dtype="float32")
    assert result_rate == rate == 44_100 and result.shape == content.shape == (132_300, 2)
    assert integrated_loudness(result, rate) == pytest.approx(integrated_loudness(content, rate), abs=1.0)
    assert high_band_share_db(result.mean(axis=1), rate) > -60.0  # sound above the models' 8 kHz
    assert 0.0 < np.corrcoef(result.T)[0, 1] < 0.95  # two channels, not one copied
    channels, _ = load_png_channels(tmp_path / "out" / "studio_gatys.png")
    assert len(channels) == 2 and channels[0].config.sample_rate == 44_100


@requires_shipped("pix2pix_generator", "flute-keyboard")
@requires_shipped("cyclegan_generator", "flute-keyboard")
def test_demo_uses_pix2pix_one_way_and_cyclegan_both_ways():
    from spectrostyle.methods.registry import shipped_settings

    assert shipped_settings("pix2pix", "flute", "keyboard") == {"model": "flute-keyboard", "direction": "a2b"}
    assert shipped_settings("pix2pix", "keyboard", "flute") is None
    assert shipped_settings("cyclegan", "keyboard", "flute") == {"model": "flute-keyboard", "direction": "b2a"}


def test_models_lists_the_shipped_classifier(capsys):
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "audio_cnn" in listing and "default" in listing and "n_fft 1024" in listing


def test_every_trainer_offers_the_precisions_training_knows():
    from spectrostyle.train.runtime import PRECISIONS
    from spectrostyle.ui.cli.train import train

    for name, command in train.commands.items():
        option = next(p for p in command.params if p.name == "precision")
        assert tuple(option.type.choices) == PRECISIONS, name
