"""Every result has its content's loudness (or the one asked for) and a true peak of at most -1 dBTP."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from spectrostyle.core.audio import load_audio
from spectrostyle.core.loudness import integrated_loudness, true_peak_db
from spectrostyle.data.examples import example_path
from spectrostyle.pipeline import transfer
from spectrostyle.ui.cli.main import main
from tests.conftest import harmonic_note, requires_shipped

RATE = 16_000


@requires_shipped("adain_decoder", "default")
@requires_shipped("pix2pix_generator", "flute-keyboard")
@pytest.mark.parametrize("method", ["adain", "pix2pix"])
def test_results_have_the_contents_loudness_and_a_true_peak_under_minus_1(method):
    content = example_path("flute", 60)
    style = example_path("keyboard", 60) if method == "adain" else None
    reference = integrated_loudness(sf.read(content, dtype="float32")[0], RATE)
    result = transfer(content, style, method)
    assert integrated_loudness(result.audio, RATE) == pytest.approx(reference, abs=1.0)
    assert true_peak_db(result.audio, RATE) <= -1.0 + 1e-3
    louder = transfer(content, style, method, loudness=-14.0)
    assert integrated_loudness(louder.audio, RATE) == pytest.approx(-14.0, abs=1.0)
    assert louder.settings["loudness"] == -14.0


@requires_shipped("pix2pix_generator", "flute-keyboard")
def test_the_cli_takes_a_loudness_target(tmp_path, capsys):
    content = tmp_path / "c.wav"
    sf.write(content, harmonic_note(seconds=2.0), RATE)
    out = tmp_path / "out.wav"
    assert main(["transfer", str(content), "--method", "pix2pix", "--loudness", "-20", "-o", str(out),
                 "--quiet"]) == 0
    assert integrated_loudness(sf.read(out, dtype="float32")[0], RATE) == pytest.approx(-20.0, abs=1.0)
    assert main(["transfer", str(content), "--method", "pix2pix", "--loudness", "3", "-o",
                 str(tmp_path / "x.wav")]) == 2


@requires_shipped("pix2pix_generator", "flute-keyboard")
def test_a_stereo_44k_file_gives_its_own_loudness_not_that_of_its_mono_16k_mix(tmp_path):
    left = harmonic_note(seconds=2.0, sample_rate=44_100)
    content = tmp_path / "stereo.wav"
    sf.write(content, np.stack([left, 0.9 * left], axis=1), 44_100)
    heard = integrated_loudness(sf.read(content, dtype="float32")[0], 44_100)
    mono_16k = integrated_loudness(load_audio(content, sample_rate=RATE), RATE)
    assert heard - mono_16k > 2.0  # the stereo file is louder than its mono mix: the reference must be the file
    result = transfer(content, None, "pix2pix")
    assert integrated_loudness(result.audio, RATE) == pytest.approx(heard, abs=1.0)
    assert result.settings["loudness"] is None  # the default is recorded as such, not as the measured value
