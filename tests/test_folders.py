"""Many files and folders in one run: planning, sharing out among processes, skipping, failures."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from spectrostyle.core.errors import InputError
from spectrostyle.folders import Job, my_share, plan_jobs, transfer_files
from spectrostyle.methods.registry import make_options, method_class
from tests.conftest import harmonic_note, requires_shipped


@pytest.fixture
def library(tmp_path):
    """A sample library: two notes in a folder with a sub-folder, a text file, and one note on its own."""
    root = tmp_path / "library"
    (root / "sub").mkdir(parents=True)
    sf.write(root / "a.wav", harmonic_note(262, 1.0), 16_000)
    sf.write(root / "sub" / "b.flac", harmonic_note(330, 0.5), 16_000)
    (root / "notes.txt").write_text("not audio")
    single = tmp_path / "single.wav"
    sf.write(single, harmonic_note(392, 0.75), 16_000)
    return tmp_path, root, single


def test_folders_are_searched_for_audio_and_mirrored(library):
    tmp_path, root, single = library
    jobs = plan_jobs([root, single], tmp_path / "out")
    assert [(j.source.name, j.out.relative_to(tmp_path / "out").as_posix()) for j in jobs] == [
        ("a.wav", "library/a.wav"), ("b.flac", "library/sub/b.flac"), ("single.wav", "single.wav")]


def test_inputs_that_would_write_one_output_or_do_not_exist_are_refused(library, tmp_path):
    _, root, single = library
    other = tmp_path / "elsewhere"
    other.mkdir()
    sf.write(other / "single.ogg", harmonic_note(), 16_000, format="OGG")
    with pytest.raises(InputError, match="would both write"):
        plan_jobs([single, other / "single.ogg"], tmp_path / "out")
    with pytest.raises(InputError, match="no such file or folder: 'nowhere'"):
        plan_jobs(["nowhere"], tmp_path / "out")


def test_each_process_takes_every_nth_job(tmp_path):
    jobs = [Job(tmp_path / f"{i}.wav", tmp_path / "out" / f"{i}.wav") for i in range(7)]
    shares = [my_share(jobs, rank, 3) for rank in range(3)]
    assert sorted(j.source.name for share in shares for j in share) == sorted(j.source.name for j in jobs)
    assert [len(s) for s in shares] == [3, 2, 2]
    assert my_share(jobs) == jobs  # no RANK / WORLD_SIZE: a plain run takes them all
    with pytest.raises(InputError, match="rank 3 is outside a world of 3"):
        my_share(jobs, 3, 3)


@requires_shipped("pix2pix_generator", "flute-keyboard")
def test_a_run_writes_skips_and_reports_failures_and_continues(library):
    tmp_path, root, single = library
    broken = root / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    jobs = plan_jobs([root, single], tmp_path / "out")
    method = method_class("pix2pix")(make_options("pix2pix"))
    summary = transfer_files(jobs, method, progress=False)
    assert [p.name for p, _ in summary.failed] == ["broken.wav"]
    assert len(summary.failed[0][1].splitlines()) == 1
    assert sorted(p.name for p in summary.written) == ["a.wav", "b.flac", "single.wav"]
    out, rate = sf.read(tmp_path / "out" / "library" / "sub" / "b.flac")
    assert rate == 16_000 and len(out) == 8_000 and np.abs(out).max() > 0.01
    assert summary.audio_seconds == pytest.approx(2.25, abs=0.05)
    before = (tmp_path / "out" / "single.wav").stat().st_mtime_ns
    again = transfer_files(jobs, method, progress=False)  # a killed run continues: existing outputs are skipped
    assert len(again.skipped) == 3 and not again.written
    assert (tmp_path / "out" / "single.wav").stat().st_mtime_ns == before
    assert "3 skipped" in again.line()


@requires_shipped("fast_transformer", "keyboard")
def test_files_side_by_side_on_threads_match_one_at_a_time(library):
    import torch

    tmp_path, root, single = library
    (root / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    sf.write(root / "c.wav", harmonic_note(440, 0.6), 16_000)
    method = method_class("fast")(make_options("fast", model="keyboard"))
    threads = torch.get_num_threads()
    summaries = {}
    for workers in (1, 2):
        jobs = plan_jobs([root, single], tmp_path / f"out{workers}")
        summaries[workers] = transfer_files(jobs, method, progress=False, workers=workers)
        assert torch.get_num_threads() == threads  # the workers' one thread does not stay behind
    one, two = summaries[1], summaries[2]
    assert [p.name for p in two.written] == [p.name for p in one.written] == ["a.wav", "c.wav", "b.flac",
                                                                              "single.wav"]
    assert [(p.name, m) for p, m in two.failed] == [(p.name, m) for p, m in one.failed]
    assert [p.name for p, _ in two.failed] == ["broken.wav"]
    assert two.audio_seconds == pytest.approx(one.audio_seconds)
    for written in one.written:
        relative = written.relative_to(tmp_path / "out1")
        a, _ = sf.read(written)
        b, _ = sf.read(tmp_path / "out2" / relative)
        assert a.shape == b.shape
        assert np.abs(a - b).max() < 2e-3  # one torch thread against two: the same but for rounding


@requires_shipped("fast_transformer", "keyboard")
def test_long_files_run_one_at_a_time_after_the_short_ones(library, monkeypatch):
    import threading

    from spectrostyle import folders

    tmp_path, root, single = library
    monkeypatch.setattr(folders, "LONG_SECONDS", 0.9)  # a.wav (1.0 s) counts as long here
    sf.write(root / "c.wav", harmonic_note(440, 0.6), 16_000)
    sf.write(root / "d.wav", harmonic_note(494, 0.6), 16_000)
    seen = []

    def save(result, job):
        job.out.parent.mkdir(parents=True, exist_ok=True)
        sf.write(job.out, result.output, result.output_rate)
        seen.append((job.source.name, threading.current_thread() is threading.main_thread()))

    method = method_class("fast")(make_options("fast", model="keyboard"))
    summary = transfer_files(plan_jobs([root, single], tmp_path / "out"), method, progress=False, workers=2,
                             save=save)
    assert len(summary.written) == 5 and not summary.failed
    assert seen[-1] == ("a.wav", True)  # last, on the main thread, alone
    assert sorted(name for name, _ in seen[:-1]) == ["b.flac", "c.wav", "d.wav", "single.wav"]
    assert not all(main for _, main in seen[:-1])  # the short ones shared out among the workers
