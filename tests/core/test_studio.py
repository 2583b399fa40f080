"""The result as studio material: band extension above the model's band, the content's stereo image."""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from spectrostyle.core.audio import mono_at
from spectrostyle.core.metrics import high_band_share_db, silence_level_db, stereo_image, stereo_image_error
from spectrostyle.core.studio import high_band_profile, silence_gain_db, studio_audio
from tests.conftest import harmonic_note

RATE = 44_100
MODEL_RATE = 16_000


def stereo_recording(seconds: float = 3.0, rate: int = RATE, seed: int = 7) -> np.ndarray:
    """``(samples, 2)``: a note panned left (10 dB), a bright noise burst every half second panned right, and quiet
    uncorrelated room noise: level differences, correlations and a band above 8 kHz to keep."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    note = harmonic_note(220.0, seconds, rate, harmonics=12, peak=0.4)
    bursts = np.zeros(n, dtype=np.float32)
    for start in range(0, n - rate // 10, rate // 2):
        length = rate // 10
        bursts[start:start + length] += (rng.standard_normal(length) * np.exp(-np.arange(length) / (0.02 * rate)))
    bursts = 0.2 * bursts
    room = 0.01 * rng.standard_normal((n, 2))
    left = note + 10 ** (-10 / 20) * bursts
    right = 10 ** (-10 / 20) * note + bursts
    return (np.stack([left, right], axis=1) + room).astype(np.float32)


def through_model(recording: np.ndarray, rate: int = RATE) -> np.ndarray:
    """What a method that changed nothing would return: the content's mono mix at the model's rate."""
    return mono_at(recording, rate, MODEL_RATE)


def test_band_extension_follows_the_style_share_above_8khz():
    content = stereo_recording()
    style = stereo_recording(seed=3)
    style[:, 0] = soxr.resample(soxr.resample(style[:, 0], RATE, 22_050), 22_050, RATE)[: len(style)]  # duller left
    profile = high_band_profile(style, RATE, MODEL_RATE)
    out = studio_audio(through_model(content), MODEL_RATE, sample_rate=RATE, channels=2, content=content,
                       content_rate=RATE, profile=profile, num_samples=len(content))
    assert out.shape == content.shape and out.dtype == np.float32
    assert high_band_share_db(out, RATE) == pytest.approx(high_band_share_db(style, RATE), abs=2.0)
    assert high_band_share_db(through_model(content), MODEL_RATE, above_hz=7_900) < -40  # the model's band ends


def shaped_noise(seconds: float, rate: int, gain, seed: int = 3) -> np.ndarray:
    """``(samples,)``: ``seconds`` of white noise whose spectrum is multiplied by ``gain(hz)``."""
    n = int(seconds * rate)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n)) * gain(np.fft.rfftfreq(n, 1 / rate))
    return (0.1 * np.fft.irfft(spectrum, n)).astype(np.float32)


def test_band_extension_follows_the_styles_envelope_within_a_third_octave():
    # a style whose band falls 30 dB an octave above 7.2 kHz, and a result bright at the bottom of the octave that
    # is copied up (3.6-4 kHz) and dark above it: the copy's tilt must not stay within the first bands
    style = shaped_noise(4.0, RATE, lambda hz: np.where(hz > 7200, (np.maximum(hz, 1) / 7200) ** -5.0, 1.0))
    result = shaped_noise(4.0, MODEL_RATE, lambda hz: np.select([(hz > 3600) & (hz < 4000), hz >= 4000],
                                                                [3.0, 0.1], 1.0))
    out = studio_audio(result, MODEL_RATE, sample_rate=RATE, channels=1,
                       profile=high_band_profile(style, RATE, MODEL_RATE))
    # third-octave bands leave it 4.9 dB under the style's share
    assert high_band_share_db(out[:, 0], RATE) - high_band_share_db(style, RATE) == pytest.approx(0.0, abs=1.5)


def test_no_high_band_is_invented_where_the_style_has_none():
    content = stereo_recording()
    dull_style = soxr.resample(harmonic_note(330.0, 2.0, MODEL_RATE), MODEL_RATE, RATE)
    profile = high_band_profile(dull_style, RATE, MODEL_RATE)
    assert np.all(profile < 1e-5)  # the resampler's stop band: nothing to hear
    out = studio_audio(through_model(content), MODEL_RATE, sample_rate=RATE, channels=1, profile=profile)
    assert high_band_share_db(out, RATE) < -60.0  # only the resampler's leakage at the model's band edge


def test_the_content_stereo_image_survives():
    content = stereo_recording()
    out = studio_audio(through_model(content), MODEL_RATE, sample_rate=RATE, channels=2, content=content,
                       content_rate=RATE, profile=high_band_profile(content, RATE, MODEL_RATE),
                       num_samples=len(content))
    level_error_db, correlation_error = stereo_image_error(content, out, RATE)
    assert level_error_db < 1.5
    assert correlation_error < 0.15
    levels, _, shares = stereo_image(out, RATE)
    note_band = np.argmax(shares)  # the note's fundamental band: 10 dB to the left
    assert levels[note_band] == pytest.approx(10.0, abs=1.5)


def test_each_band_of_each_channel_holds_the_content_share_of_the_result_as_made():
    # before the inverse STFT, the stereo stage sets each band and frame of each channel to what it should hold: the
    # channels' level differences by band equal the content's (up to the smoothing over frames)
    from spectrostyle.core.studio import frame_size, image_bands, studio_stft
    from spectrostyle.core.studio import stereo_image as make_image

    content = stereo_recording()
    n_fft = frame_size(RATE)
    spectra = studio_stft(content.T, n_fft)
    mono = studio_stft(content.mean(axis=1)[None] * 0.5, n_fft)[0]
    made = make_image(mono, spectra, RATE, image_bands(spectra, RATE))

    def level_differences(channels) -> np.ndarray:  # channels: (2, bins, frames) complex
        energy = image_bands(channels, RATE).sum(axis=-1)  # (2, bands): in the bands the stage sets
        return 10 * np.log10(energy[0] / energy[1])

    assert made.shape == spectra.shape
    np.testing.assert_allclose(level_differences(made), level_differences(spectra), atol=0.3)


def test_mono_stays_mono_and_a_mono_content_fills_every_channel_alike():
    note = harmonic_note(262.0, 2.0, RATE)[:, None]
    result = through_model(note)
    mono = studio_audio(result, MODEL_RATE, sample_rate=RATE, channels=1, content=note, content_rate=RATE,
                        num_samples=len(note))
    assert mono.shape == (len(note), 1)
    both = studio_audio(result, MODEL_RATE, sample_rate=48_000, channels=2, content=note, content_rate=RATE)
    assert both.shape == (round(len(result) * 48_000 / MODEL_RATE), 2)
    assert np.array_equal(both[:, 0], both[:, 1])


def test_rates_above_the_processing_rate_come_back_at_their_own_rate():
    content = stereo_recording(1.0, rate=96_000)
    out = studio_audio(through_model(content, 96_000), MODEL_RATE, sample_rate=96_000, channels=2, content=content,
                       content_rate=96_000, profile=high_band_profile(content, 96_000, MODEL_RATE),
                       num_samples=len(content))
    assert out.shape == content.shape
    assert high_band_share_db(out, 96_000, above_hz=24_500) < -60  # made at 48 kHz: nothing above 24 kHz
    assert high_band_share_db(out, 96_000) > -40  # but the band to 24 kHz is there


def test_a_very_short_result_still_comes_back():
    out = studio_audio(np.full(40, 0.1, dtype=np.float32), MODEL_RATE, sample_rate=RATE, channels=2)
    assert out.shape == (round(40 * RATE / MODEL_RATE), 2)
    assert np.isfinite(out).all()


def test_the_results_attacks_follow_the_contents():
    import librosa
    from scipy.ndimage import uniform_filter1d

    rng = np.random.default_rng(5)
    content = stereo_recording()  # bursts every half second over a held note
    noise = rng.standard_normal(len(content)).astype(np.float32)
    envelope = uniform_filter1d(np.abs(content).mean(axis=1), size=int(0.25 * RATE))  # attacks smeared over 250 ms
    smeared = soxr.resample(0.5 * noise * envelope / envelope.max(), RATE, MODEL_RATE)

    def attacks(audio: np.ndarray) -> np.ndarray:  # librosa's onset strength: the rise of energy, frame by frame
        return librosa.onset.onset_strength(y=audio.mean(axis=1), sr=RATE, hop_length=256)

    def made(transients: float) -> np.ndarray:
        return studio_audio(smeared, MODEL_RATE, sample_rate=RATE, channels=1, content=content, content_rate=RATE,
                            num_samples=len(content), transients=transients)

    plain, followed = (np.corrcoef(attacks(content), attacks(made(t)))[0, 1] for t in (0.0, 1.0))
    assert plain < 0.2
    assert followed > 0.6


def test_a_result_smeared_after_each_hit_decays_through_its_tail_as_the_content_does():
    # hits every 25 frames decaying within two frames; the result holds each hit for 17 frames (0.2 s), as Slow smears
    # a drum loop. The result takes the content's fine structure: through each tail its energy keeps falling, 0.1 s
    # after the hit near the content's -17 dB. Against a centred mean alone the tail stayed within 7 dB of the hit
    import torch

    from spectrostyle.core.studio import follow_transients, image_bands

    frames, period, smear = 200, 25, 17
    since_hit = np.arange(frames) % period
    content_level = np.maximum(np.exp(-since_hit / 2.0), 1e-4)
    result_level = np.where(since_hit < smear, 1.0, 1e-4)
    rng = np.random.default_rng(3)

    def spectra(level: np.ndarray) -> torch.Tensor:  # (1025, frames): a flat spectrum at each frame's level
        phase = torch.as_tensor(rng.uniform(0, 2 * np.pi, (1025, frames)))
        return torch.polar(torch.as_tensor(np.sqrt(level))[None].expand(1025, -1), phase).to(torch.complex64)

    content = spectra(content_level)[None]
    made = follow_transients(spectra(result_level), image_bands(content, RATE), RATE, 1.0)
    energy = (made.abs() ** 2).sum(dim=0).double().numpy()
    for hit in range(period, frames - period, period):  # whole periods, away from the edges
        tail = energy[hit:hit + smear]
        assert np.all(tail[1:] <= tail[:-1] * 10 ** (0.5 / 10)), np.round(10 * np.log10(tail / tail[0]), 1)
        assert tail[8] < tail[0] * 10 ** (-12 / 10)


def test_the_contents_silence_stays_silent():
    rng = np.random.default_rng(8)
    content = stereo_recording()
    content[int(2.2 * RATE):] = 0.0  # the content ends in digital silence, as a rendered phrase does
    content[int(1.0 * RATE):int(1.4 * RATE)] *= 1e-4  # and holds a pause 80 dB down
    hiss = soxr.resample(0.1 * rng.standard_normal(len(content)).astype(np.float32), RATE, MODEL_RATE)

    def made(transients: float) -> np.ndarray:
        return studio_audio(hiss, MODEL_RATE, sample_rate=RATE, channels=2, content=content, content_rate=RATE,
                            num_samples=len(content), transients=transients)

    assert silence_level_db(content, made(0.0), RATE) > -3.0  # the method's own result fills the silences
    gated = made(1.0)
    assert silence_level_db(content, gated, RATE) < -70.0
    assert np.abs(gated[int(2.3 * RATE):]).max() < 1e-5
    body = slice(int(0.2 * RATE), int(0.9 * RATE))
    assert np.sqrt(np.mean(gated[body] ** 2)) > 0.3 * np.sqrt(np.mean(made(0.0)[body] ** 2))


def test_the_silence_gate_leaves_sound_alone_and_opens_gradually():
    content = np.concatenate([np.full(20, 1.0), np.full(20, 10 ** -4.5), np.full(20, 1e-7), np.full(20, 1.0)])
    result = np.ones(80)
    gain = silence_gain_db(content, result)
    assert gain.max() <= 0.0
    np.testing.assert_allclose(gain[:18], 0.0, atol=1e-9)  # the body: untouched
    np.testing.assert_allclose(gain[23:37], -11.25, atol=0.5)  # 45 dB down: the gate a quarter closed
    np.testing.assert_allclose(gain[43:57], -70.0, atol=0.5)  # 70 dB down: shut, the result as quiet as the content
    np.testing.assert_allclose(silence_gain_db(content, content * 1e-3), 0.0, atol=1e-9)  # already as quiet


def test_a_result_starts_and_ends_no_harder_than_its_content():
    from spectrostyle.core.studio import EDGE_FADE_S, follow_edges

    t = np.arange(RATE) / RATE
    faded = (np.sin(2 * np.pi * 440 * t) * np.minimum(1.0, t / 0.01) * np.minimum(1.0, (1 - t) / 0.01))
    result = np.cos(2 * np.pi * 440 * t).astype(np.float32)[:, None].repeat(2, axis=1)  # full level at both edges
    eased = follow_edges(result.copy(), faded, RATE)
    size = round(EDGE_FADE_S * RATE)
    assert abs(eased[0, 0]) <= abs(faded[0]) / np.abs(faded).max() + 1e-6  # from the content's level...
    assert abs(eased[-1, 1]) < 0.01
    np.testing.assert_array_equal(eased[size:-size], result[size:-size])  # ...and nothing else changed
    assert np.all(np.abs(np.diff(eased[:size + 1, 0])) < 0.08)  # no step: eased in over the fade
    hard = np.cos(2 * np.pi * 220 * t)  # a content cut mid-sound keeps its hard edges
    np.testing.assert_array_equal(follow_edges(result.copy(), hard, RATE), result)
    mono = follow_edges(result[:, 0].copy(), faded, RATE)
    np.testing.assert_array_equal(mono, eased[:, 0])
