"""pix2pix: the U-Net, the method (a2b only) and the CLI, on tiny models; and the shipped flute -> keyboard model's
quality on held-out pitches (``test_shipped_*``, marked ``acceptance``; skipped until it is shipped). Its trainer:
``tests/train/test_gan.py``; its pairs of notes: ``tests/data/test_selection.py``."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from spectrostyle.core.errors import ConfigMismatchError, InputError
from spectrostyle.core.shaping import with_content_pitch
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.methods.pix2pix import Pix2PixMethod
from spectrostyle.methods.registry import make_options
from spectrostyle.nets.unet import UNet, UNetConfig
from spectrostyle.pipeline import transfer
from spectrostyle.store import load_model, save_model
from spectrostyle.ui.cli.main import main
from tests.conftest import harmonic_note, requires_shipped
from tests.feedforward_helpers import TINY, randomise

TINY_UNET = UNetConfig(channels=(4, 8, 8), spectrogram=TINY)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    torch.manual_seed(0)
    return str(save_model(randomise(UNet(TINY_UNET)), tmp_path_factory.mktemp("pix2pix") / "tiny",
                          metadata={"domain_a": "flute", "domain_b": "keyboard"}))


def test_unet_shapes_identity_at_start_and_refusals():
    net = UNet(TINY_UNET).eval()
    images = torch.rand(2, 1, 64, 100)  # padded to multiples of 8 inside, then cropped
    with torch.no_grad():
        torch.testing.assert_close(net(images), images, atol=0, rtol=0)  # zero head: the identity
        out = randomise(net)(images)
    assert out.shape == images.shape and float(out.min()) >= 0 and float(out.max()) <= 1
    assert float((out - images).abs().mean()) > 1e-3
    with pytest.raises(ConfigMismatchError, match="64 frequency rows"):
        net(torch.rand(1, 1, 512, 16))
    with pytest.raises(InputError, match="a2b only"):
        net(images, "b2a")
    with pytest.raises(InputError, match="two or more positive widths"):
        UNetConfig(channels=(8,))
    default = UNet()
    assert default.multiple == 32 and sum(p.numel() * p.element_size() for p in default.parameters()) <= 20e6
    with torch.no_grad():
        assert default(torch.rand(1, 1, 512, 256)).shape == (1, 1, 512, 256)


def test_skip_connections_carry_detail():
    """The U-Net's output at a pixel depends on the input at that pixel through the skips (not only through the
    coarse middle): a one-pixel change moves the output there."""
    torch.manual_seed(0)
    net = randomise(UNet(TINY_UNET))
    images = 0.4 + 0.2 * torch.rand(1, 1, 64, 64)  # mid-range, so that the output clamp does not hide changes
    changed = images.clone()
    changed[0, 0, 30, 30] += 0.05
    with torch.no_grad():  # what the network adds to its input (the residual path alone would move the pixel)
        difference = ((net(changed) - changed) - (net(images) - images)).abs()[0, 0]
    assert float(difference[30, 30]) > 1e-4 and float(difference[0, 63]) < float(difference[30, 30])


def test_save_load_round_trip_and_config_refusal(tmp_path, tiny_model):
    original = load_model(tiny_model)
    path = save_model(original, tmp_path / "again")
    loaded = load_model(path, expect_kind="pix2pix_generator")
    images = torch.rand(2, 1, 64, 48)
    with torch.no_grad():
        torch.testing.assert_close(loaded(images), original(images), atol=0, rtol=0)
    with pytest.raises(ConfigMismatchError, match="n_fft=128 \\(expected 1024\\)"):
        load_model(path, spectrogram=SpectrogramConfig())


def test_method_translates_a2b_only(tiny_model):
    content = harmonic_note(261.63, 1.0)
    result = transfer(content, None, Pix2PixMethod(make_options("pix2pix", model=tiny_model)))
    assert result.audio.shape == content.shape and np.isfinite(result.audio).all()
    assert result.settings["direction"] == "a2b" and result.settings["phase_iterations"] == 8
    with torch.no_grad():
        made = load_model(tiny_model)(result.content.image[None, None])[0, 0]
    # the generator's image, with the content's fine structure put back around the fundamental only
    config = result.spectrogram.config
    bin_hz = config.sample_rate / config.n_fft
    low, high = Pix2PixMethod.pitch_band_hz
    assert result.settings["keep_pitch"] == 1.0 and high < 1000.0
    expected = with_content_pitch(made, result.content.image, 1.0, bin_hz=bin_hz, band_hz=(low, high))
    torch.testing.assert_close(result.spectrogram.image, expected, atol=1e-3, rtol=0)  # channels-last rounds apart
    above = int(np.ceil(high / bin_hz)) + 1
    torch.testing.assert_close(result.spectrogram.image[above:], made[above:], atol=1e-3, rtol=0)  # the model's own
    assert float((result.spectrogram.image[: int(low / bin_hz)] - made[: int(low / bin_hz)]).abs().max()) > 1e-2
    with pytest.raises(InputError, match="one way only: '.*' turns flute into keyboard"):
        transfer(content, None, "pix2pix", model=tiny_model, direction="b2a")
    with pytest.raises(InputError, match="takes no style sound"):
        transfer(content, harmonic_note(300, 1.0), "pix2pix", model=tiny_model)


def test_cli_transfer_and_errors(tmp_path, tiny_model, capsys):
    content = tmp_path / "c.wav"
    sf.write(content, harmonic_note(seconds=1.0), 16_000)
    assert main(["transfer", str(content), "--method", "pix2pix", "--model", tiny_model, "-o",
                 str(tmp_path / "out.wav"), "--quiet"]) == 0
    assert sf.info(tmp_path / "out.wav").frames == 16_000
    capsys.readouterr()
    assert main(["transfer", str(content), "--method", "pix2pix", "--model", tiny_model, "--direction", "b2a",
                 "-o", str(tmp_path / "x.wav"), "--quiet"]) == 2
    assert "translates one way only" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


# ------------------------------------------------------------------ acceptance: quality of the shipped model


@pytest.fixture(scope="module")
def shipped_quality(tmp_path_factory):
    """The shipped flute-keyboard pix2pix on the flute notes of its held-out pitches (rendered)."""
    from spectrostyle.eval.translation import family_of, held_out_examples, render_held_out, translation_quality
    from spectrostyle.store import load_named_model

    metadata = load_named_model("flute-keyboard", "pix2pix_generator").metadata
    data = render_held_out(metadata, tmp_path_factory.mktemp("held-out"))
    notes = held_out_examples(metadata, data, metadata["domain_a"])
    target = family_of(metadata["domain_b"], held_out_examples(metadata, data, metadata["domain_b"]))
    return translation_quality(Pix2PixMethod(make_options("pix2pix", model="flute-keyboard")), notes, target,
                               f0_notes=8)


@pytest.mark.acceptance
@requires_shipped("pix2pix_generator", "flute-keyboard")
@pytest.mark.xfail(strict=True,
                   reason="under 80 % of pix2pix's outputs heard as keyboard (BENCHMARKS.md, CycleGAN and pix2pix)")
def test_shipped_pix2pix_outputs_classified_as_keyboard(shipped_quality):
    """The issue's goal: the shipped audio CNN hears >= 80% of the outputs as keyboard."""
    assert shipped_quality.classified_as_target >= 0.8, shipped_quality.notes


@pytest.mark.acceptance
@requires_shipped("pix2pix_generator", "flute-keyboard")
def test_shipped_pix2pix_moves_outputs_towards_keyboard_and_keeps_pitch(shipped_quality):
    """What the shipped model does reach: 60% of the flute notes heard as keyboard (24 of 34; the flute notes
    themselves: none), the pitch kept."""
    assert shipped_quality.classified_as_target >= 0.6, shipped_quality.notes
    assert shipped_quality.median_f0_error_cents <= 50.0, shipped_quality.notes
