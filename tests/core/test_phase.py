from __future__ import annotations

import numpy as np
import pytest
import torch

from spectrostyle.core.spectrogram import (
    OverlapAdd,
    Spectrogram,
    SpectrogramConfig,
    griffin_lim,
    heard_image,
    magnitude,
    spectral_convergence_db,
    stft_phase,
)
from tests.conftest import harmonic_note

CONFIG = SpectrogramConfig()


def test_default_round_trip_reaches_minus_25_db(note):
    spec = Spectrogram.from_audio(note, CONFIG)
    audio = torch.from_numpy(spec.to_audio())
    assert audio.shape == (64_000,)
    assert float(spectral_convergence_db(spec.magnitude(), audio, CONFIG)) <= -25.0


def test_momentum_converges_faster_than_classic(note):
    mag = magnitude(torch.from_numpy(note), CONFIG)
    fast = spectral_convergence_db(mag, griffin_lim(mag, CONFIG, n_iter=32, momentum=0.99), CONFIG)
    classic = spectral_convergence_db(mag, griffin_lim(mag, CONFIG, n_iter=32, momentum=0.0), CONFIG)
    assert float(fast) < float(classic) - 3.0


def test_more_iterations_help_and_zero_iterations_work(note):
    mag = magnitude(torch.from_numpy(note), CONFIG)
    levels = [float(spectral_convergence_db(mag, griffin_lim(mag, CONFIG, n_iter=n), CONFIG)) for n in (0, 16, 64)]
    assert levels[0] > levels[1] > levels[2]


def test_seeded_and_batched(note):
    mags = magnitude(torch.from_numpy(np.stack([note, harmonic_note(330)])), CONFIG)
    batch = griffin_lim(mags, CONFIG, n_iter=8, seed=3)
    again = griffin_lim(mags, CONFIG, n_iter=8, seed=3)
    torch.testing.assert_close(batch, again, atol=0, rtol=0)
    other_seed = griffin_lim(mags, CONFIG, n_iter=8, seed=4)
    assert not torch.allclose(batch, other_seed)
    assert batch.shape == (2, CONFIG.padded_samples(mags.shape[-1]))


def test_num_samples_trims(note):
    mag = magnitude(torch.from_numpy(note[:10_000]), CONFIG)
    assert griffin_lim(mag, CONFIG, n_iter=2, num_samples=10_000).shape == (10_000,)


def test_spectral_convergence_of_the_original_is_very_low(note):
    mag = magnitude(torch.from_numpy(note), CONFIG)
    assert float(spectral_convergence_db(mag, torch.from_numpy(note), CONFIG)) < -100


@pytest.mark.parametrize(("kwargs", "message"), [({"n_iter": -1}, "n_iter"), ({"init": "pghi"}, "init")])
def test_bad_arguments(note, kwargs, message):
    mag = magnitude(torch.from_numpy(note), CONFIG)
    with pytest.raises(ValueError, match=message):
        griffin_lim(mag, CONFIG, **kwargs)


def test_warm_start_from_the_true_phase_needs_few_iterations(note):
    from spectrostyle.core.spectrogram import stft_phase

    audio = torch.from_numpy(note)
    mag, phase = magnitude(audio, CONFIG), stft_phase(audio, CONFIG)
    warm = float(spectral_convergence_db(mag, griffin_lim(mag, CONFIG, n_iter=4, init=phase), CONFIG))
    cold = float(spectral_convergence_db(mag, griffin_lim(mag, CONFIG, n_iter=4), CONFIG))
    assert warm < -40 and warm < cold - 20
    with pytest.raises(ValueError, match="init phase has shape"):
        griffin_lim(mag, CONFIG, init=phase[:, :10])


@pytest.mark.parametrize("n_fft, hop, window, frames", [(1024, 256, "hann", 251), (512, 128, "hamming", 7),
                                                         (256, 128, "hann", 40), (256, 32, "blackman", 3)])
def test_overlap_add_equals_torch_istft(n_fft, hop, window, frames):
    config = SpectrogramConfig(n_fft=n_fft, hop_length=hop, window=window)
    generator = torch.Generator().manual_seed(0)
    spec = torch.randn(3, n_fft // 2 + 1, frames, dtype=torch.complex64, generator=generator)
    expected = torch.istft(spec, n_fft, hop, window=config.window_tensor(), length=config.padded_samples(frames))
    inverse = OverlapAdd(config, frames)
    assert inverse.usable
    got = inverse(spec)
    assert got.shape == expected.shape == (3, (frames - 1) * hop)
    torch.testing.assert_close(got, expected, atol=1e-5 * float(expected.abs().max()), rtol=0)


def test_overlap_add_steps_aside_when_the_hop_does_not_divide_n_fft():
    config = SpectrogramConfig(n_fft=1000, hop_length=300)
    inverse = OverlapAdd(config, 10)
    assert not inverse.usable
    spec = torch.randn(2, config.n_fft // 2 + 1, 10, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
    expected = torch.istft(spec, 1000, 300, window=config.window_tensor(), length=config.padded_samples(10))
    torch.testing.assert_close(inverse(spec), expected, atol=0, rtol=0)  # it is torch.istft then
    mag = torch.rand(config.n_freq, 10)  # and griffin_lim gets the right length through it
    assert griffin_lim(mag, config, n_iter=3).shape == (9 * 300,)


def test_griffin_lim_is_batched_and_seeded(note):
    mag = magnitude(torch.from_numpy(note), CONFIG)
    batch = griffin_lim(torch.stack([mag, 0.5 * mag]), CONFIG, n_iter=8)
    single = griffin_lim(mag, CONFIG, n_iter=8)
    assert batch.shape == (2, single.shape[-1])
    torch.testing.assert_close(batch[0], single, atol=1e-4 * float(single.abs().max()), rtol=0)
    torch.testing.assert_close(griffin_lim(mag, CONFIG, n_iter=8), single, atol=0, rtol=0)


def test_heard_image_keeps_a_sounds_own_image_and_changes_one_no_sound_has(note):
    spec = Spectrogram.from_audio(note, CONFIG)
    image = spec.image[None, None]
    phase = stft_phase(torch.from_numpy(note), CONFIG, num_frames=image.shape[-1])[None]
    heard = heard_image(image, phase, CONFIG)
    assert heard.shape == image.shape and float(heard.min()) >= 0.0 and float(heard.max()) == pytest.approx(1.0)
    # an image of a sound with that sound's phase is heard as itself
    assert float((heard - image).abs().mean()) < 2e-3
    # a checkerboard over the harmonics is no STFT of any sound: the sound it makes smears it
    board = image * (torch.arange(image.shape[-1]) % 2)
    assert float((heard_image(board, phase, CONFIG) - board).abs().mean()) > 0.02


def test_heard_image_is_differentiable_and_batched(note):
    image = Spectrogram.from_audio(note, CONFIG).image[None, None].repeat(2, 1, 1, 1).requires_grad_(True)
    phase = stft_phase(torch.from_numpy(note), CONFIG, num_frames=image.shape[-1])[None].repeat(2, 1, 1)
    heard = heard_image(image, phase, CONFIG)
    assert heard.shape == (2, 1, CONFIG.n_freq, image.shape[-1])
    heard[0].sum().backward()
    assert float(image.grad[0].abs().sum()) > 0 and float(image.grad[1].abs().sum()) == 0


def test_invert_takes_the_better_of_two_starts_where_random_phase_stalls():
    from spectrostyle.core.spectrogram import Spectrogram, invert_magnitudes

    config = SpectrogramConfig.for_rate(44_100)
    t = np.arange(2 * 44_100) / 44_100
    saw = (2 * ((t * 110) % 1) - 1) * np.exp(-3 * (t % 0.5)) * 0.5  # a synthesiser bass: plucked saw waves
    stereo = np.stack([saw, 0.8 * np.roll(saw, 5)], axis=1).astype(np.float32)
    target = torch.stack([c.magnitude() for c in Spectrogram.from_channels(stereo, config)])
    both = invert_magnitudes(target, config, num_samples=len(stereo))
    assert both.shape == (2, len(stereo))
    alone = griffin_lim(target, config, n_iter=100, num_samples=len(stereo))  # random phase, as many iterations
    ours, theirs = spectral_convergence_db(target, both, config), spectral_convergence_db(target, alone, config)
    assert float(ours.max()) <= -30.0
    assert bool((ours <= theirs - 1.0).all()), (ours, theirs)
    assert invert_magnitudes(target[0], config).shape[-1] >= len(stereo)  # one sound, no batch
