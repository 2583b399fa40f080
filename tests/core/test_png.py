from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image, PngImagePlugin

from spectrostyle.core.errors import InputError
from spectrostyle.core.png import METADATA_KEY, load_png, load_png_channels, save_png
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig
from tests.conftest import harmonic_note


def test_roundtrip_keeps_image_config_gain_and_length(tmp_path, note):
    config = SpectrogramConfig(db_floor=-70.0)
    spec = Spectrogram.from_audio(note[:50_000], config)
    path = save_png(tmp_path / "s.png", spec)
    with Image.open(path) as image:
        assert image.mode.startswith("I;16") and image.size == (spec.image.shape[1], 512)
        assert json.loads(image.text[METADATA_KEY])["config"]["db_floor"] == -70.0
    back, had_metadata = load_png(path)
    assert had_metadata
    assert back.config == config and back.num_samples == 50_000
    assert back.gain_db == pytest.approx(spec.gain_db, abs=1e-9)
    torch.testing.assert_close(back.image, spec.image, atol=0.6 / 65535, rtol=0)


def test_low_frequencies_are_at_the_bottom(tmp_path):
    low = harmonic_note(100, 1.0, harmonics=1)
    path = save_png(tmp_path / "low.png", Spectrogram.from_audio(low))
    pixels = np.asarray(Image.open(path), dtype=np.float64)
    brightest_row = int(np.argmax(pixels[:, 20]))
    assert brightest_row > 500  # 100 Hz is bin ~6 from the bottom of 512 rows


def test_edited_8bit_png_without_metadata_loads_with_defaults(tmp_path, note):
    spec = Spectrogram.from_audio(note)
    eight_bit = (spec.image.flip(0).numpy() * 255).round().astype(np.uint8)
    path = tmp_path / "edited.png"
    Image.fromarray(eight_bit).convert("RGB").save(path)  # an editor saving in colour, dropping our chunk
    back, had_metadata = load_png(path, gain_db=-12.0)
    assert not had_metadata
    assert back.gain_db == -12.0 and back.config == SpectrogramConfig()
    torch.testing.assert_close(back.image, spec.image, atol=1 / 255 + 1e-6, rtol=0)
    assert back.to_audio(n_iter=4).shape == (back.num_samples,)


def test_wrong_height_and_bad_files(tmp_path):
    Image.fromarray(np.zeros((100, 40), dtype=np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(InputError, match="100 pixels high"):
        load_png(tmp_path / "small.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(InputError, match="not a readable image"):
        load_png(tmp_path / "text.png")
    with pytest.raises(InputError, match="no such file"):
        load_png(tmp_path / "missing.png")
    info = PngImagePlugin.PngInfo()
    info.add_itxt(METADATA_KEY, "{broken")
    Image.fromarray(np.zeros((512, 16), dtype=np.uint8)).save(tmp_path / "damaged.png", pnginfo=info)
    with pytest.raises(InputError, match="damaged"):
        load_png(tmp_path / "damaged.png")


def test_save_refuses_input_as_output(tmp_path, note):
    spec = Spectrogram.from_audio(note)
    path = save_png(tmp_path / "a.png", spec)
    before = path.read_bytes()
    with pytest.raises(InputError, match="also an input"):
        save_png(path, spec, inputs=[path])
    assert path.read_bytes() == before


def test_channels_are_stacked_at_one_gain_and_come_back_apart(tmp_path):
    rate = 44_100
    config = SpectrogramConfig.for_rate(rate)
    assert (config.n_fft, config.hop_length) == (2048, 512)
    assert SpectrogramConfig.for_rate(16_000) == SpectrogramConfig()
    left = harmonic_note(220, 1.0, rate)
    stereo = np.stack([left, 0.25 * left], axis=1)  # right 12 dB down
    channels = Spectrogram.from_channels(stereo, config)
    path = save_png(tmp_path / "stereo.png", channels)
    with Image.open(path) as image:
        assert image.size[1] == 2 * config.n_freq
        assert json.loads(image.text[METADATA_KEY])["channels"] == 2
    back, had_metadata = load_png_channels(path)
    assert had_metadata and len(back) == 2 and back[0].config == config
    loudest = [float(spec.image.max()) for spec in back]
    assert loudest[0] == pytest.approx(1.0)
    assert (loudest[0] - loudest[1]) * -config.db_floor == pytest.approx(12.04, abs=0.1)  # levels kept
    with pytest.raises(InputError, match="holds 2 channels"):
        load_png(path)
