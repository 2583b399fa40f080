from __future__ import annotations

import math

import pytest
import torch

from spectrostyle.methods.losses import (
    LossWeights,
    PerceptualLoss,
    delayed,
    delayed_copies,
    energy_envelope,
    frequency_envelope,
    gram_matrix,
    long_term_spectrum,
    spectrum_bin_weights,
    total_variation,
)
from spectrostyle.nets.audio_cnn import AudioCNN, AudioCNNConfig


def test_gram_matrix_values_and_length_independence():
    features = torch.tensor([[[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]])  # (1, 2 channels, 3 positions)
    expected = torch.tensor([[[14.0, 2.0], [2.0, 1.0]]]) / 3
    torch.testing.assert_close(gram_matrix(features), expected)
    repeated = features.repeat(1, 1, 4)  # the same texture, four times as long
    torch.testing.assert_close(gram_matrix(repeated), expected)


def test_envelopes_and_total_variation():
    images = torch.zeros(1, 1, 4, 6)
    images[..., 1, :] = 1.0  # one bright bin all the time
    images[..., :, 2] += 0.5  # one louder frame
    assert energy_envelope(images).shape == (1, 6) and frequency_envelope(images).shape == (1, 4)
    assert float(energy_envelope(images)[0, 2]) == pytest.approx((1.5 + 0.5 * 3) / 4)
    assert float(frequency_envelope(images)[0, 1]) == pytest.approx((5 * 1.0 + 1.5) / 6)
    assert float(total_variation(torch.ones(1, 1, 4, 6))) == 0.0
    assert float(total_variation(images)) > 0


def test_long_term_spectrum_counts_a_brief_loud_tone_at_its_power():
    silent = torch.zeros(1, 1, 4, 256)
    assert long_term_spectrum(silent).shape == (1, 4)
    torch.testing.assert_close(long_term_spectrum(silent), torch.zeros(1, 4), atol=1e-6, rtol=0)
    steady = torch.full((1, 1, 4, 256), 0.5)  # -40 dB in every bin all the time: its own level
    torch.testing.assert_close(long_term_spectrum(steady), steady[:, 0, :, 0], atol=1e-3, rtol=0)
    chirp = silent.clone()
    chirp[..., 2, 100:102] = 1.0  # the peak in one bin for 2 of 256 frames
    # power averaged over time: 2/256 of the peak, -21.1 dB, 58.9 dB over the floor: pixel 0.736 of the 80 dB range
    assert float(long_term_spectrum(chirp)[0, 2]) == pytest.approx(1 + 10 * math.log10(2 / 256) / 80, abs=1e-3)
    assert float(frequency_envelope(chirp)[0, 2]) == pytest.approx(2 / 256)  # the mean of dB pixels hardly moves
    # a 60 dB range puts the same tone at 1 + 10 log10(2/256) / 60
    assert float(long_term_spectrum(chirp, 60.0)[0, 2]) == pytest.approx(1 + 10 * math.log10(2 / 256) / 60, abs=1e-3)


def test_spectrum_constraint_is_off_by_default_and_scores_a_loud_tone_the_content_lacks():
    torch.manual_seed(0)
    net = AudioCNN(AudioCNNConfig()).eval()
    content = torch.rand(1, 1, 512, 32, generator=torch.Generator().manual_seed(5)) * 0.3
    toned = content.clone()
    toned[..., 380:420, 10:12] = 1.0  # a loud sweep of 40 bins, 2 of 32 frames
    off = PerceptualLoss(net, LossWeights())
    assert float(off(toned, off.targets(content, content))["spectrum"].sum()) == 0.0
    on = PerceptualLoss(net, LossWeights(spectrum=100.0))
    targets = on.targets(content, content)
    assert float(on(content, targets)["spectrum"].sum()) == pytest.approx(0.0, abs=1e-6)
    expected = 100 * float(((long_term_spectrum(toned) - long_term_spectrum(content)) ** 2).mean())
    terms = on(toned, targets)
    assert float(terms["spectrum"].sum()) == pytest.approx(expected, rel=1e-5) and expected > 0.5
    assert float(terms["total"]) == pytest.approx(sum(float(terms[k].sum()) for k in
                                                      ("content", "style", "energy", "frequency", "spectrum")))


def test_spectrum_emphasis_weighs_the_contents_strong_partials():
    """A partial of the content lost by 24 dB costs as much as a quiet bin raised by 24 dB without emphasis, and
    exp(10 * 0.7) ~ 1100 times more with emphasis 10 (the partial sits 0.7 of the dB range above the quiet bins)."""
    net = AudioCNN(AudioCNNConfig()).eval()
    content = torch.full((1, 1, 512, 32), 0.2)
    content[..., 5, :] = 0.9  # a steady partial
    lost_partial, raised_bin = content.clone(), content.clone()
    lost_partial[..., 5, :] = 0.6
    raised_bin[..., 300, :] = 0.5
    costs = {}
    for emphasis in (0.0, 10.0):
        loss = PerceptualLoss(net, LossWeights(content=0, style=0, energy=0, frequency=0, spectrum=100.0,
                                               spectrum_emphasis=emphasis))
        targets = loss.targets(content, content)
        costs[emphasis] = [float(loss(image, targets)["spectrum"].sum()) for image in (lost_partial, raised_bin)]
    assert costs[0.0][0] == pytest.approx(costs[0.0][1], rel=1e-3) and costs[0.0][0] > 0
    assert costs[10.0][0] / costs[10.0][1] == pytest.approx(math.exp(7.0), rel=1e-3)
    target = long_term_spectrum(content)
    weights = spectrum_bin_weights(target, 10.0)
    assert weights.shape == (1, 512) and float(weights.mean()) == pytest.approx(1.0, rel=1e-5)
    torch.testing.assert_close(spectrum_bin_weights(target, 0.0), torch.ones(1, 512))
    with pytest.raises(ValueError, match="spectrum_emphasis must be >= 0"):
        LossWeights(spectrum_emphasis=-1.0)


@pytest.fixture(scope="module")
def loss() -> PerceptualLoss:
    torch.manual_seed(0)
    return PerceptualLoss(AudioCNN(AudioCNNConfig()).eval(), LossWeights(total_variation=0.1))


def test_loss_is_zero_at_the_targets_and_positive_elsewhere(loss):
    content = torch.rand(1, 1, 512, 32, generator=torch.Generator().manual_seed(1))
    terms = loss(content, loss.targets(content, content))
    for name in ("content", "style", "energy", "frequency"):
        assert float(terms[name].sum()) == pytest.approx(0.0, abs=1e-6)
    other = torch.rand(1, 1, 512, 48, generator=torch.Generator().manual_seed(2))  # a longer style
    terms = loss(content, loss.targets(content, other))
    assert float(terms["style"].sum()) > 0 and float(terms["content"].sum()) == pytest.approx(0.0, abs=1e-6)
    assert float(terms["total"]) == pytest.approx(sum(float(terms[k].sum()) for k in
                                                      ("content", "style", "energy", "frequency", "total_variation")))


def test_style_mix_interpolates_grams(loss):
    a = torch.rand(1, 1, 512, 32, generator=torch.Generator().manual_seed(3))
    b = torch.rand(1, 1, 512, 32, generator=torch.Generator().manual_seed(4)) * 0.5
    mixed = loss.targets(a, [a, b], style_mix=[0.25, 0.75]).style_grams
    only_a, only_b = loss.targets(a, a).style_grams, loss.targets(a, b).style_grams
    for layer in mixed:
        torch.testing.assert_close(mixed[layer], 0.25 * only_a[layer] + 0.75 * only_b[layer], atol=1e-5, rtol=1e-4)


def test_delayed_images_keep_their_length():
    images = torch.arange(2 * 3 * 5, dtype=torch.float32).view(2, 1, 3, 5) + 1
    later = delayed(images, 2)
    assert later.shape == images.shape
    assert float(later[..., :2].abs().sum()) == 0.0  # two silent frames first
    torch.testing.assert_close(later[..., 2:], images[..., :3])
    assert delayed(images, 0) is images
    copies = delayed_copies(images, 3)
    assert copies.shape == (6, 1, 3, 5)
    torch.testing.assert_close(copies[4:], delayed(images, 2))  # delay-major
    with pytest.raises(ValueError, match="delays must be >= 1"):
        delayed_copies(images, 0)
    with pytest.raises(ValueError, match="frames must be >= 0"):
        delayed(images, -1)


def test_style_over_delays_averages_the_style_term_of_delayed_images(loss):
    generator = torch.Generator().manual_seed(5)
    images = torch.rand(2, 1, 512, 32, generator=generator)
    images[..., 24:] = 0.0  # silent tails, as the notes have: a delay drops only silence
    style = torch.rand(1, 1, 512, 40, generator=generator)
    targets = loss.targets(images, style)
    with torch.no_grad():
        one = loss.style_over_delays(images, targets, delays=1)
        torch.testing.assert_close(one, loss(images, targets)["style"])
        four = loss.style_over_delays(images, targets, delays=4)
        by_hand = torch.stack([loss(delayed(images, d), targets)["style"] for d in range(4)]).mean(0)
        assert four.shape == (2,)
        torch.testing.assert_close(four, by_hand, rtol=1e-4, atol=1e-6)
        # per-image style targets (batch B) are followed image by image
        per_image = loss.targets(images, images)
        torch.testing.assert_close(loss.style_over_delays(images, per_image, delays=1), torch.zeros(2), atol=1e-6,
                                   rtol=0)
        assert float(loss.style_over_delays(images, per_image, delays=3).min()) > 0


def test_bad_weights():
    with pytest.raises(ValueError, match="energy_target"):
        LossWeights(energy_target="both")
    with pytest.raises(ValueError, match="one weight per style layer"):
        LossWeights(style_layer_weights=(1.0,))


def test_a_bfloat16_feature_pass_gives_the_loss_and_its_gradient_in_float32():
    from spectrostyle.core.audio import load_audio
    from spectrostyle.core.spectrogram import Spectrogram
    from spectrostyle.data.examples import example_path
    from spectrostyle.store import load_named_model

    network = load_named_model("default", "audio_cnn").folded()
    content, style = (Spectrogram.from_audio(load_audio(example_path(family, pitch)), network.spectrogram).image[
        None, None] for family, pitch in (("keyboard", 60), ("flute", 65)))
    terms, gradients = {}, {}
    for dtype in (None, torch.bfloat16):
        loss = PerceptualLoss(network, feature_dtype=dtype)
        targets = loss.targets(content, style)
        assert all(g.dtype == torch.float32 for g in targets.style_grams.values())
        image = content.clone().requires_grad_(True)
        terms[dtype] = loss(image, targets)
        terms[dtype]["total"].backward()
        gradients[dtype] = image.grad
    assert terms[torch.bfloat16]["total"].dtype == torch.float32
    assert float(terms[torch.bfloat16]["style"]) == pytest.approx(float(terms[None]["style"]), rel=0.02)
    cosine = torch.nn.functional.cosine_similarity(gradients[None].flatten(), gradients[torch.bfloat16].flatten(), 0)
    assert float(cosine) > 0.95
