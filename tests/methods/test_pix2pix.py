"""pix2pix: the U-Net, pairing by pitch and velocity, the training step and run, the method (a2b only) and the
CLI, on tiny models and synthetic notes; and the shipped flute -> keyboard model's quality on held-out pitches
(``test_shipped_*``: run after shipping)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from spectrostyle.core.errors import ConfigMismatchError, InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.data.selection import DomainSelection, load_domain_notes
from spectrostyle.methods.pix2pix import Pix2PixMethod
from spectrostyle.methods.registry import make_options
from spectrostyle.nets.unet import UNet, UNetConfig
from spectrostyle.pipeline import transfer
from spectrostyle.store import load_model, save_model
from spectrostyle.train.loop import LoopOptions
from spectrostyle.train.pix2pix import Pix2PixModel, Pix2PixTrainingOptions, train_pix2pix
from spectrostyle.ui.cli.main import main
from tests.conftest import harmonic_note, requires_shipped
from tests.feedforward_helpers import TINY, gan_dataset, note_dataset, randomise

TINY_UNET = UNetConfig(channels=(4, 8, 8), spectrogram=TINY)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    torch.manual_seed(0)
    return str(save_model(randomise(UNet(TINY_UNET)), tmp_path_factory.mktemp("pix2pix") / "tiny",
                          metadata={"domain_a": "flute", "domain_b": "keyboard"}))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return gan_dataset(tmp_path_factory.mktemp("gan-data") / "data")


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


def test_pairs_by_pitch_and_velocity(data, tmp_path):
    notes = load_domain_notes(data, DomainSelection("flute", "keyboard", val_notes=3), TINY, paired=True, seed=1)
    assert notes.held_out == [64] and notes.train.shape[0] == 12 and notes.train_b.shape[0] == 12
    train_a = notes.train_names[:12]
    train_b = notes.train_names[12:]

    def key(name: str) -> str:  # "flute_acoustic_001-058-050" -> "058-050"
        return name.split("-", 1)[1]

    for i, partners in enumerate(notes.partners):  # both keyboard instruments of the same pitch and velocity
        assert sorted(train_b[k] for k in partners) == sorted(n for n in train_b if key(n) == key(train_a[i]))
        assert len(partners) == 2
    batch = notes.train_batch(list(range(12)), torch.Generator().manual_seed(3))
    for i in range(12):
        assert any(torch.equal(batch[i, 1:], notes.train_b[k]) for k in notes.partners[i])
    val_a, val_b = notes.val_names[:3], notes.val_names[3:]
    assert [key(n) for n in val_a] == [key(n) for n in val_b] and all("-064-" in n for n in val_a)
    single = load_domain_notes(data, DomainSelection("flute", "keyboard_acoustic_000"), TINY, paired=True)
    assert [len(p) for p in single.partners] == [1] * 12
    unpaired = note_dataset(tmp_path / "unpaired", [("flute", 0, 55, 100), ("flute", 0, 58, 100),
                                                    ("keyboard", 0, 55, 50), ("keyboard", 0, 58, 50)])
    with pytest.raises(InputError, match="no training pairs of the same pitch and velocity"):
        load_domain_notes(unpaired, DomainSelection("flute", "keyboard", hold_out_every=2), TINY, paired=True)


def test_training_step_terms_and_gradients():
    torch.manual_seed(0)
    model = Pix2PixModel(randomise(UNet(TINY_UNET), scale=0.05), discriminator_channels=(4, 8, 8)).train()
    images = torch.rand(2, 2, 64, 32)
    terms = model(images, torch.Generator())
    assert set(terms) == {"adversarial", "l1", "discriminator"} and all(t.shape == (2,) for t in terms.values())
    with torch.no_grad():
        expected_l1 = 100 * (model.generators(images[:, :1]) - images[:, 1:]).abs().flatten(1).mean(1)
    torch.testing.assert_close(terms["l1"], expected_l1)
    terms["adversarial"].sum().backward()  # the generator's adversarial term does not train the discriminator
    assert all(p.grad is None for p in model.discriminator.parameters())
    assert any(p.grad is not None for p in model.generators.parameters())
    model.zero_grad()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3, betas=(0.5, 0.999))
    images = torch.cat([images[:, :1], 0.5 * images[:, :1]], dim=1)  # a target the generator can learn
    l1 = []
    for _ in range(6):
        terms = model(images, torch.Generator())
        l1.append(float(terms["l1"].mean().detach()))
        optimiser.zero_grad()
        torch.stack(list(terms.values())).sum(0).mean().backward()
        optimiser.step()
    assert l1[-1] < 0.8 * l1[0] and all(b < a for a, b in zip(l1, l1[1:], strict=False)), l1


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
        expected = load_model(tiny_model)(result.content.image[None, None])[0, 0]
    torch.testing.assert_close(result.spectrogram.image, expected, atol=1e-3, rtol=0)  # channels-last rounds apart
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


def test_training_run_and_cli(data, tmp_path, capsys):
    options = Pix2PixTrainingOptions(
        data=data, out=tmp_path / "run", domains=DomainSelection("flute", "keyboard_acoustic_000", val_notes=2),
        spectrogram=TINY, channels=(4, 8, 8), discriminator_channels=(4, 8, 8),
        loop=LoopOptions(steps=3, batch_size=2, learning_rate=2e-3, final_learning_rate=0.0, schedule="linear",
                         betas=(0.5, 0.999), checkpoint_every=3, samples=1, progress=False))
    report = train_pix2pix(options)
    run = tmp_path / "run"
    for name in ("model.json", "checkpoint.pt", "metrics.png", "samples/step-000003-0.png"):
        assert (run / name).exists(), name
    assert not (run / "samples/step-000003-1.png").exists()  # one direction
    with open(run / "metrics.csv") as handle:
        row = next(csv.DictReader(handle))
    assert {"train_adversarial", "train_l1", "train_discriminator", "val_l1"} <= set(row)
    description = json.loads((run / "model.json").read_text())
    assert description["kind"] == "pix2pix_generator" and description["metadata"]["directions"] == {
        "a2b": "flute -> keyboard_acoustic_000"}
    assert report["held_out_pitches"] == [64] and "paired by pitch and velocity" in report["notes"]
    # the command line: unknown domains are one-line errors
    capsys.readouterr()
    assert main(["train", "pix2pix", "--data", str(data), "--out", str(tmp_path / "cli"), "--domain-a", "flute",
                 "--domain-b", "kazoo", "--quiet"]) == 2
    assert "domain 'kazoo' is neither a family" in capsys.readouterr().err
    assert main(["train", "pix2pix", "--data", str(data), "--out", str(tmp_path / "cli"), "--domain-a", "flute",
                 "--domain-b", "keyboard", "--hold-out-pitches", "64,65", "--quiet"]) == 2
    assert "held-out pitch(es) 65 not among the domains' pitches" in capsys.readouterr().err
    assert main(["train", "pix2pix", "--data", str(data), "--out", str(tmp_path / "cli"), "--domain-a", "flute",
                 "--domain-b", "keyboard", "--hold-out-pitches", "64,x", "--quiet"]) == 2
    assert "expected comma-separated integers" in capsys.readouterr().err
    assert main(["train", "pix2pix", "--data", str(data), "--out", str(tmp_path / "cli"), "--domain-a", "flute",
                 "--domain-b", "keyboard", "--hold-out-pitches", ",", "--quiet"]) == 2
    assert "no held-out pitches given: name at least one" in capsys.readouterr().err
    assert not (tmp_path / "cli").exists()


# ------------------------------------------------------------------ quality with the shipped model (after shipping)


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


@requires_shipped("pix2pix_generator", "flute-keyboard")
@pytest.mark.xfail(strict=True, reason="goal not met: measured 2026-11-30, 24 of 34 (70.6%) of the held-out flute "
                   "notes come out classified as keyboard by the shipped audio CNN (it hears 4 of the 6 real piano "
                   "notes at those pitches as keyboard, 77.3% of all real keyboard notes there)")
def test_shipped_pix2pix_outputs_classified_as_keyboard(shipped_quality):
    """The issue's goal: the shipped audio CNN hears >= 80% of the outputs as keyboard."""
    assert shipped_quality.classified_as_target >= 0.8, shipped_quality.notes


@requires_shipped("pix2pix_generator", "flute-keyboard")
def test_shipped_pix2pix_moves_outputs_towards_keyboard_and_keeps_pitch(shipped_quality):
    """What the shipped model does reach: 60% of the flute notes heard as keyboard (measured 24 of 34 with the
    model trained at every semitone; the flute notes themselves: none; trained at every third semitone: 14 of 34),
    the pitch kept."""
    assert shipped_quality.classified_as_target >= 0.6, shipped_quality.notes
    assert shipped_quality.median_f0_error_cents <= 50.0, shipped_quality.notes
