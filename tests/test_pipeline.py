"""The shared transfer interface and the Gatys mechanics, with an untrained feature network (fast)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf
import torch

from spectrostyle.core.errors import InputError
from spectrostyle.methods.gatys import GatysMethod
from spectrostyle.methods.network import blend_tiles, tile_starts
from spectrostyle.methods.registry import make_options
from spectrostyle.nets.audio_cnn import AudioCNN, AudioCNNConfig
from spectrostyle.pipeline import save_result, transfer
from spectrostyle.store import save_model
from spectrostyle.ui.cli.main import main
from tests.conftest import harmonic_note


@pytest.fixture(scope="module")
def untrained_net(tmp_path_factory) -> str:
    torch.manual_seed(0)
    return str(save_model(AudioCNN(AudioCNNConfig()).eval(), tmp_path_factory.mktemp("net") / "untrained"))


def test_tiles_cover_and_blend():
    assert tile_starts(100, 512, 32) == [0]
    starts = tile_starts(1200, 512, 32)
    assert starts[0] == 0 and starts[-1] == 1200 - 512
    assert all(b - a <= 512 - 32 for a, b in zip(starts, starts[1:], strict=False))
    tiles = [torch.full((3, 512), 0.7) for _ in starts]
    torch.testing.assert_close(blend_tiles(tiles, starts, 1200, 32), torch.full((3, 1200), 0.7))
    ramp = torch.arange(1200.0).repeat(3, 1)
    torch.testing.assert_close(blend_tiles([ramp[:, s:s + 512] for s in starts], starts, 1200, 32), ramp)


def test_gatys_result_properties(untrained_net):
    content, style = harmonic_note(261.63, 3.0), harmonic_note(349.23, 1.7, harmonics=3)  # different lengths
    result = transfer(content, style, "gatys", feature_net=untrained_net, steps=8)
    assert result.audio.shape == (len(content),) and result.audio.dtype == np.float32
    assert np.isfinite(result.audio).all() and 0.01 < np.abs(result.audio).max() <= 1.0
    assert result.spectrogram.image.shape == result.content.image.shape
    assert result.history["style"][-1] < result.history["style"][0] / 2  # the 10x goal: tests/test_gatys.py
    assert result.settings["steps"] == 8 and result.settings["feature_net"] == untrained_net


def test_gatys_takes_the_loss_once_per_point(untrained_net, monkeypatch):
    # L-BFGS asks for the loss at the start of each step where its line search has just taken it: given back, not
    # taken again, so a step costs one pass of the feature network where the first try of the line search holds
    from spectrostyle.methods.losses import PerceptualLoss

    passes = []
    forward = PerceptualLoss.forward
    monkeypatch.setattr(PerceptualLoss, "forward", lambda self, *a, **k: passes.append(1) or forward(self, *a, **k))
    content, style = harmonic_note(261.63, 1.0), harmonic_note(349.23, 1.0)
    result = transfer(content, style, "gatys", feature_net=untrained_net, steps=12)
    steps = len(result.history["style"]) - 1
    assert steps == 12
    assert len(passes) <= 1.25 * steps + 1  # every step's start taken again would be 2 * steps + 1


def test_gatys_is_seeded(untrained_net):
    content, style = harmonic_note(261.63, 1.0), harmonic_note(349.23, 1.0)
    first = transfer(content, style, "gatys", feature_net=untrained_net, steps=3, start="noise", seed=5)
    again = transfer(content, style, "gatys", feature_net=untrained_net, steps=3, start="noise", seed=5)
    np.testing.assert_array_equal(first.audio, again.audio)


def test_gatys_delays_fit_the_style_wherever_the_image_sits(untrained_net):
    """delays=N optimises the loss averaged over the image delayed by 0..N-1 frames: its result's style term,
    averaged over those delays, is lower than the plain result's; delays=1 is the plain optimisation."""
    from spectrostyle.methods.gatys import load_feature_net
    from spectrostyle.methods.losses import LossWeights, PerceptualLoss

    content, style = harmonic_note(261.63, 1.0), harmonic_note(349.23, 1.0, harmonics=3)
    plain = transfer(content, style, "gatys", feature_net=untrained_net, steps=10)
    again = transfer(content, style, "gatys", feature_net=untrained_net, steps=10, delays=1)
    np.testing.assert_array_equal(plain.audio, again.audio)
    robust = transfer(content, style, "gatys", feature_net=untrained_net, steps=10, delays=4)
    assert robust.settings["delays"] == 4 and len(robust.history["style"]) == len(plain.history["style"])
    loss = PerceptualLoss(load_feature_net(untrained_net), LossWeights(content=0, energy=0, frequency=0))
    targets = loss.targets(plain.content.image[None, None], robust.styles[0].image[None, None])
    with torch.no_grad():
        over = [float(loss.style_over_delays(r.spectrogram.image[None, None], targets, delays=4))
                for r in (plain, robust)]
    assert over[1] < 0.5 * over[0], over


def test_long_content_is_tiled(untrained_net):
    content = harmonic_note(200, 20.0)
    result = transfer(content, harmonic_note(300, 2.0), "gatys", feature_net=untrained_net, steps=1, tile_frames=256)
    assert result.audio.shape == (len(content),)
    assert len(result.history["total"]) == 2 * len(tile_starts(result.spectrogram.image.shape[1], 256, 32))


def test_settings_are_checked(untrained_net):
    with pytest.raises(InputError, match="has no setting\\(s\\) stpes"):
        make_options("gatys", stpes=3)
    with pytest.raises(InputError, match="start must be one of"):
        make_options("gatys", start="middle")
    with pytest.raises(InputError, match="delays must be in 1..64, got 0"):
        make_options("gatys", delays=0)
    with pytest.raises(InputError, match="unknown method 'slow'; choose from: gatys"):
        transfer(harmonic_note(), harmonic_note(), "slow")
    with pytest.raises(InputError, match="needs a style sound"):
        transfer(harmonic_note(), None, "gatys", feature_net=untrained_net)
    with pytest.raises(InputError, match="2 style sounds but 1 style_mix"):
        transfer(harmonic_note(), [harmonic_note(), harmonic_note(300)], "gatys", feature_net=untrained_net,
                 style_mix=(1.0,))
    with pytest.raises(InputError, match="no shipped audio_cnn model named 'nonesuch'"):
        GatysMethod(make_options("gatys", feature_net="nonesuch")).spectrogram_config  # noqa: B018


def test_outputs_png_json(tmp_path, untrained_net):
    result = transfer(harmonic_note(), harmonic_note(300), "gatys", feature_net=untrained_net, steps=2)
    save_result(result, tmp_path / "o.wav", png=tmp_path / "o.png", report_json=tmp_path / "o.json")
    assert sf.info(tmp_path / "o.wav").frames == 64_000
    record = json.loads((tmp_path / "o.json").read_text())
    assert record["method"] == "gatys" and len(record["history"]["style"]) == 3
    assert (tmp_path / "o.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(InputError, match="must be different files"):
        save_result(result, tmp_path / "x.wav", report_json=tmp_path / "x.wav")


def test_cli_interrupt_leaves_no_output(tmp_path, untrained_net, monkeypatch, capsys):
    content, style = tmp_path / "c.wav", tmp_path / "s.wav"
    sf.write(content, harmonic_note(), 16_000)
    sf.write(style, harmonic_note(300), 16_000)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(GatysMethod, "stylise_images", interrupted)
    status = main(["transfer", str(content), "--style", str(style), "-o", str(tmp_path / "out.wav"),
                   "--png", str(tmp_path / "out.png"), "--feature-net", untrained_net, "--quiet"])
    assert status == 130
    assert sorted(os.listdir(tmp_path)) == ["c.wav", "s.wav"]
    assert "interrupted" in capsys.readouterr().err


def test_precisions_of_the_feature_pass(untrained_net, tmp_path, capsys):
    from spectrostyle.core.device import feature_dtype, native_bfloat16

    assert feature_dtype("fp32", "cpu") is None
    assert feature_dtype("bf16", "cpu") is torch.bfloat16
    assert feature_dtype("auto", "cpu") is (torch.bfloat16 if native_bfloat16("cpu") else None)
    with pytest.raises(InputError, match="unknown precision 'half'; choose from auto, fp32, bf16"):
        feature_dtype("half", "cpu")
    content, style = harmonic_note(261.63, 1.0), harmonic_note(349.23, 1.0)
    made = {p: transfer(content, style, "gatys", feature_net=untrained_net, steps=4, precision=p)
            for p in ("fp32", "bf16", "auto")}
    assert made["bf16"].history["style"][0] == pytest.approx(made["fp32"].history["style"][0], rel=0.05)
    np.testing.assert_array_equal(made["auto"].audio, made["fp32"].audio)  # not a shipped network: fp32
    sf.write(tmp_path / "c.wav", harmonic_note(), 16_000)
    for flag, value in (("--precision", "half"), ("--keep-pitch", "2")):
        code = main(["transfer", str(tmp_path / "c.wav"), "--style", str(tmp_path / "c.wav"), "--method", "gatys",
                     "-o", str(tmp_path / "out.wav"), flag, value])
        assert code == 2
        assert value in capsys.readouterr().err and not (tmp_path / "out.wav").exists()


def test_each_method_balances_within_its_own_limit():
    from spectrostyle.core.shaping import BALANCE_LIMIT_DB, spectral_balance
    from spectrostyle.methods.adain import AdainMethod
    from spectrostyle.pipeline import _pitch_and_balance

    frames = 40
    for runner in (GatysMethod(), AdainMethod()):
        config = runner.spectrogram_config
        db_range = -config.db_floor
        rows = torch.linspace(0, 1, config.n_freq)[:, None]  # an image's rows
        result = (0.9 - 0.5 * rows).repeat(1, frames)  # falls 0.5 of the range to the top
        style = (0.9 - 0.1 * rows).repeat(1, frames)  # much brighter: the equaliser meets its limit
        moved = _pitch_and_balance(runner, result, result, spectral_balance(style, db_range), (0.0, 1.0))
        change_db = float(((moved - result) * db_range).abs().max())
        assert change_db == pytest.approx(runner.balance_limit_db, abs=0.05)
    assert GatysMethod.balance_limit_db > BALANCE_LIMIT_DB == AdainMethod.balance_limit_db
