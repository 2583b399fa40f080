"""The examples shipped in the package."""

from __future__ import annotations

import numpy as np
import pytest


def test_the_studio_phrases_are_shipped_at_the_studio_format():
    import soundfile as sf

    from spectrostyle.core.errors import InputError
    from spectrostyle.core.metrics import high_band_share_db
    from spectrostyle.data.examples import studio_example

    for family in ("flute", "keyboard"):
        audio, rate = sf.read(studio_example(family), dtype="float32")
        assert rate == 44_100 and audio.shape == (132_300, 2)
        assert -9.0 < 20 * np.log10(np.abs(audio).max()) < -3.0  # peaks near -6 dBFS
        assert high_band_share_db(audio.mean(axis=1), rate) > -55.0  # a band above 8 kHz
        assert np.corrcoef(audio.T)[0, 1] < 0.9  # a stereo image, not one channel twice
    with pytest.raises(InputError, match="no shipped studio phrase for family 'brass'"):
        studio_example("brass")
