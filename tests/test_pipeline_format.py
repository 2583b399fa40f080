"""A result comes back in the content's format: its sample rate, channels and bit depth, full band, as WAV or FLAC."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from spectrostyle.core.loudness import integrated_loudness, true_peak_db
from spectrostyle.core.metrics import high_band_share_db, stereo_image_error
from spectrostyle.data.examples import example_path
from spectrostyle.pipeline import transfer
from spectrostyle.ui.cli.main import main
from tests.conftest import requires_shipped
from tests.core.test_studio import stereo_recording

RATE = 44_100


@pytest.fixture
def stereo_flac(tmp_path):
    path = tmp_path / "stereo.flac"
    sf.write(path, stereo_recording(3.0), RATE, subtype="PCM_24")
    return path


@requires_shipped("adain_decoder", "default")
def test_a_stereo_24_bit_recording_comes_back_stereo_24_bit_full_band(stereo_flac, tmp_path, capsys):
    style = tmp_path / "bright.wav"
    sf.write(style, stereo_recording(2.0, seed=11), RATE)
    out = tmp_path / "out.flac"
    assert main(["transfer", str(stereo_flac), "--style", str(style), "--method", "adain", "-o", str(out),
                 "--json", str(tmp_path / "out.json"), "--quiet"]) == 0
    assert "44.1 kHz stereo 24-bit" in capsys.readouterr().out
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype, info.format) == (RATE, 2, "PCM_24", "FLAC")
    content, _ = sf.read(stereo_flac, dtype="float32")
    result, _ = sf.read(out, dtype="float32")
    assert result.shape == content.shape
    assert integrated_loudness(result, RATE) == pytest.approx(integrated_loudness(content, RATE), abs=1.0)
    assert true_peak_db(result, RATE) <= -1.0 + 1e-3
    assert high_band_share_db(result, RATE) == pytest.approx(high_band_share_db(sf.read(style)[0], RATE), abs=6.0)
    level_error_db, correlation_error = stereo_image_error(content, result, RATE)
    assert level_error_db < 2.0 and correlation_error < 0.2
    record = json.loads((tmp_path / "out.json").read_text())
    assert record["output"] == {"sample_rate": RATE, "channels": 2, "bit_depth": "24"}


@requires_shipped("pix2pix_generator", "flute-keyboard")
def test_rate_channels_and_depth_can_be_asked_for(stereo_flac, tmp_path):
    out = tmp_path / "out.wav"
    assert main(["transfer", str(stereo_flac), "--method", "pix2pix", "-o", str(out), "--sample-rate", "22050",
                 "--channels", "1", "--bit-depth", "float", "--quiet"]) == 0
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype, info.format) == (22_050, 1, "FLOAT", "WAV")
    assert info.frames == round(3.0 * 22_050)


@requires_shipped("pix2pix_generator", "flute-keyboard")
def test_an_array_content_stays_at_the_models_rate_unless_asked():
    note = sf.read(example_path("flute", 60), dtype="float32")[0]
    plain = transfer(note, None, "pix2pix")
    assert plain.output_rate == 16_000 and plain.output.shape == (len(note), 1)
    wide = transfer(note, None, "pix2pix", output_rate=48_000, output_channels=2)
    assert wide.output_rate == 48_000 and wide.output.shape == (3 * len(note), 2)
    assert np.isfinite(wide.output).all()


@requires_shipped("fast_transformer", "keyboard")
def test_a_long_content_goes_through_in_segments_that_join_without_a_seam(stereo_flac, monkeypatch):
    import spectrostyle.pipeline as pipeline
    from spectrostyle.core.metrics import clicks

    # the network's own result (keep_pitch 0): the keyboard model shapes each pass as a decaying note, so one 3 s pass
    # and three 1 s segments differ in their slow envelope, which the content's harmonic detail then follows
    whole = transfer(stereo_flac, None, "fast", model="keyboard", keep_pitch=0.0)
    monkeypatch.setattr(pipeline, "LONG_SECONDS", 1.0)
    monkeypatch.setattr(pipeline, "SEGMENT_SECONDS", 1.0)
    parts = transfer(stereo_flac, None, "fast", model="keyboard", keep_pitch=0.0)  # 3 s in segments of 1 s
    content, _ = sf.read(stereo_flac, dtype="float32")
    assert parts.output.shape == whole.output.shape == content.shape
    assert parts.spectrogram.image.shape == whole.spectrogram.image.shape
    assert integrated_loudness(parts.output, RATE) == pytest.approx(integrated_loudness(content, RATE), abs=1.0)
    assert clicks(parts.output, RATE) <= clicks(whole.output, RATE)
    # the segments make what the whole makes, but for the network's view near the joins (the phase may differ)
    assert float((parts.spectrogram.image - whole.spectrogram.image).abs().mean()) < 0.1
    frequencies = np.fft.rfftfreq(len(content), 1 / RATE)
    for low, high in ((0, 2000), (2000, 8000), (8000, RATE / 2)):
        inside = (frequencies >= low) & (frequencies < high)
        energy = [np.sum(np.abs(np.fft.rfft(r.output[:, 0]))[inside] ** 2) for r in (parts, whole)]
        assert 10 * np.log10(energy[0] / energy[1]) == pytest.approx(0.0, abs=2.0)
