from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from spectrostyle.core.errors import ConfigMismatchError, InputError
from spectrostyle.core.spectrogram import (
    Spectrogram,
    SpectrogramConfig,
    SpectrogramImage,
    image_to_magnitude,
    magnitude,
    magnitude_to_image,
)
from tests.conftest import harmonic_note


def test_default_four_second_note_is_512_by_256(note):
    spec = Spectrogram.from_audio(note)
    assert tuple(spec.image.shape) == (512, 256)
    assert spec.num_samples == 64_000 and spec.duration == pytest.approx(4.0)
    assert float(spec.image.min()) >= 0.0 and float(spec.image.max()) == pytest.approx(1.0)


@pytest.mark.parametrize("seconds", [0.05, 0.5, 7.3, 61.0])
def test_any_length(seconds):
    config = SpectrogramConfig()
    audio = harmonic_note(220, seconds)
    spec = Spectrogram.from_audio(audio, config)
    frames = spec.image.shape[1]
    assert frames % config.frame_multiple == 0
    assert config.padded_samples(frames) >= len(audio) > config.padded_samples(frames - config.frame_multiple)


def test_full_scale_sine_at_bin_centre_is_zero_db():
    config = SpectrogramConfig()
    bin_index = 40
    t = np.arange(32_000) / 16_000
    sine = np.sin(2 * np.pi * bin_index * 16_000 / config.n_fft * t).astype(np.float32)
    mag = magnitude(torch.from_numpy(sine), config)
    assert float(mag[bin_index, 20:-20].mean()) == pytest.approx(1.0, abs=1e-3)


def test_agrees_with_librosa(note):
    config = SpectrogramConfig()
    ours = magnitude(torch.from_numpy(note), config).numpy()
    padded = np.pad(note, (0, config.padded_samples(ours.shape[1]) - len(note)))
    theirs = np.abs(librosa.stft(padded, n_fft=1024, hop_length=256, window="hann", center=True,
                                 pad_mode="constant"))[:512] / (np.hanning(1025)[:-1].sum() / 2)
    np.testing.assert_allclose(ours, theirs, atol=1e-4 * theirs.max())


def test_image_maps_db_linearly_from_floor_to_peak():
    config = SpectrogramConfig(db_floor=-60.0)
    mag = torch.tensor([[1.0, 0.1, 0.01, 0.001, 1e-4]]).reshape(1, 5)
    image, gain = magnitude_to_image(mag, config)
    assert float(gain) == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(image.numpy()[0], [1.0, 2 / 3, 1 / 3, 0.0, 0.0], atol=1e-6)
    back = image_to_magnitude(image, config, gain)
    np.testing.assert_allclose(back.numpy()[0][:3], [1.0, 0.1, 0.01], rtol=1e-5)
    assert float(back[0, 3]) == 0.0  # at the floor: silence


def test_batch_equals_items_and_module_form():
    config = SpectrogramConfig()
    batch = torch.from_numpy(np.stack([harmonic_note(f, 1.0) * g for f, g in [(200, 1), (310, 0.1), (500, 0.5)]]))
    images, gains = SpectrogramImage(config)(batch)
    assert tuple(images.shape) == (3, 1, 512, images.shape[-1])
    for i in range(3):
        single = Spectrogram.from_audio(batch[i].numpy(), config)
        torch.testing.assert_close(images[i, 0], single.image, atol=1e-5, rtol=0)
        assert float(gains[i]) == pytest.approx(single.gain_db, abs=1e-4)


def test_differentiable_gradcheck():
    config = SpectrogramConfig(n_fft=16, hop_length=4, db_floor=-400.0, frame_multiple=1)
    audio = torch.randn(2, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    audio.requires_grad_(True)

    def to_image(x):
        return magnitude_to_image(magnitude(x, config), config, gain_db=0.0)[0]

    assert torch.autograd.gradcheck(to_image, (audio,), eps=1e-6, atol=1e-4)


def test_config_json_roundtrip_and_validation():
    config = SpectrogramConfig(n_fft=512, hop_length=128)
    assert SpectrogramConfig.from_json(config.to_json()) == config
    with pytest.raises(InputError, match="unknown spectrogram config keys: colour"):
        SpectrogramConfig.from_dict({"colour": 1})
    with pytest.raises(InputError, match="window must be one of"):
        SpectrogramConfig(window="kaiser")
    with pytest.raises(InputError, match="hop_length"):
        SpectrogramConfig(hop_length=0)
    with pytest.raises(InputError, match="not valid JSON"):
        SpectrogramConfig.from_json("{")


def test_require_same_names_the_differences():
    with pytest.raises(ConfigMismatchError, match=r"model has a different spectrogram config: n_fft=512 "
                                                  r"\(expected 1024\), hop_length=128 \(expected 256\)"):
        SpectrogramConfig().require_same(SpectrogramConfig(n_fft=512, hop_length=128), "model")
    SpectrogramConfig().require_same(SpectrogramConfig())


def test_spectrogram_refuses_image_of_wrong_height():
    with pytest.raises(ConfigMismatchError, match="512 frequency rows"):
        Spectrogram(image=torch.zeros(256, 64), gain_db=0.0, num_samples=1000, config=SpectrogramConfig())


def test_with_content_pitch_moves_the_partials_and_keeps_the_envelope():
    from spectrostyle.core.shaping import with_content_pitch

    bins, frames = 200, 4
    envelope = torch.linspace(0.6, 0.2, bins)[:, None].repeat(1, frames)  # the result's timbre: falling with frequency
    result, content = envelope.clone(), torch.full((bins, frames), 0.2)
    result[10::12] += 0.15  # the result's partials, blurred to the wrong place
    content[16::12] += 0.3  # the content's, six bins further up
    kept = with_content_pitch(result, content)
    peaks = [int(kept[start:start + 12, 0].argmax()) + start for start in range(12, 180, 12)]
    assert peaks == list(range(16, 180, 12))[: len(peaks)]
    # the envelope is the result's: averaged over the bins, within a few hundredths of it
    assert float((kept.mean(dim=0) - result.mean(dim=0)).abs().max()) < 0.02
    np.testing.assert_allclose(kept[24:168].reshape(-1, 12, frames).mean(dim=1).numpy(),
                               result[24:168].reshape(-1, 12, frames).mean(dim=1).numpy(), atol=0.02)
    assert torch.equal(with_content_pitch(result, content, 0.0), result)
    half = with_content_pitch(result, content, 0.5)
    torch.testing.assert_close(half, (result + kept) / 2, atol=1e-6, rtol=0)
    assert float(kept.min()) >= 0.0 and float(kept.max()) <= 1.0
    with pytest.raises(InputError, match="does not match"):
        with_content_pitch(result, content[:, :2])
    # with the rows' spacing given, only the band where pitch is heard takes the content's detail
    from spectrostyle.core.shaping import PITCH_BAND_HZ

    bin_hz = 40.0  # 200 rows: 0 to 8 kHz
    banded = with_content_pitch(result, content, bin_hz=bin_hz)
    below, above = int(PITCH_BAND_HZ[0] / bin_hz), int(np.ceil(PITCH_BAND_HZ[1] / bin_hz))
    torch.testing.assert_close(banded[: below + 1], kept[: below + 1], atol=1e-6, rtol=0)
    assert torch.equal(banded[above:], result[above:])
    middle = (below + above) // 2
    assert float((banded[middle] - result[middle]).abs().max()) > 0


def test_with_style_balance_moves_the_long_term_spectrum_toward_the_style_within_its_limit():
    from spectrostyle.core.shaping import BALANCE_LIMIT_DB, spectral_balance, with_style_balance

    bins, frames, db_range, bin_hz = 128, 40, 80.0, 62.5  # 0 to 8 kHz
    rows = torch.linspace(0, 1, bins)[:, None]
    result = (0.8 - 0.3 * rows).repeat(1, frames)  # darker: falls 24 dB to the top
    style = (0.8 - 0.1 * rows).repeat(1, frames)  # brighter: falls 8 dB
    result[:, -5:] = 0.0  # a silence stays silent
    wanted = spectral_balance(style, db_range)
    moved = with_style_balance(result, wanted, 1.0, db_range, bin_hz=bin_hz)
    change_db = (moved - result)[:, 0].numpy() * db_range
    assert change_db[-10:].mean() > change_db[:10].mean() + 6.0  # the top lifted against the bottom
    assert np.abs(change_db).max() <= BALANCE_LIMIT_DB + 1e-3
    assert torch.equal(moved[:, -5:], result[:, -5:])
    half = with_style_balance(result, wanted, 0.5, db_range, bin_hz=bin_hz)
    torch.testing.assert_close(half - result, (moved - result) / 2, atol=1e-6, rtol=0)
    assert torch.equal(with_style_balance(result, None, 1.0, db_range, bin_hz=bin_hz), result)
    assert torch.equal(with_style_balance(result, wanted, 0.0, db_range, bin_hz=bin_hz), result)
    # a result with the style's balance already is left as it is (a level offset is no balance)
    same = with_style_balance(style - 0.1, wanted, 1.0, db_range, bin_hz=bin_hz)
    torch.testing.assert_close(same, style - 0.1, atol=1e-6, rtol=0)


def test_the_balance_follows_a_style_notes_envelope_not_its_partials():
    from spectrostyle.core.shaping import spectral_balance, with_style_balance

    bins, frames, db_range, bin_hz = 512, 30, 80.0, 15.625  # the models' rows: 0 to 8 kHz
    envelope = (0.8 - 0.3 * torch.linspace(0, 1, bins))[:, None]
    note = envelope.repeat(1, frames) - 0.2
    for partial in range(17, bins - 2, 17):  # a C4's partials, 262 Hz apart and a window's lobe wide
        note[partial - 2:partial + 3] += 0.3
    result = envelope.repeat(1, frames)
    moved = with_style_balance(result, spectral_balance(note, db_range), 1.0, db_range, bin_hz=bin_hz)
    change_db = (moved - result)[40:480, 0].numpy() * db_range
    assert change_db.max() - change_db.min() < 3.0  # no comb of boosts at the note's partials and cuts between
