"""Spectrogram PNGs edited in an image editor that kept the metadata: the whole image is inverted (the stored length
is a hint), a widened or cropped canvas gets a note, and --ignore-metadata reads the pixels alone."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from PIL import Image, PngImagePlugin

from spectrostyle.core.errors import InputError
from spectrostyle.core.png import METADATA_KEY, load_png, save_png
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig
from spectrostyle.ui.cli.main import main
from tests.conftest import harmonic_note


def _edited(path, width: int, *, tone_from: int = 0, metadata: dict | None = None) -> None:
    """A 16-bit PNG of ``width`` frames, one steady tone from frame ``tone_from`` on, with ``metadata`` kept."""
    pixels = np.zeros((512, width), dtype=np.uint16)
    pixels[-40, tone_from:] = 65535
    info = PngImagePlugin.PngInfo()
    if metadata is not None:
        info.add_itxt(METADATA_KEY, json.dumps(metadata))
    Image.fromarray(pixels).save(path, pnginfo=info)


def _metadata(seconds: float) -> dict:
    return {"config": SpectrogramConfig().to_dict(), "gain_db": -20.0, "num_samples": int(seconds * 16_000)}


def test_a_widened_canvas_is_inverted_whole(tmp_path):
    path = tmp_path / "wider.png"
    _edited(path, 128, tone_from=64, metadata=_metadata(1.0))  # a 1 s image (64 frames) widened to 2 s
    notes = []
    spec, had_metadata = load_png(path, notify=notes.append)
    assert had_metadata and spec.num_samples == 127 * 256 and len(notes) == 1 and "widened" in notes[0]
    audio = spec.to_audio(n_iter=8)
    assert len(audio) == 127 * 256 and np.abs(audio[20_000:30_000]).max() > 0.01  # what was drawn past 1 s


def test_a_cropped_canvas_is_inverted_as_it_is(tmp_path):
    path = tmp_path / "cropped.png"
    _edited(path, 32, metadata=_metadata(4.0))  # a 4 s image (256 frames) cropped to 32
    notes = []
    spec, _ = load_png(path, notify=notes.append)
    assert spec.num_samples == 31 * 256 and "cropped" in notes[0]


def test_the_stored_length_is_kept_while_the_image_holds_it(tmp_path, note):
    original = Spectrogram.from_audio(note[:40_000])
    path = save_png(tmp_path / "ours.png", original)
    notes = []
    assert load_png(path, notify=notes.append)[0].num_samples == 40_000 and notes == []
    image = Image.open(path)
    pixels = np.asarray(image)[:, :158]  # only padding (silence) cropped: 40 000 samples need 158 frames
    info = PngImagePlugin.PngInfo()
    info.add_itxt(METADATA_KEY, image.text[METADATA_KEY])
    Image.fromarray(pixels).save(tmp_path / "trimmed.png", pnginfo=info)
    assert load_png(tmp_path / "trimmed.png", notify=notes.append)[0].num_samples == 40_000 and notes == []


def test_ignore_metadata_reads_the_pixels_alone(tmp_path):
    path = tmp_path / "odd.png"
    _edited(path, 64, metadata={**_metadata(1.0), "gain_db": 30.0})
    spec, had_metadata = load_png(path, ignore_metadata=True, gain_db=-12.0)
    assert not had_metadata and spec.gain_db == -12.0 and spec.num_samples == 63 * 256


def test_damaged_metadata_values_are_one_line_errors(tmp_path):
    for metadata in ({**_metadata(1.0), "num_samples": -5}, {**_metadata(1.0), "gain_db": "loud"},
                     {**_metadata(1.0), "config": {"n_fft": "big"}}):
        _edited(tmp_path / "bad.png", 64, metadata=metadata)
        with pytest.raises(InputError, match="damaged 'spectrostyle' metadata chunk.*--ignore-metadata"):
            load_png(tmp_path / "bad.png")
        assert load_png(tmp_path / "bad.png", ignore_metadata=True)[0].num_samples == 63 * 256


def test_cli_invert_of_a_widened_png_and_ignore_metadata(tmp_path, capsys):
    source = tmp_path / "note.wav"
    sf.write(source, harmonic_note(seconds=1.0), 16_000)
    assert main(["spectrogram", str(source), "-o", str(tmp_path / "n.png")]) == 0
    image = Image.open(tmp_path / "n.png")
    pixels = np.zeros((512, 128), dtype=np.uint16)
    pixels[:, :64] = np.asarray(image)
    pixels[-40, 64:] = 65535  # drawn on the widened canvas
    info = PngImagePlugin.PngInfo()
    info.add_itxt(METADATA_KEY, image.text[METADATA_KEY])
    Image.fromarray(pixels).save(tmp_path / "wide.png", pnginfo=info)
    capsys.readouterr()
    assert main(["invert", str(tmp_path / "wide.png"), "-o", str(tmp_path / "wide.wav")]) == 0
    assert "widened" in capsys.readouterr().err
    assert sf.info(tmp_path / "wide.wav").frames == 127 * 256
    assert main(["invert", str(tmp_path / "wide.png"), "-o", str(tmp_path / "plain.wav"), "--ignore-metadata",
                 "--gain-db", "-30"]) == 0
    assert "ignoring the metadata" in capsys.readouterr().err
    assert sf.info(tmp_path / "plain.wav").frames == 127 * 256
