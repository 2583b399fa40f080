"""CycleGAN: the generators, the method and the CLI, on tiny models; and the shipped flute <-> keyboard model's
quality on held-out pitches (``test_shipped_*``, marked ``acceptance``; skipped until it is shipped). Its trainer:
``tests/train/test_gan.py``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from spectrostyle.core.errors import ConfigMismatchError, InputError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig
from spectrostyle.eval.translation import cycle_convergence_db
from spectrostyle.methods.cyclegan import CycleGANMethod
from spectrostyle.methods.registry import make_options
from spectrostyle.nets.cyclegan import CycleGANGenerators
from spectrostyle.nets.transform_net import TransformNetConfig
from spectrostyle.pipeline import transfer
from spectrostyle.store import load_model, save_model
from spectrostyle.ui.cli.main import main
from tests.conftest import harmonic_note, requires_shipped
from tests.feedforward_helpers import TINY, randomise

TINY_GENERATORS = TransformNetConfig(channels=(4, 8), residual_blocks=1, spectrogram=TINY)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    torch.manual_seed(0)
    generators = randomise(CycleGANGenerators(TINY_GENERATORS))
    return str(save_model(generators, tmp_path_factory.mktemp("cyclegan") / "tiny",
                          metadata={"domain_a": "flute", "domain_b": "keyboard"}))


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
    assert a2b.settings["keep_pitch"] == 0.0  # the instrument is in the fine structure too: none put back
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
        transfer(Spectrogram.from_audio(harmonic_note(seconds=0.5)), None,
                 CycleGANMethod(make_options("cyclegan", model=tiny_model)))
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


# ------------------------------------------------------------------ acceptance: quality of the shipped model


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


SHORT_OF_GOAL = pytest.mark.xfail(
    strict=True,
    reason="under 80 % of CycleGAN's outputs heard as the target family (BENCHMARKS.md, CycleGAN and pix2pix)")


@pytest.mark.acceptance
@requires_shipped("cyclegan_generator", "flute-keyboard")
@SHORT_OF_GOAL
@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_shipped_cyclegan_outputs_classified_as_the_target_family(shipped_quality, direction):
    """The issue's goal: the shipped audio CNN hears >= 80% of the outputs as the target family."""
    quality = shipped_quality[direction]
    assert quality.classified_as_target >= 0.8, quality.notes


@pytest.mark.acceptance
@requires_shipped("cyclegan_generator", "flute-keyboard")
@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_shipped_cyclegan_moves_most_outputs_to_the_target_family(shipped_quality, direction):
    """What the shipped model does reach in both directions: at least 60% of the outputs are heard as the target
    family (the inputs themselves: none), and the pitch is kept."""
    quality = shipped_quality[direction]
    assert quality.classified_as_target >= 0.6, quality.notes
    assert quality.median_f0_error_cents <= 50.0, quality.notes


@pytest.mark.acceptance
@requires_shipped("cyclegan_generator", "flute-keyboard")
@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_shipped_cyclegan_keeps_the_pitch_of_nearly_every_note(shipped_quality, direction):
    """Not only the median: at most 5% of the outputs more than 50 cents off their input's pitch (the shipped model:
    none of 34 / 44)."""
    notes = shipped_quality[direction].notes
    off = shipped_quality[direction].off_pitch()
    assert all("f0_error_cents" in record for record in notes) and len(off) <= 0.05 * len(notes), off
