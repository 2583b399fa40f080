"""Note selections for training: the GANs' domains, their held-out pitches and pix2pix's pairs by pitch and
velocity, on synthetic notes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from spectrostyle.core.errors import InputError
from spectrostyle.data.selection import DomainSelection, held_out_pitches, load_domain_notes
from tests.feedforward_helpers import TINY, gan_dataset, note_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return gan_dataset(tmp_path_factory.mktemp("gan-data") / "data")


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


def test_recordings_are_cut_into_note_long_pieces_and_silence_left_out(tmp_path):
    import numpy as np
    import soundfile as sf

    from spectrostyle.data.selection import recording_pieces

    rate = TINY.sample_rate
    folder = tmp_path / "recordings"
    (folder / "sub").mkdir(parents=True)
    t = np.arange(int(6.5 * rate)) / rate
    melody = 0.3 * np.sin(2 * np.pi * (220 + 110 * (t > 3)) * t)
    melody[int(5.5 * rate):] = 0.0  # its last second is silent: a piece there holds nothing
    sf.write(folder / "melody.wav", np.stack([melody, melody], axis=1), rate)  # stereo: mixed to mono
    sf.write(folder / "sub" / "short.flac", 0.2 * np.sin(2 * np.pi * 330 * t[: rate // 10]), rate)  # padded
    (folder / "notes.txt").write_text("not audio")
    frames = 64
    images, names = recording_pieces([folder], TINY, frames, hop_s=1.0)
    length_s = (frames - 1) * TINY.hop_length / rate
    starts = [s for s in range(0, 7) if s + length_s <= 6.5 + 1e-9 or s == 0]
    kept = [s for s in starts if s < 5.5]  # a piece wholly in the silence is left out
    assert names == [f"melody@{s:g}s" for s in kept] + ["short@0s"]
    assert images.shape == (len(names), 1, TINY.n_freq, frames) and images.dtype == torch.float16
    assert float(images.max()) == pytest.approx(1.0, abs=1e-3)  # each piece at its own gain, like a note
    assert float(images[-1, 0, :, -5:].max()) < 0.05  # the short one padded with silence
    with pytest.raises(InputError, match="no audio files"):
        recording_pieces([tmp_path / "recordings" / "sub" / "nothing"], TINY, frames)
