from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spectrostyle.core.audio import load_audio, save_audio
from spectrostyle.core.errors import InputError
from tests.conftest import harmonic_note


@pytest.mark.parametrize(("fmt", "subtype", "suffix"), [
    ("WAV", "PCM_16", ".wav"), ("WAV", "PCM_24", ".wav"), ("WAV", "FLOAT", ".wav"), ("WAV", "PCM_U8", ".wav"),
    ("FLAC", "PCM_16", ".flac"), ("OGG", "VORBIS", ".ogg"), ("MP3", "MPEG_LAYER_III", ".mp3")])
def test_loads_every_format_as_mono_float32_at_16k(tmp_path, fmt, subtype, suffix):
    rate = 44_100
    stereo = np.stack([harmonic_note(440, 1.0, rate), harmonic_note(440, 1.0, rate)], axis=1)
    path = tmp_path / f"x{suffix}"
    sf.write(path, stereo, rate, format=fmt, subtype=subtype)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    # MP3 encoders add a little padding at the ends: allow 50 ms
    assert abs(len(audio) - 16_000) <= (800 if fmt == "MP3" else 2)
    spectrum = np.abs(np.fft.rfft(audio[2000:14000] * np.hanning(12000)))
    peak_hz = np.argmax(spectrum) * 16_000 / 12000
    assert abs(peak_hz - 440) < 5


def test_channels_are_averaged(tmp_path):
    left = harmonic_note(300, 0.5, 16_000)
    path = tmp_path / "lr.wav"
    sf.write(path, np.stack([left, -left], axis=1), 16_000, subtype="FLOAT")
    with pytest.raises(InputError, match="silent"):
        load_audio(path)  # opposite channels cancel to silence
    sf.write(path, np.stack([left, np.zeros_like(left)], axis=1), 16_000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), left / 2, atol=1e-6)


def test_resampler_rejects_content_above_the_new_nyquist(tmp_path):
    """A 10 kHz tone at 44.1 kHz must vanish at 16 kHz; linear interpolation would alias it to 6 kHz."""
    rate = 44_100
    t = np.arange(rate) / rate
    path = tmp_path / "hi.wav"
    sf.write(path, (0.5 * np.sin(2 * np.pi * 10_000 * t)).astype(np.float32), rate, subtype="FLOAT")
    audio = load_audio(path)
    assert np.sqrt(np.mean(audio[1000:-1000] ** 2)) < 0.5 / np.sqrt(2) * 1e-3  # below -60 dB
    load_audio(path, sample_rate=rate)  # no resampling when rates agree


def test_other_sample_rate(tmp_path, note):
    path = tmp_path / "n.wav"
    sf.write(path, note, 16_000)
    assert len(load_audio(path, sample_rate=22_050)) == pytest.approx(len(note) * 22_050 / 16_000, abs=2)


def _truncated_wav(tmp_path, note):
    path = tmp_path / "cut.wav"
    sf.write(path, note, 16_000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _zero_length_wav(tmp_path, note):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16_000)
    return path


def _float_wav_with(value):
    def make(tmp_path, note):
        path = tmp_path / "bad.wav"
        bad = note.copy()
        bad[100] = value
        sf.write(path, bad, 16_000, subtype="FLOAT")
        return path
    return make


def _silent_wav(tmp_path, note):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros(16_000, dtype=np.float32), 16_000)
    return path


def _text_file(tmp_path, note):
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n" * 50)
    return path


def _empty_file(tmp_path, note):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp_path, note: tmp_path / "missing.wav", "no such file"),
    (lambda tmp_path, note: tmp_path, "is a directory"),
    (_text_file, "not a readable audio file"),
    (_empty_file, "empty"),
    (_truncated_wav, "truncated"),
    (_zero_length_wav, "zero length"),
    (_silent_wav, "silent"),
    (_float_wav_with(np.nan), "NaN or infinite"),
    (_float_wav_with(np.inf), "NaN or infinite"),
])
def test_bad_input_gets_a_one_line_message(tmp_path, note, make, message):
    with pytest.raises(InputError, match=message) as caught:
        load_audio(make(tmp_path, note))
    assert "\n" not in str(caught.value)


def test_length_limit(note_wav):
    with pytest.raises(InputError, match=r"4\.0 s long, over the limit of 3 s"):
        load_audio(note_wav, max_seconds=3)
    assert len(load_audio(note_wav, max_seconds=5)) == 64_000


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(min_size=0, max_size=4096), header=st.sampled_from([b"", b"RIFF", b"fLaC", b"OggS",
                                                                              b"ID3", b"RIFF\x10\x00\x00\x00WAVE"]))
def test_random_bytes_give_audio_or_input_error(tmp_path, payload, header):
    path = tmp_path / "random.bin"
    path.write_bytes(header + payload)
    try:
        audio = load_audio(path)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert audio.dtype == np.float32 and audio.ndim == 1 and np.isfinite(audio).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.integers(1, 3000), channels=st.integers(1, 6), rate=st.sampled_from([8000, 11025, 22050,
                                                                                       44100, 48000, 96000]),
       seed=st.integers(0, 2**16))
def test_odd_shapes_and_rates(tmp_path, frames, channels, rate, seed):
    data = np.random.default_rng(seed).uniform(-1, 1, size=(frames, channels)).astype(np.float32)
    path = tmp_path / "odd.wav"
    sf.write(path, data, rate, subtype="FLOAT")
    try:
        audio = load_audio(path)
    except InputError as exc:
        assert "silent" in str(exc)  # averaging channels of short noise can cancel; nothing else may fail
        return
    assert audio.ndim == 1 and audio.dtype == np.float32 and np.isfinite(audio).all()
    assert abs(len(audio) - frames * 16_000 / rate) <= 1


@pytest.mark.parametrize(("subtype", "sf_subtype"), [("pcm16", "PCM_16"), ("float", "FLOAT")])
def test_save_roundtrip_and_no_temp_files_left(tmp_path, note, subtype, sf_subtype):
    path = save_audio(tmp_path / "out.wav", note, subtype=subtype)
    assert sf.info(path).subtype == sf_subtype
    back, rate = sf.read(path, dtype="float32")
    assert rate == 16_000
    np.testing.assert_allclose(back, note, atol=1 / 32768 if subtype == "pcm16" else 0)
    assert os.listdir(tmp_path) == ["out.wav"]


def test_save_refuses_to_overwrite_an_input(note_wav, note):
    before = note_wav.read_bytes()
    with pytest.raises(InputError, match="also an input"):
        save_audio(note_wav, note * 0.1, inputs=[note_wav])
    assert note_wav.read_bytes() == before


def test_interrupted_save_leaves_old_file_and_no_temp(tmp_path, note, monkeypatch):
    target = save_audio(tmp_path / "keep.wav", note)
    before = target.read_bytes()

    def broken_write(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sf, "write", broken_write)
    with pytest.raises(KeyboardInterrupt):
        save_audio(target, note * 0.5)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["keep.wav"]


def test_save_rejects_bad_audio_and_paths(tmp_path, note):
    with pytest.raises(InputError, match="NaN"):
        save_audio(tmp_path / "x.wav", np.full(10, np.nan))
    with pytest.raises(InputError, match="does not exist"):
        save_audio(tmp_path / "nope" / "x.wav", note)
    with pytest.raises(InputError, match="is a directory"):
        save_audio(tmp_path, note)
    with pytest.raises(InputError, match="subtype"):
        save_audio(tmp_path / "x.wav", note, subtype="pcm12")


def test_pcm16_save_clips(tmp_path):
    path = save_audio(tmp_path / "loud.wav", np.array([2.0, -3.0, 0.5], dtype=np.float32))
    back, _ = sf.read(path)
    assert back.max() <= 1.0 and back.min() >= -1.0


def test_saved_files_get_the_usual_permissions(tmp_path, note):
    umask = os.umask(0o022)
    try:
        path = save_audio(tmp_path / "perm.wav", note)
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644
