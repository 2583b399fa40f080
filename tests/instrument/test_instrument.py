"""A playable instrument: root keys, tuning, loops without clicks, SFZ and SF2 that a sampler loads, the command."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import soxr

from spectrostyle.core.errors import InputError
from spectrostyle.instrument.keys import (
    detect_root_key,
    key_ranges,
    parse_keys,
    parse_velocities,
    refine_pitch,
    root_key_from_name,
    velocity_ranges,
)
from spectrostyle.instrument.samples import make_playable, seam_jump
from spectrostyle.instrument.sf2 import Zone, read_sample_headers, sf2_bytes
from spectrostyle.instrument.sfz import Region, parse_sfz_regions, sfz_text
from spectrostyle.ui.cli.main import main
from tests.conftest import requires_shipped

RATE = 44_100


def held_tone(midi: float, seconds: float = 3.0, rate: int = RATE, decay_s: float | None = None) -> np.ndarray:
    """A tone at fractional MIDI ``midi``: 20 ms attack, held (or decaying with ``decay_s``), 0.3 s release."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    envelope = np.minimum(t / 0.02, 1.0) * np.clip((seconds - t) / 0.3, 0, 1)
    if decay_s is not None:
        envelope *= np.exp(-t / decay_s)
    return (0.3 * tone * envelope).astype(np.float32)


@pytest.mark.parametrize(("stem", "key"), [("flute_67", 67), ("flute_G4", 67), ("pad-Bb2", 46), ("x_C#4", 61),
                                           ("Cb4", 59), ("note_c-1", 0), ("texture", None), ("x_128", None)])
def test_root_keys_come_from_trailing_numbers_and_note_names(stem, key):
    assert root_key_from_name(stem) == key


def test_keys_split_between_roots_and_velocity_layers():
    assert key_ranges([48, 60, 72]) == [(0, 54), (55, 66), (67, 127)]
    assert velocity_ranges([64, 127]) == [(1, 64), (65, 127)]
    assert parse_keys("36-72", 12) == [36, 48, 60, 72] and parse_keys("36-70", 12)[-1] == 70
    assert parse_velocities("64,127") == [64, 127]
    for bad in ("72-36", "a-b", "60,200"):
        with pytest.raises(InputError, match="keys"):
            parse_keys(bad)
    with pytest.raises(InputError, match="velocities"):
        parse_velocities("127,64")


def test_a_sustained_note_is_tuned_and_looped_without_a_click():
    tone = held_tone(60.3)  # 30 cents sharp
    root, pitch = detect_root_key(tone, RATE)
    assert root == 60 and pitch == pytest.approx(60.3, abs=0.03)
    sample = make_playable(tone[:, None], RATE, root, pitch)
    assert sample.loop is not None
    start, end = sample.loop
    assert (end - start) / RATE >= 0.25
    assert seam_jump(sample.audio, sample.loop) <= 1.0
    assert 100 * (detect_root_key(sample.audio[:, 0], RATE)[1] - 60) == pytest.approx(0.0, abs=5.0)


def test_the_harmonics_pitch_is_trusted_within_the_span_of_pyins_frames():
    tone = held_tone(69.0, rate=22_050)  # 440 Hz
    grid_slip = 440.0 * 2 ** (12.5 / 1200)  # pYIN's median a grid step and more above the note
    # its frames read one step either side of that median: the harmonics' 440 Hz lies within them
    frames = grid_slip * 2 ** (np.repeat([-10.0, 0.0, 10.0], [10, 20, 10]) / 1200)
    assert 100 * (refine_pitch(tone, 22_050, grid_slip, heard_hz=frames) - 69) == pytest.approx(0.0, abs=0.5)
    # frames all on the median: the harmonics, further than a step from it, are not trusted
    steady = np.full(40, grid_slip)
    assert 100 * (refine_pitch(tone, 22_050, grid_slip, heard_hz=steady) - 69) == pytest.approx(12.5, abs=0.01)
    assert 100 * (refine_pitch(tone, 22_050, grid_slip) - 69) == pytest.approx(12.5, abs=0.01)


def test_a_decaying_note_is_a_one_shot():
    sample = make_playable(held_tone(57, decay_s=0.3)[:, None], RATE, 57, 57.0)
    assert sample.loop is None


def test_sfz_and_sf2_hold_what_a_sampler_needs(tmp_path):
    samples = [make_playable(np.stack([held_tone(k), 0.5 * held_tone(k)], axis=1), RATE, k, float(k))
               for k in (60, 67)]
    zones = [Zone(f"tone_{s.root}", s.audio, RATE, s.root, keys, (1, 127), s.loop)
             for s, keys in zip(samples, key_ranges([60, 67]), strict=True)]
    (tmp_path / "t.sfz").write_text(sfz_text("t", [Region(f"samples/{z.name}.flac", z.root, z.keys, z.velocities,
                                                           z.loop) for z in zones]))
    regions = parse_sfz_regions(tmp_path / "t.sfz")
    assert [(r["pitch_keycenter"], r["lokey"], r["hikey"]) for r in regions] == [("60", "0", "63"),
                                                                                ("67", "64", "127")]
    assert all(r["loop_mode"] == "loop_continuous" and int(r["loop_end"]) > int(r["loop_start"]) for r in regions)
    path = tmp_path / "t.sf2"
    path.write_bytes(sf2_bytes("t", zones))
    headers = read_sample_headers(path)
    assert [(h["name"], h["root"], h["type"]) for h in headers] == [("tone_60L", 60, 4), ("tone_60R", 60, 2),
                                                                   ("tone_67L", 67, 4), ("tone_67R", 67, 2)]
    assert headers[0]["loop_start"] - headers[0]["start"] == samples[0].loop[0]
    from spectrostyle.data.render import NoteRenderer

    with NoteRenderer(path, sample_rate=RATE, gain=1.0) as renderer:  # FluidSynth loads it and plays every key
        for key in (55, 60, 62, 64, 67, 70, 76):
            audio = renderer.render(0, key, 100, duration=1.5, hold=1.2)
            assert np.abs(audio).max() > 1e-3
            assert 100 * (detect_root_key(audio, RATE)[1] - key) == pytest.approx(0.0, abs=25.0)


@requires_shipped("pix2pix_generator", "flute-keyboard")
def test_the_command_builds_an_instrument_from_a_folder_and_plays_a_midi_file(tmp_path, capsys):
    import mido

    folder = tmp_path / "samples"
    folder.mkdir()
    sf.write(folder / "tone_C4.wav", held_tone(60), RATE, subtype="PCM_24")
    sf.write(folder / "tone.wav", soxr.resample(held_tone(67), RATE, 48_000), 48_000)  # its root from its pitch
    midi = mido.MidiFile()
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for key in (60, 64, 67):
        track += [mido.Message("note_on", note=key, velocity=100, time=0),
                  mido.Message("note_off", note=key, velocity=0, time=240)]
    midi.save(tmp_path / "tune.mid")
    out = tmp_path / "built"
    args = ["instrument", "--content", str(folder), "--method", "pix2pix", "--out", str(out), "--name", "tones",
            "--midi", str(tmp_path / "tune.mid"), "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "2 samples" in printed and "none silent" in printed
    for name in ("tones.sfz", "tones.sf2", "index.html", "tones-demo.wav", "samples/tones_C4_v127.flac",
                 "samples/tones_G4_v127.flac"):
        assert (out / name).is_file(), name
    assert sf.info(out / "samples/tones_G4_v127.flac").samplerate == 48_000
    demo, rate = sf.read(out / "tones-demo.wav")
    assert rate == RATE and demo.shape[1] == 2 and np.abs(demo).max() > 0.5
    assert main(args) == 2  # the instrument exists: refused without --overwrite
    assert "pass --overwrite" in capsys.readouterr().err
