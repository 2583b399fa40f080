"""Rendering NSynth-style notes and datasets from a GM SoundFont with FluidSynth."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from spectrostyle.core.errors import InputError
from spectrostyle.core.vocabulary import FAMILIES, SOURCES
from spectrostyle.data import render
from spectrostyle.data.programs import GM_PROGRAMS, PROGRAMS_BY_NUMBER, family_programs
from spectrostyle.data.render import NoteRenderer, default_soundfont, plan_notes, render_dataset, render_note

FLUTE, PIANO, CLEAN_GUITAR = 73, 0, 27
NSYNTH_FIELDS = {"note", "note_str", "instrument", "instrument_str", "instrument_family",
                 "instrument_family_str", "instrument_source", "instrument_source_str", "pitch", "velocity",
                 "sample_rate", "qualities", "qualities_str"}


@pytest.fixture(scope="module")
def soundfont():
    try:
        return default_soundfont()
    except InputError as exc:
        pytest.skip(f"no GM SoundFont: {exc}")


@pytest.fixture(scope="module")
def renderer(soundfont):
    with NoteRenderer(soundfont) as r:
        yield r


@pytest.fixture(scope="module")
def flute_a4(renderer) -> np.ndarray:
    return renderer.render(FLUTE, 69, 100)


def test_gm_table_is_consistent():
    programs = [p.program for p in GM_PROGRAMS]
    assert len(programs) == len(set(programs))
    assert 47 not in programs  # timpani is not a string instrument
    groups = {"keyboard": range(0, 8), "mallet": range(8, 16), "organ": range(16, 24), "guitar": range(24, 32),
              "bass": range(32, 40), "string": [*range(40, 47), *range(48, 52)], "vocal": range(52, 55),
              "brass": range(56, 64), "reed": range(64, 72), "flute": range(72, 80),
              "synth_lead": range(80, 88)}
    assert set(groups) == set(FAMILIES)
    for family, group in groups.items():
        entries = family_programs(family)
        assert len(entries) >= 3
        assert all(p.program in group and p.family == family for p in entries)
        assert all(0 <= p.low < p.high <= 127 and p.source in SOURCES for p in entries)
    names = [p.instrument_str for p in GM_PROGRAMS]
    assert len(names) == len(set(names))
    piccolo = PROGRAMS_BY_NUMBER[72]
    assert (piccolo.low, piccolo.high, piccolo.instrument_str) == (74, 108, "flute_acoustic_000")


def test_plan_respects_ranges_and_order():
    plan = plan_notes(families=["reed", "flute"], pitches=(50, 80), pitch_step=2, velocities=(127, 50),
                      programs_per_family=2)
    assert [gm.family for gm, _, _ in plan][0] == "flute"  # NSynth family order, not the order given
    assert {gm.program for gm, _, _ in plan} == {73, 72, 65, 71}
    assert all(gm.low <= pitch <= gm.high and pitch % 2 == 0 for gm, pitch, _ in plan)
    assert [v for gm, p, v in plan if gm.program == 73 and p == 60] == [50, 127]
    assert plan == plan_notes(families=["flute", "reed"], pitches=(50, 80), pitch_step=2, velocities=(50, 127),
                              programs_per_family=2)


def test_plan_keeps_only_the_programs_asked_for():
    grid = {"families": ["reed", "flute"], "pitches": (60, 84), "pitch_step": 12, "velocities": (100,)}
    plan = plan_notes(**grid, programs=(74, 65, 79))
    assert {gm.program for gm, _, _ in plan} == {74, 65, 79}
    assert plan == [n for n in plan_notes(**grid) if n[0].program in {74, 65, 79}]  # same notes, same order
    # programs_per_family counts after the filter
    assert {gm.program for gm, _, _ in plan_notes(**grid, programs=(74, 79, 65), programs_per_family=1)} == {74, 65}


@pytest.mark.parametrize("kwargs, message", [
    ({"families": ["flute", "kazoo"]}, "valid: bass, brass"),
    ({"pitches": (70, 60)}, "empty"),
    ({"pitches": (0, 128)}, "0..127"),
    ({"pitches": (60,)}, "(low, high)"),
    ({"pitch_step": 0}, "pitch step"),
    ({"velocities": (0,)}, "velocity"),
    ({"velocities": ()}, "no velocities"),
    ({"programs_per_family": 0}, "programs per family"),
    ({"programs": (128,)}, "GM program must be an integer in 0..127"),
    ({"programs": ()}, "no GM programs"),
    ({"families": ["flute"], "programs": (73, 0, 1)}, "GM programs 0, 1 are not in the families flute"),
])
def test_plan_rejects_bad_arguments(kwargs, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_notes(**kwargs)


def test_default_soundfont_env_and_missing(monkeypatch, tmp_path):
    fake = tmp_path / "my.sf2"
    fake.write_bytes(b"RIFF")
    monkeypatch.setenv(render.SOUNDFONT_ENV, str(fake))
    assert default_soundfont() == fake
    monkeypatch.setenv(render.SOUNDFONT_ENV, str(tmp_path / "absent.sf2"))
    with pytest.raises(InputError, match="not a file"):
        default_soundfont()
    monkeypatch.delenv(render.SOUNDFONT_ENV)
    monkeypatch.setattr(render, "SOUNDFONT_DIR", tmp_path / "none")
    with pytest.raises(InputError, match="fluid-soundfont-gm.*--soundfont"):
        default_soundfont()


def test_not_a_soundfont(tmp_path):
    bogus = tmp_path / "bogus.sf2"
    bogus.write_bytes(b"not a soundfont")
    with pytest.raises(InputError, match="could not load"):
        NoteRenderer(bogus)
    with pytest.raises(InputError, match="does not exist"):
        NoteRenderer(tmp_path / "absent.sf2")


def test_note_layout(flute_a4):
    assert flute_a4.dtype == np.float32 and flute_a4.shape == (64_000,)
    peak = float(np.abs(flute_a4).max())
    assert 0.05 < peak <= 1.0
    rms = lambda x: float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))  # noqa: E731
    held = rms(flute_a4[8_000:48_000])
    assert rms(flute_a4[-8_000:]) < 0.05 * held  # the last 0.5 s (released) is far quieter
    assert rms(flute_a4[48_000 - 3_200:48_000]) > 0.3 * held  # still sounding just before the release


def test_pitch_of_flute_a4(flute_a4):
    segment = flute_a4[8_000:40_000].astype(np.float64)
    n = 1 << 17
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(segment.size), n))
    freqs = np.fft.rfftfreq(n, 1 / 16_000)
    band = np.nonzero((freqs > 311) & (freqs < 622))[0]  # a fifth either side of A4
    k = band[np.argmax(spectrum[band])]
    a, b, c = np.log(spectrum[k - 1:k + 2])
    peak_hz = (k + 0.5 * (a - c) / (a - 2 * b + c)) * 16_000 / n
    assert abs(1200 * math.log2(peak_hz / 440.0)) < 30


def test_render_is_deterministic(renderer, flute_a4, soundfont):
    again = renderer.render(FLUTE, 69, 100)
    assert np.array_equal(again, flute_a4)
    renderer.render(PIANO, 40, 127)  # a different note in between changes nothing
    renderer.render(48, 60, 25)
    assert np.array_equal(renderer.render(FLUTE, 69, 100), flute_a4)
    assert np.array_equal(render_note(FLUTE, 69, 100, soundfont=soundfont), flute_a4)  # fresh synth


def test_reverb_and_chorus_are_off(renderer):
    assert renderer._synth.get_setting("synth.reverb.active") == 0
    assert renderer._synth.get_setting("synth.chorus.active") == 0


def test_loud_notes_do_not_clip(renderer):
    for program, pitch in ((CLEAN_GUITAR, 40), (61, 60), (39, 30)):  # the loudest notes of FluidR3_GM
        peak = float(np.abs(renderer.render(program, pitch, 127)).max())
        assert 0.1 < peak < 0.95


def test_other_rate_and_length(renderer, soundfont):
    audio = render_note(PIANO, 60, 100, soundfont=soundfont, sample_rate=22_050, duration=1.0, hold=0.5)
    assert audio.shape == (22_050,) and np.abs(audio).max() > 0.01
    with pytest.raises(InputError, match="hold"):
        renderer.render(PIANO, 60, 100, duration=1.0, hold=2.0)
    with pytest.raises(InputError, match="MIDI pitch"):
        renderer.render(PIANO, 128, 100)


def test_render_dataset_writes_nsynth_layout_and_resumes(tmp_path, soundfont):
    out = tmp_path / "set"
    kwargs = dict(soundfont=soundfont, families=["keyboard", "flute"], pitches=(60, 62), pitch_step=2,
                  velocities=(100,), programs_per_family=1, progress=False)
    summary = render_dataset(out, **kwargs)
    assert (summary.total, summary.rendered, summary.skipped, summary.silent) == (4, 4, 0, [])
    names = {"flute_acoustic_001-060-100", "flute_acoustic_001-062-100", "keyboard_acoustic_000-060-100",
             "keyboard_acoustic_000-062-100"}
    assert {p.stem for p in (out / "audio").glob("*.wav")} == names
    entries = json.loads((out / "examples.json").read_text())
    assert set(entries) == names
    entry = entries["flute_acoustic_001-062-100"]
    assert NSYNTH_FIELDS | {"gm_program"} == set(entry)
    assert entry | {"note": 0} == {
        "note": 0, "note_str": "flute_acoustic_001-062-100", "instrument": 73,
        "instrument_str": "flute_acoustic_001", "instrument_family": 2, "instrument_family_str": "flute",
        "instrument_source": 0, "instrument_source_str": "acoustic", "pitch": 62, "velocity": 100,
        "sample_rate": 16_000, "qualities": [0] * 10, "qualities_str": [], "gm_program": 73}
    assert len({e["note"] for e in entries.values()}) == 4
    info = sf.info(str(out / "audio" / "keyboard_acoustic_000-060-100.wav"))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (16_000, 1, 64_000, "PCM_16")

    mtimes = {p.name: p.stat().st_mtime_ns for p in out.rglob("*.wav")}
    again = render_dataset(out, **kwargs)
    assert (again.rendered, again.skipped) == (0, 4)
    assert {p.name: p.stat().st_mtime_ns for p in out.rglob("*.wav")} == mtimes

    (out / "audio" / "flute_acoustic_001-060-100.wav").unlink()
    more = render_dataset(out, **{**kwargs, "pitches": (60, 64)})  # one missing note and pitch 64 are new
    assert (more.total, more.rendered, more.skipped) == (6, 3, 3)
    merged = json.loads((out / "examples.json").read_text())
    assert set(merged) == names | {"flute_acoustic_001-064-100", "keyboard_acoustic_000-064-100"}
    assert "rendered" in str(more)


def test_render_dataset_skips_silent_notes_and_checks_arguments(tmp_path, soundfont, monkeypatch):
    with pytest.raises(InputError, match="kazoo.*valid: bass"):
        render_dataset(tmp_path / "a", soundfont=soundfont, families=["kazoo"], progress=False)
    assert not (tmp_path / "a").exists()
    with pytest.raises(InputError, match="empty"):
        render_dataset(tmp_path / "a", soundfont=soundfont, pitches=(80, 70), progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        render_dataset(tmp_path / "file", soundfont=soundfont, families=["flute"], progress=False)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "examples.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        render_dataset(bad, soundfont=soundfont, families=["flute"], progress=False)

    monkeypatch.setattr(NoteRenderer, "render", lambda self, *a, **k: np.zeros(64_000, np.float32))
    summary = render_dataset(tmp_path / "quiet", soundfont=soundfont, families=["flute"], pitches=(60, 60),
                             velocities=(50,), programs_per_family=1, progress=False)
    assert summary.rendered == 0 and summary.silent == ["flute_acoustic_001-060-050"]
    assert not list((tmp_path / "quiet" / "audio").iterdir())
    assert json.loads((tmp_path / "quiet" / "examples.json").read_text()) == {}
