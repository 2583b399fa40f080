"""The GAN trainers: least-squares loss, frozen discriminators, the image pool, CycleGAN's one-backward step and
pix2pix's training step, and runs of both on tiny models and synthetic notes. Resume and DDP: ``test_shared.py``."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from spectrostyle.core.errors import InputError
from spectrostyle.data.selection import DomainSelection
from spectrostyle.nets.cyclegan import CycleGANGenerators
from spectrostyle.nets.discriminator import PatchDiscriminator
from spectrostyle.nets.transform_net import TransformNetConfig
from spectrostyle.nets.unet import UNet, UNetConfig
from spectrostyle.pipeline import transfer
from spectrostyle.store import load_model
from spectrostyle.train.cyclegan import CycleGANModel, train_cyclegan
from spectrostyle.train.gan import ImagePool, frozen, lsgan_loss
from spectrostyle.train.loop import LoopOptions
from spectrostyle.train.pix2pix import Pix2PixModel, Pix2PixTrainingOptions, train_pix2pix
from spectrostyle.train.runtime import load_checkpoint
from spectrostyle.ui.cli.main import main
from tests.conftest import harmonic_note
from tests.feedforward_helpers import TINY, randomise
from tests.train.conftest import cyclegan_options as _options

TINY_GENERATORS = TransformNetConfig(channels=(4, 8), residual_blocks=1, spectrogram=TINY)
TINY_UNET = UNetConfig(channels=(4, 8, 8), spectrogram=TINY)


# ----------------------------------------- the GAN parts: discriminator, least-squares loss, frozen copy, image pool


def test_patch_discriminator_and_least_squares_loss():
    images = torch.rand(2, 1, 64, 256)
    assert PatchDiscriminator(1)(images).shape == (2, 1, 6, 30)  # 70 x 70 patches: size / 8 - 2
    assert PatchDiscriminator(1, (4, 8, 8))(images).shape == (2, 1, 14, 62)  # two halvings: size / 4 - 2
    prediction = torch.tensor([[[[1.0, 1.0]]], [[[0.0, 0.5]]]])  # (2, 1, 1, 2)
    torch.testing.assert_close(lsgan_loss(prediction, True), torch.tensor([0.0, 0.625]))
    torch.testing.assert_close(lsgan_loss(prediction, False), torch.tensor([1.0, 0.125]))
    with pytest.raises(InputError, match="two or more positive widths"):
        PatchDiscriminator(1, (8,))


def test_frozen_module_passes_gradients_to_its_input_only():
    discriminator = PatchDiscriminator(1, (4, 8, 8))
    image = torch.rand(1, 1, 64, 64, requires_grad=True)
    lsgan_loss(frozen(discriminator)(image), True).sum().backward()
    assert image.grad is not None and float(image.grad.abs().sum()) > 0
    assert all(p.grad is None for p in discriminator.parameters())
    torch.testing.assert_close(frozen(discriminator)(image), discriminator(image), atol=0, rtol=0)


def test_image_pool():
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(3, 1, 8, 8)
    assert ImagePool(0).query(images, generator) is images  # no pool: the new images themselves
    pool = ImagePool(4)
    torch.testing.assert_close(pool.query(images, generator), images, atol=0, rtol=0)  # filling up: the new ones
    state = pool.state_dict()
    newer = torch.rand(20, 1, 8, 8) + 2.0  # values no stored image has
    shown = pool.query(newer, generator)
    torch.testing.assert_close(shown[0], newer[0], atol=0, rtol=0)  # it fills the pool
    # then each is the new image or, half the time, a stored one (an earlier image, kept as float16), which the new
    # one replaces
    stored = [image.half().float() for image in [*images, *newer]]
    swapped = 0
    for k in range(1, len(newer)):
        if not torch.equal(shown[k], newer[k]):
            swapped += 1
            assert any(torch.equal(shown[k], image) for image in stored[:3 + k])
    assert 5 < swapped < 15 and len(pool.images) == 4
    assert all(bool((image > 1.5).all()) for image in pool.images)  # the old ones were all swapped out by now
    again = ImagePool(4)
    again.load_state_dict(state)  # the same state and generator draw the same (filling drew nothing)
    torch.testing.assert_close(again.query(newer, torch.Generator().manual_seed(0)), shown, atol=0, rtol=0)
    with pytest.raises(InputError, match="size 4 in the checkpoint"):
        ImagePool(5).load_state_dict(state)


# ------------------------------------------------------------------------------------------------ CycleGAN


def test_one_backward_gives_each_network_its_own_gradients():
    """The sum of all terms, backpropagated once, gives the generators the gradients of their terms alone and the
    discriminators those of theirs: the reference's alternating G and D steps in one."""
    torch.manual_seed(0)
    model = CycleGANModel(randomise(CycleGANGenerators(TINY_GENERATORS)), discriminator_channels=(4, 8, 8),
                          pool_size=0).train()
    images = torch.rand(2, 2, 64, 64)

    def gradients(names: tuple[str, ...]) -> dict[str, torch.Tensor]:
        model.zero_grad()
        terms = model(images, torch.Generator().manual_seed(0))
        sum(terms[n].sum() for n in names).backward()
        return {k: (p.grad.clone() if p.grad is not None else torch.zeros_like(p)) for k, p in model.named_parameters()}

    everything = gradients(CycleGANModel.term_names)
    generator_terms = gradients(CycleGANModel.term_names[:6])
    discriminator_terms = gradients(CycleGANModel.term_names[6:])
    for name, gradient in everything.items():
        expected = discriminator_terms[name] if name.startswith("d_") else generator_terms[name]
        torch.testing.assert_close(gradient, expected, atol=1e-6, rtol=1e-5)
    assert any(float(g.abs().sum()) > 0 for n, g in discriminator_terms.items() if n.startswith("d_"))
    assert all(float(g.abs().sum()) == 0 for n, g in discriminator_terms.items() if n.startswith("generators"))
    assert all(float(g.abs().sum()) == 0 for n, g in generator_terms.items() if n.startswith("d_"))


def test_cycle_loss_falls_over_a_few_steps():
    torch.manual_seed(0)
    model = CycleGANModel(randomise(CycleGANGenerators(TINY_GENERATORS), scale=0.05),
                          discriminator_channels=(4, 8, 8), pool_size=2).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3, betas=(0.5, 0.999))
    images = torch.rand(2, 2, 64, 32)
    generator = torch.Generator().manual_seed(0)
    cycles = []
    for _ in range(8):
        terms = model(images, generator)
        cycles.append(float((terms["cycle_a"] + terms["cycle_b"]).mean().detach()))
        optimiser.zero_grad()
        torch.stack(list(terms.values())).sum(0).mean().backward()
        optimiser.step()
    assert cycles[-1] < 0.5 * cycles[0] and all(b < a for a, b in zip(cycles, cycles[1:], strict=False)), cycles


def test_training_writes_its_files(data, tmp_path):
    report = train_cyclegan(_options(data, tmp_path / "run", steps=3, checkpoint_every=1, samples=1))
    run = tmp_path / "run"
    for name in ("model.json", "model.safetensors", "checkpoint.pt", "metrics.csv", "metrics.png", "report.json",
                 "samples/step-000003-0.png", "samples/step-000003-0.wav", "samples/step-000003-1.wav"):
        assert (run / name).exists(), name
    with open(run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    assert [float(r["learning_rate"]) for r in rows] == pytest.approx([2e-3, 2e-3, 0.0])  # constant, then linear
    assert {f"train_{n}" for n in CycleGANModel.term_names} <= set(rows[0])
    description = json.loads((run / "model.json").read_text())
    assert description["kind"] == "cyclegan_generator"
    metadata = description["metadata"]
    assert metadata["domain_a"] == "flute" and metadata["domain_b"] == "keyboard"
    assert metadata["held_out_pitches"] == [64] and metadata["directions"]["b2a"] == "keyboard -> flute"
    assert metadata["training"]["schedule"] == "linear" and metadata["training"]["steps"] == 3
    assert report["held_out_pitches"] == [64] and report["steps"] == 3
    checkpoint = load_checkpoint(run)  # the training checkpoint holds everything, the model file the generators
    assert any(k.startswith("d_a.") for k in checkpoint["model"]) and len(checkpoint["task"][0]["a"]["images"]) == 2
    assert all(not k.startswith("d_") for k in load_model(run / "model.json").state_dict())
    result = transfer(harmonic_note(300.0, 1.0), None, "cyclegan", model=str(run / "model.json"), direction="b2a")
    assert np.isfinite(result.audio).all()


def test_bf16_training_step_gives_the_float32_losses_within_bfloat16_precision(data, tmp_path):
    rows = {}
    for precision in ("fp32", "bf16"):
        report = train_cyclegan(_options(data, tmp_path / precision, steps=1, checkpoint_every=1,
                                         precision=precision))
        assert report["options"]["loop"]["precision"] == precision
        with open(tmp_path / precision / "metrics.csv") as handle:
            rows[precision] = next(csv.DictReader(handle))
    for name in CycleGANModel.term_names:  # the same first step (same seed), computed in other arithmetic
        assert float(rows["bf16"][f"train_{name}"]) == pytest.approx(float(rows["fp32"][f"train_{name}"]),
                                                                      rel=0.05, abs=1e-3), name
    assert rows["bf16"]["train_total"] != rows["fp32"]["train_total"]


# ------------------------------------------------------------------------------------------------ pix2pix


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
