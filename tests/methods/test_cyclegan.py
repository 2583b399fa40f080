"""CycleGAN: generators, PatchGAN, least-squares loss, image pool, the one-backward training step, domains and
held-out pitches, training with resume and DDP, the method and the CLI, on tiny models and synthetic notes; and
the shipped flute <-> keyboard model's quality on held-out pitches (``test_shipped_*``: run after shipping)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from spectrostyle.core.errors import ConfigMismatchError, InputError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig
from spectrostyle.data.selection import DomainSelection, held_out_pitches, load_domain_notes
from spectrostyle.eval.translation import cycle_convergence_db
from spectrostyle.methods.cyclegan import CycleGANMethod
from spectrostyle.methods.registry import make_options
from spectrostyle.nets.cyclegan import CycleGANGenerators
from spectrostyle.nets.discriminator import PatchDiscriminator
from spectrostyle.nets.transform_net import TransformNetConfig
from spectrostyle.pipeline import transfer
from spectrostyle.store import load_model, save_model
from spectrostyle.train.cyclegan import CycleGANModel, CycleGANTrainingOptions, train_cyclegan
from spectrostyle.train.gan import ImagePool, frozen, lsgan_loss
from spectrostyle.train.loop import LoopOptions
from spectrostyle.train.runtime import load_checkpoint
from spectrostyle.ui.cli.main import main
from tests.conftest import harmonic_note, requires_shipped
from tests.feedforward_helpers import TINY, gan_dataset, randomise

TINY_GENERATORS = TransformNetConfig(channels=(4, 8), residual_blocks=1, spectrogram=TINY)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    torch.manual_seed(0)
    generators = randomise(CycleGANGenerators(TINY_GENERATORS))
    return str(save_model(generators, tmp_path_factory.mktemp("cyclegan") / "tiny",
                          metadata={"domain_a": "flute", "domain_b": "keyboard"}))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return gan_dataset(tmp_path_factory.mktemp("gan-data") / "data")


def test_generators_shapes_identity_at_start_and_refusals():
    generators = CycleGANGenerators(TINY_GENERATORS).eval()
    images = torch.rand(3, 1, 64, 100)  # 100 frames: padded inside and cropped
    with torch.no_grad():
        for direction in ("a2b", "b2a"):  # zero heads: both start as the identity
            torch.testing.assert_close(generators(images, direction), images, atol=0, rtol=0)
        randomise(generators)
        a2b, b2a = generators(images, "a2b"), generators(images, "b2a")
    assert a2b.shape == b2a.shape == images.shape and float(a2b.min()) >= 0 and float(a2b.max()) <= 1
    assert float((a2b - b2a).abs().mean()) > 1e-3  # two different generators
    with pytest.raises(ConfigMismatchError, match="64 frequency rows"):
        generators(torch.rand(1, 1, 512, 16))
    with pytest.raises(InputError, match="direction must be one of a2b, b2a"):
        generators(images, "sideways")


def test_default_generators_fit_the_budget():
    generators = CycleGANGenerators()
    assert generators.config.channels == (16, 32, 64) and generators.config.residual_blocks == 6
    size_mb = sum(p.numel() * p.element_size() for p in generators.parameters()) / 1e6
    assert size_mb <= 20  # the shipped file holds both generators
    with torch.no_grad():
        assert generators(torch.rand(1, 1, 512, 256), "b2a").shape == (1, 1, 512, 256)


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


def test_domains_held_out_pitches_and_refusals(data):
    assert held_out_pitches([55, 58, 61, 64, 58], 4) == [64]
    assert held_out_pitches(range(60, 97, 3), 4) == [69, 81, 93]
    notes = load_domain_notes(data, DomainSelection("flute", "keyboard", val_notes=2), TINY, paired=False)
    assert notes.held_out == [64]
    # 2 instruments x 3 training pitches x 2 velocities a domain
    assert notes.train.shape == (12, 1, 64, 256) and notes.train_b.shape == (12, 1, 64, 256)
    assert notes.val.shape == (2, 2, 64, 256) and notes.partners is None
    assert all("-064-" in name for name in notes.val_names) and len(notes.val_paths) == 4
    assert not any("-064-" in name for name in notes.train_names)
    batch = notes.train_batch([0, 3], torch.Generator().manual_seed(0))
    assert batch.shape == (2, 2, 64, 256)
    torch.testing.assert_close(batch[:, :1], notes.train[[0, 3]], atol=0, rtol=0)
    assert load_domain_notes(data, DomainSelection("flute_acoustic_001", "keyboard", max_notes=3), TINY,
                             paired=False).train.shape[0] == 3
    with pytest.raises(InputError, match="neither a family"):
        load_domain_notes(data, DomainSelection("flute", "kazoo"), TINY, paired=False)
    with pytest.raises(InputError, match="no notes of domain 'brass'"):
        load_domain_notes(data, DomainSelection("flute", "brass"), TINY, paired=False)
    with pytest.raises(InputError, match="too few pitches"):
        load_domain_notes(data, DomainSelection("flute", "keyboard", hold_out_every=5), TINY, paired=False)
    with pytest.raises(InputError, match="must differ"):
        DomainSelection("flute", "flute")


def test_domains_named_held_out_pitches(data):
    notes = load_domain_notes(data, DomainSelection("flute", "keyboard", hold_out_pitches=(58, 55)), TINY,
                              paired=False)
    assert notes.held_out == [55, 58]
    assert notes.train.shape[0] == 8 and notes.train_b.shape[0] == 8  # 2 instruments x 2 pitches x 2 velocities
    assert not any("-055-" in name or "-058-" in name for name in notes.train_names)
    assert all("-055-" in name or "-058-" in name for name in notes.val_names)
    with pytest.raises(InputError, match=r"held-out pitch\(es\) 59, 70 not among the domains' pitches .*\[55, 58, 61, "
                       r"64\]"):
        load_domain_notes(data, DomainSelection("flute", "keyboard", hold_out_pitches=(59, 61, 70)), TINY,
                          paired=False)
    with pytest.raises(InputError, match="no held-out pitches given"):
        DomainSelection("flute", "keyboard", hold_out_pitches=())


def test_save_load_round_trip_and_config_refusal(tmp_path, tiny_model):
    original = load_model(tiny_model)
    path = save_model(original, tmp_path / "again", metadata={"domain_a": "flute"})
    loaded = load_model(path, expect_kind="cyclegan_generator")
    images = torch.rand(2, 1, 64, 48)
    with torch.no_grad():
        for direction in ("a2b", "b2a"):
            torch.testing.assert_close(loaded(images, direction), original(images, direction), atol=0, rtol=0)
    assert loaded.metadata == {"domain_a": "flute"}
    with pytest.raises(ConfigMismatchError, match="n_fft=128 \\(expected 1024\\)"):
        load_model(path, spectrogram=SpectrogramConfig())


def test_method_directions_and_refusals(tiny_model):
    content = harmonic_note(261.63, 1.0)  # 256 frames: one tile
    a2b = transfer(content, None, "cyclegan", model=tiny_model, direction="a2b")
    b2a = transfer(content, None, CycleGANMethod(make_options("cyclegan", model=tiny_model, direction="b2a")))
    assert a2b.audio.shape == b2a.audio.shape == content.shape and np.isfinite(a2b.audio).all()
    assert float((a2b.spectrogram.image - b2a.spectrogram.image).abs().mean()) > 1e-3
    assert a2b.settings["direction"] == "a2b" and a2b.settings["phase_iterations"] == 8
    assert a2b.settings["phase_init"] == "content"
    with torch.no_grad():  # the method's image is the a2b generator's
        expected = load_model(tiny_model)(a2b.content.image[None, None], "a2b")[0, 0]
    # channels-last convolutions round apart (up to 3.3e-4 seen on a loaded machine); a2b and b2a differ by far more
    torch.testing.assert_close(a2b.spectrogram.image, expected, atol=2e-3, rtol=0)
    with pytest.raises(InputError, match="direction must be one of a2b, b2a"):
        make_options("cyclegan", model=tiny_model, direction="up")
    with pytest.raises(InputError, match="translates between its domains \\(flute and keyboard\\)"):
        transfer(content, harmonic_note(300, 1.0), "cyclegan", model=tiny_model)
    with pytest.raises(ConfigMismatchError, match="content has a different spectrogram config"):
        CycleGANMethod(make_options("cyclegan", model=tiny_model)).stylise(
            Spectrogram.from_audio(harmonic_note(seconds=0.5)), [])
    with pytest.raises(InputError, match="no shipped cyclegan_generator model named 'nonesuch'"):
        transfer(content, None, "cyclegan", model="nonesuch")


def test_cycle_convergence(tiny_model):
    images = torch.rand(2, 1, 64, 32) ** 3
    identity = CycleGANGenerators(TINY_GENERATORS).eval()  # untrained: the identity both ways
    assert (cycle_convergence_db(identity, images) < -100).all()
    trained = load_model(tiny_model)
    convergence = cycle_convergence_db(trained, images, "b2a")
    assert convergence.shape == (2,) and (convergence > -100).all() and torch.isfinite(convergence).all()


def test_cli_transfer_and_errors(tmp_path, tiny_model, capsys):
    content = tmp_path / "c.wav"
    sf.write(content, harmonic_note(seconds=1.0), 16_000)
    out = tmp_path / "out.wav"
    assert main(["transfer", str(content), "--method", "cyclegan", "--model", tiny_model, "--direction", "b2a",
                 "-o", str(out), "--json", str(tmp_path / "out.json"), "--quiet"]) == 0
    assert sf.info(out).frames == 16_000
    assert json.loads((tmp_path / "out.json").read_text())["settings"]["direction"] == "b2a"
    capsys.readouterr()
    assert main(["transfer", str(content), "--method", "cyclegan", "--model", tiny_model, "--direction", "up",
                 "-o", str(tmp_path / "x.wav"), "--quiet"]) == 2
    assert "'up' is not one of 'a2b', 'b2a'" in capsys.readouterr().err
    assert main(["transfer", str(content), "--method", "fast", "--direction", "a2b", "-o", str(tmp_path / "x.wav"),
                 "--quiet"]) == 2
    assert "has no setting(s) direction" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


# ------------------------------------------------------------------------------------------------ training


def _options(data: Path, out: Path, steps: int, **loop) -> CycleGANTrainingOptions:
    return CycleGANTrainingOptions(
        data=data, out=out, domains=DomainSelection("flute", "keyboard", val_notes=2), spectrogram=TINY,
        channels=(4, 8), residual_blocks=1, discriminator_channels=(4, 8, 8), pool_size=2,
        loop=LoopOptions(steps=steps, batch_size=2, learning_rate=2e-3, final_learning_rate=0.0, schedule="linear",
                         betas=(0.5, 0.999), checkpoint_every=loop.pop("checkpoint_every", 2),
                         samples=loop.pop("samples", 0), progress=False, **loop))


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


def test_resume_after_a_kill_matches_the_uninterrupted_run(data, tmp_path, monkeypatch):
    whole = train_cyclegan(_options(data, tmp_path / "whole", steps=4))
    from spectrostyle.train import loop as feedforward

    real_save = feedforward.save_checkpoint

    def save_then_die(out_dir, state):
        real_save(out_dir, state)
        raise KeyboardInterrupt  # killed right after the first checkpoint (step 2)

    monkeypatch.setattr(feedforward, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_cyclegan(_options(data, tmp_path / "split", steps=4))
    monkeypatch.setattr(feedforward, "save_checkpoint", real_save)
    changed = _options(data, tmp_path / "split", steps=4)
    changed.resume, changed.cycle_weight = True, 5.0
    with pytest.raises(InputError, match="started with other settings"):
        train_cyclegan(changed)
    options = _options(data, tmp_path / "split", steps=4)
    options.resume = True
    resumed = train_cyclegan(options)
    checksum = json.loads((tmp_path / "whole" / "report.json").read_text())["parameter_sha256"]
    assert json.loads((tmp_path / "split" / "report.json").read_text())["parameter_sha256"] == checksum
    assert resumed["final_val_loss"] == pytest.approx(whole["final_val_loss"], rel=1e-6)
    with open(tmp_path / "split" / "metrics.csv") as handle:
        assert [int(r["step"]) for r in csv.DictReader(handle)] == [2, 4]


def test_ddp_two_cpu_processes_agree(data, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29541",
               "-m", "spectrostyle", "train", "cyclegan", "--data", str(data), "--out", str(out), "--domain-a",
               "flute", "--domain-b", "keyboard", "--velocities", "100", "--channels", "4,8", "--residual-blocks",
               "1", "--discriminator-channels", "4,8,8", "--pool-size", "1", "--steps", "2", "--val-notes", "1",
               "--checkpoint-every", "1", "--samples", "0", "--quiet"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["parameter_sha256"] == ranks[1]["parameter_sha256"]
    assert json.loads((out / "report.json").read_text())["world_size"] == 2
    assert len(load_checkpoint(out)["task"]) == 2  # each process's image pools


# ------------------------------------------------------------------ quality with the shipped model (after shipping)


@pytest.fixture(scope="module")
def shipped_quality(tmp_path_factory):
    """Both directions of the shipped flute-keyboard CycleGAN on the notes of its held-out pitches (rendered)."""
    from spectrostyle.eval.translation import family_of, held_out_examples, render_held_out, translation_quality
    from spectrostyle.store import load_named_model

    metadata = load_named_model("flute-keyboard", "cyclegan_generator").metadata
    data = render_held_out(metadata, tmp_path_factory.mktemp("held-out"))
    qualities = {}
    for direction, source, target in (("a2b", "domain_a", "domain_b"), ("b2a", "domain_b", "domain_a")):
        notes = held_out_examples(metadata, data, metadata[source])
        method = CycleGANMethod(make_options("cyclegan", model="flute-keyboard", direction=direction))
        target_family = family_of(metadata[target], held_out_examples(metadata, data, metadata[target]))
        qualities[direction] = translation_quality(method, notes, target_family)  # f0 of every note
    return qualities


SHORT_OF_GOAL = pytest.mark.xfail(strict=True, reason="goal not met by the CPU-sized recipe (2000 steps): measured "
                                  "2026-11-29 with the second shipped audio CNN (81% on unseen programs), 22 of 34 "
                                  "(65%) a2b outputs heard as keyboard, 34 of 44 (77%) b2a as flute (real notes at "
                                  "those pitches: keyboard 77%, flute 97%); the first audio CNN heard 85% / 66%")


@requires_shipped("cyclegan_generator", "flute-keyboard")
@SHORT_OF_GOAL
@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_shipped_cyclegan_outputs_classified_as_the_target_family(shipped_quality, direction):
    """The issue's goal: the shipped audio CNN hears >= 80% of the outputs as the target family."""
    quality = shipped_quality[direction]
    assert quality.classified_as_target >= 0.8, quality.notes


@requires_shipped("cyclegan_generator", "flute-keyboard")
@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_shipped_cyclegan_moves_most_outputs_to_the_target_family(shipped_quality, direction):
    """What the shipped model does reach in both directions: at least 60% of the outputs are heard as the target
    family (the inputs themselves: none), and the pitch is kept."""
    quality = shipped_quality[direction]
    assert quality.classified_as_target >= 0.6, quality.notes
    assert quality.median_f0_error_cents <= 50.0, quality.notes


@requires_shipped("cyclegan_generator", "flute-keyboard")
@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_shipped_cyclegan_keeps_the_pitch_of_nearly_every_note(shipped_quality, direction):
    """Not only the median: at most 5% of the outputs more than 50 cents off their input's pitch (the shipped model:
    none of 34 / 44; a 4000-step model that lost 8 of 34 a2b notes, by 220-1200 cents, was not shipped)."""
    notes = shipped_quality[direction].notes
    off = shipped_quality[direction].off_pitch()
    assert all("f0_error_cents" in record for record in notes) and len(off) <= 0.05 * len(notes), off
