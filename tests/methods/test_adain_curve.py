"""AdaIN's alpha curve: a blend that moves along the sound (``--alpha-curve SECONDS:ALPHA,...``)."""

from __future__ import annotations

import pytest
import soundfile as sf
import torch

from spectrostyle.core.errors import InputError
from spectrostyle.data.examples import example_path
from spectrostyle.methods.adain import alpha_along, blend_along, parse_alpha_curve
from spectrostyle.methods.registry import make_options
from spectrostyle.pipeline import transfer
from spectrostyle.ui.cli.main import main
from tests.conftest import requires_shipped


def test_curve_points_are_parsed_and_checked():
    assert parse_alpha_curve("0:0, 2:1,4:0.3") == [(0.0, 0.0), (2.0, 1.0), (4.0, 0.3)]
    for text, message in (("0:0,x", "is not SECONDS:ALPHA"), ("0:0,0:1", "must rise in time"),
                          ("0:1.5", "alpha in 0..1"), ("-1:0", "seconds must be >= 0"), (",", "has no points")):
        with pytest.raises(InputError, match=message):
            make_options("adain", alpha_curve=text)


def test_alpha_is_linear_between_points_and_held_beyond():
    seconds = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 9.0])
    alpha = alpha_along([(1.0, 0.0), (3.0, 1.0), (4.0, 0.5)], seconds)
    torch.testing.assert_close(alpha, torch.tensor([0.0, 0.0, 0.5, 1.0, 0.5, 0.5]), atol=1e-6, rtol=0)


def test_each_frame_lies_between_the_two_nearest_levels():
    made = []

    def result_at(level: float) -> torch.Tensor:  # a result whose every pixel is its alpha
        made.append(level)
        return torch.full((2, 1, 3, 5), level)

    alpha = torch.tensor([0.0, 0.1, 0.3, 0.6, 0.6])
    out = blend_along(result_at, alpha)
    assert out.shape == (2, 1, 3, 5)
    torch.testing.assert_close(out, alpha.view(1, 1, 1, -1).expand(2, 1, 3, 5), atol=1e-6, rtol=0)
    assert sorted(made) == [0.0, 0.25, 0.5, 0.75]  # only the levels the curve passes


@requires_shipped("adain_decoder", "default")
def test_a_curve_from_content_to_style_starts_near_alpha_0_and_a_constant_curve_is_alpha():
    content, style = example_path("flute", 60), example_path("keyboard", 60)
    plain = {a: transfer(content, style, "adain", alpha=a).spectrogram.image for a in (0.0, 1.0)}
    moving = transfer(content, style, "adain", alpha_curve="0:0,4:1").spectrogram.image
    first = slice(0, moving.shape[1] // 4)
    to_content = (moving[:, first] - plain[0.0][:, first]).abs().mean()
    to_style = (moving[:, first] - plain[1.0][:, first]).abs().mean()
    assert to_content < 0.3 * to_style
    held = transfer(content, style, "adain", alpha_curve="0:1").spectrogram.image
    torch.testing.assert_close(held, plain[1.0], atol=1e-6, rtol=0)


@requires_shipped("adain_decoder", "default")
def test_the_cli_takes_a_curve_and_refuses_a_bad_one(tmp_path, capsys):
    out = tmp_path / "morph.wav"
    args = ["transfer", str(example_path("flute", 60)), "--style", str(example_path("keyboard", 60)),
            "--method", "adain", "--quiet"]
    assert main([*args, "--alpha-curve", "0:0,2:1,4:0.3", "-o", str(out)]) == 0
    audio, rate = sf.read(out)
    assert rate == 16_000 and len(audio) == 64_000
    capsys.readouterr()
    assert main([*args, "--alpha-curve", "0:0,1", "-o", str(tmp_path / "bad.wav")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SECONDS:ALPHA" in err[0] and not (tmp_path / "bad.wav").exists()


@requires_shipped("adain_decoder", "default")
def test_the_even_knob_is_calibrated_on_the_sound():
    from spectrostyle.core.metrics import mean_mfcc

    content, style = example_path("flute", 60), example_path("keyboard", 60)
    ends = [mean_mfcc(transfer(content, style, "adain", alpha=a).audio, 16_000) for a in (0.0, 1.0)]
    line = ends[1] - ends[0]
    places = [float((mean_mfcc(transfer(content, style, "adain", alpha=k, alpha_scale="even").audio, 16_000)
                     - ends[0]) @ line / (line @ line)) for k in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert places[0] == pytest.approx(0.0, abs=0.02) and places[-1] == pytest.approx(1.0, abs=0.02)
    assert all(b > a for a, b in zip(places, places[1:], strict=False))
    assert places[2] == pytest.approx(0.5, abs=0.1)
    with pytest.raises(InputError, match="alpha_scale"):
        transfer(content, style, "adain", alpha_scale="log")


@requires_shipped("adain_decoder", "default")
def test_a_style_curve_moves_from_the_first_style_to_the_second():
    from spectrostyle.core.metrics import mean_mfcc

    content = example_path("guitar", 60)
    styles = [example_path("flute", 60), example_path("keyboard", 60)]
    # a curve takes no balance matching (one equaliser cannot follow it), so neither do the ends it is placed between
    ends = [transfer(content, [styles[0], styles[1]], "adain", style_mix=weights, balance=0.0).audio
            for weights in ((1.0, 0.0), (0.0, 1.0))]
    moving = transfer(content, styles, "adain", style_curve="0:0,4:1").audio
    assert transfer(content, styles, "adain", style_curve="0:0,4:1", keep_pitch=0.0).settings["balance"] == 0.0
    quarter = len(moving) // 4
    places = []
    for span in (slice(0, quarter), slice(len(moving) - quarter, len(moving))):
        start, end = (mean_mfcc(e[span], 16_000) for e in ends)
        line = end - start
        places.append(float((mean_mfcc(moving[span], 16_000) - start) @ line / (line @ line)))
    assert places[0] < 0.35 and places[1] > 0.65
    with pytest.raises(InputError, match="between two style sounds"):
        transfer(content, styles[:1], "adain", style_curve="0:0,4:1")
    with pytest.raises(InputError, match="not both"):
        transfer(content, styles, "adain", style_curve="0:0,4:1", alpha_curve="0:0,4:1")
    with pytest.raises(InputError, match="style weight curve point"):
        transfer(content, styles, "adain", style_curve="0:2")
