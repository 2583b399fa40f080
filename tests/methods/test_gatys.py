"""Quality of the Slow method with its defaults and the shipped feature network, on rendered notes whose
content and style are five semitones apart (marked ``acceptance``)."""

from __future__ import annotations

import numpy as np
import pytest

from spectrostyle.core.audio import load_audio
from spectrostyle.core.metrics import pitch_error_to_note_cents
from spectrostyle.data.examples import example_path
from spectrostyle.pipeline import transfer

pytestmark = pytest.mark.acceptance

PAIRS = [(("keyboard", 60), ("flute", 65)), (("flute", 60), ("keyboard", 65))]


@pytest.fixture(scope="module", params=PAIRS, ids=lambda p: f"{p[0][0]}{p[0][1]}-as-{p[1][0]}{p[1][1]}")
def blended(request):
    (content_family, content_pitch), (style_family, style_pitch) = request.param
    content = load_audio(example_path(content_family, content_pitch))
    style = load_audio(example_path(style_family, style_pitch))
    return content_pitch, transfer(content, style, "gatys")


def test_keeps_the_content_pitch(blended):
    content_pitch, result = blended
    assert pitch_error_to_note_cents(result.audio, 16_000, content_pitch) <= 50.0


def test_style_loss_falls_tenfold(blended):
    _, result = blended
    style = result.history["style"]
    assert style[-1] <= style[0] / 10


def test_output_is_sound(blended):
    _, result = blended
    audio = result.audio
    assert np.isfinite(audio).all()
    assert 0.0 < np.abs(audio).max() <= 1.0
    assert np.sqrt(np.mean(audio ** 2)) > 1e-3  # not silent (> -60 dBFS RMS)
