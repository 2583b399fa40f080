"""Nothing lost, nothing leaked: existing outputs refused unless --overwrite (and their mode kept), all of a
command's outputs or none, output locations checked before the work, signals treated as Ctrl-C from the first
moment, sounds of any length, the help naming every default model, the web app's API taking every method's models."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import spectrostyle.core.png
import spectrostyle.pipeline  # noqa: F401 - imported before any test patches what it imports
from spectrostyle.ui.cli.main import main
from tests.conftest import harmonic_note

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def wav(tmp_path) -> Path:
    path = tmp_path / "in.wav"
    sf.write(path, harmonic_note(seconds=1.0), 16_000)
    return path


def _no_work(*args, **kwargs):
    raise AssertionError("the work started before the outputs were checked")


def _one_line_error(capsys, status: int, expected: str) -> None:
    err = capsys.readouterr().err
    assert status == 2, err
    assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ------------------------------------------------------------------------------------ existing outputs, modes


@pytest.mark.parametrize("command", ["spectrogram", "invert", "transfer"])
def test_an_existing_output_is_refused_before_any_work_unless_overwrite(tmp_path, wav, capsys, monkeypatch,
                                                                       command):
    assert main(["spectrogram", str(wav), "-o", str(tmp_path / "in.png")]) == 0
    source, out = {"spectrogram": (wav, tmp_path / "out.png"), "invert": (tmp_path / "in.png", tmp_path / "out.wav"),
                   "transfer": (wav, tmp_path / "out.wav")}[command]
    extra = ["--method", "pix2pix", "--quiet"] if command == "transfer" else []
    out.write_bytes(b"keep me")
    out.chmod(0o640)
    capsys.readouterr()
    with monkeypatch.context() as patch:
        patch.setattr("spectrostyle.core.audio.load_audio", _no_work)
        patch.setattr("spectrostyle.core.png.load_png", _no_work)
        patch.setattr("spectrostyle.pipeline.transfer", _no_work)
        _one_line_error(capsys, main([command, str(source), "-o", str(out), *extra]), "pass --overwrite")
    assert out.read_bytes() == b"keep me"
    assert main([command, str(source), "-o", str(out), *extra, "--overwrite"]) == 0
    assert out.read_bytes() != b"keep me" and out.stat().st_mode & 0o777 == 0o640


def test_transfer_refuses_an_existing_png_or_json_and_writes_nothing(tmp_path, wav, capsys):
    (tmp_path / "o.json").write_text("{}")
    _one_line_error(capsys, main(["transfer", str(wav), "--method", "pix2pix", "-o", str(tmp_path / "o.wav"),
                                  "--png", str(tmp_path / "o.png"), "--json", str(tmp_path / "o.json"), "--quiet"]),
                    "o.json' exists")
    assert sorted(os.listdir(tmp_path)) == ["in.wav", "o.json"]


# --------------------------------------------------------------------------------------- all outputs or none


def test_ctrl_c_while_the_png_is_written_leaves_no_output(tmp_path, wav, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("spectrostyle.pipeline.comparison_png", interrupted)
    status = main(["transfer", str(wav), "--method", "pix2pix", "-o", str(tmp_path / "o.wav"), "--png",
                   str(tmp_path / "o.png"), "--json", str(tmp_path / "o.json"), "--quiet"])
    assert status == 130 and "interrupted" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["in.wav"]  # the WAV was not renamed into place before the PNG


# ------------------------------------------------------------------------------ output locations before work


@pytest.mark.parametrize("which", ["out", "png", "json"])
def test_an_unwritable_output_location_is_one_line_before_the_work_and_nothing_is_written(tmp_path, wav, capsys,
                                                                                          monkeypatch, which):
    (tmp_path / "file.txt").write_text("x")
    paths = {name: tmp_path / f"o.{suffix}" for name, suffix in (("out", "wav"), ("png", "png"), ("json", "json"))}
    paths[which] = tmp_path / "file.txt" / paths[which].name
    monkeypatch.setattr("spectrostyle.pipeline.transfer", _no_work)
    status = main(["transfer", str(wav), "--method", "pix2pix", "-o", str(paths["out"]), "--png", str(paths["png"]),
                   "--json", str(paths["json"]), "--quiet"])
    _one_line_error(capsys, status, "is not a folder")
    assert sorted(os.listdir(tmp_path)) == ["file.txt", "in.wav"]


@pytest.mark.parametrize("command", ["spectrogram", "invert"])
def test_spectrogram_and_invert_check_their_output_before_the_work(tmp_path, wav, capsys, monkeypatch, command):
    assert main(["spectrogram", str(wav), "-o", str(tmp_path / "in.png")]) == 0
    (tmp_path / "file.txt").write_text("x")
    monkeypatch.setattr("spectrostyle.core.audio.load_audio", _no_work)
    monkeypatch.setattr("spectrostyle.core.png.load_png", _no_work)
    source, name = (wav, "x.png") if command == "spectrogram" else (tmp_path / "in.png", "x.wav")
    capsys.readouterr()
    _one_line_error(capsys, main([command, str(source), "-o", str(tmp_path / "file.txt" / name)]), "is not a folder")


# ------------------------------------------------------------------------------------------------ signals


# as from a terminal, whatever this test process inherited (a background job ignores SIGINT, nohup SIGHUP)
TERMINAL_SIGNALS = textwrap.dedent("""
    import signal
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
""")


SLOW_WRITE = TERMINAL_SIGNALS + textwrap.dedent("""
    import sys, time
    from PIL import Image

    def slow(image, path, *args, **kwargs):  # the PNG's write, slowed down: a signal arrives meanwhile
        with open(path, "wb") as handle:
            handle.write(b"partial")
        print("writing", flush=True)
        time.sleep(60)

    Image.Image.save = slow
    from spectrostyle.ui.cli.main import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_a_signal_during_the_write_removes_the_temporary_file(tmp_path, wav, signum, status):
    out = tmp_path / "out.png"
    process = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, "spectrogram", str(wav), "-o", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert process.stdout.readline().strip() == "writing"
        assert any(name.startswith(".out.png.") for name in os.listdir(tmp_path))
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == status, err
    assert "interrupted" in err and "Traceback" not in err
    assert os.listdir(tmp_path) == ["in.wav"]


def test_temporary_files_left_by_a_killed_run_are_cleared_by_the_next(tmp_path, wav):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a process that no longer exists
    stale = tmp_path / f".out.png.{child.pid}.k1ll3d00.tmp.png"
    stale.write_bytes(b"partial")
    foreign = tmp_path / ".out.png.k1ll3d00.tmp.png"  # not ours (no process id): left alone
    foreign.write_bytes(b"x")
    assert main(["spectrogram", str(wav), "-o", str(tmp_path / "out.png")]) == 0
    assert sorted(os.listdir(tmp_path)) == sorted([foreign.name, "in.wav", "out.png"])


CTRL_C_AT_IMPORT = TERMINAL_SIGNALS + textwrap.dedent("""
    import builtins, os, signal, sys
    real_import = builtins.__import__

    def import_then_ctrl_c(name, *args, **kwargs):
        if name == "torch" and not getattr(builtins, "_pressed", False):
            builtins._pressed = True
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the first second: while torch is imported
        return real_import(name, *args, **kwargs)

    builtins.__import__ = import_then_ctrl_c
    from spectrostyle.ui.cli.main import main  # what the console script does
    sys.exit(main(sys.argv[1:]))
""")


def test_ctrl_c_during_the_imports_is_one_line_and_status_130(tmp_path, wav):
    completed = subprocess.run([sys.executable, "-c", CTRL_C_AT_IMPORT, "spectrogram", str(wav), "-o",
                                str(tmp_path / "o.png")], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert completed.returncode == 130, completed.stderr
    assert completed.stderr.strip() == "spectrostyle: interrupted"
    assert not (tmp_path / "o.png").exists()


# ------------------------------------------------------------------------------------------ odd arguments


@pytest.mark.parametrize("command", ["spectrogram", "transfer"])
@pytest.mark.parametrize("value", ["-1", "0"])
def test_a_length_limit_must_be_positive(tmp_path, wav, capsys, command, value):
    extra = ["--method", "pix2pix"] if command == "transfer" else []
    out = tmp_path / ("o.png" if command == "spectrogram" else "o.wav")
    status = main([command, str(wav), "-o", str(out), "--max-seconds", value, *extra])
    err = capsys.readouterr().err
    assert status == 2 and "Invalid value for '--max-seconds'" in err and "x>0" in err
    assert not out.exists()


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
@pytest.mark.parametrize("command", ["spectrogram", "classify", "invert"])
def test_a_device_file_is_not_a_regular_file(tmp_path, capsys, device, command):
    args = [command, device] + ([] if command == "classify" else
                                ["-o", str(tmp_path / ("o.png" if command == "spectrogram" else "o.wav"))])
    _one_line_error(capsys, main(args), "is not a regular file")


# ----------------------------------------------------------------------------------------------- lengths


@pytest.mark.parametrize("samples", [1, 100, 1600, 3999])
def test_every_command_takes_a_sound_down_to_one_sample(tmp_path, capsys, samples):
    path = tmp_path / "short.wav"
    sf.write(path, (0.5 * np.sin(np.arange(samples) * 0.3) + 0.25).astype(np.float32), 16_000)
    assert main(["classify", str(path)]) == 0
    assert capsys.readouterr().out.startswith(str(path))
    assert main(["spectrogram", str(path), "-o", str(tmp_path / "s.png")]) == 0
    assert main(["invert", str(tmp_path / "s.png"), "-o", str(tmp_path / "s.wav")]) == 0
    assert sf.info(tmp_path / "s.wav").frames == samples
    assert main(["transfer", str(path), "--method", "fast", "-o", str(tmp_path / "t.wav"), "--quiet"]) == 0
    assert sf.info(tmp_path / "t.wav").frames == samples


def test_one_sample_at_another_rate_stays_one_sample(tmp_path, capsys):
    path = tmp_path / "one.wav"
    sf.write(path, np.array([0.5], np.float32), 44_100)  # less than one sample at 16 kHz
    assert main(["classify", str(path)]) == 0
    assert main(["spectrogram", str(path), "-o", str(tmp_path / "one.png")]) == 0
    assert main(["invert", str(tmp_path / "one.png"), "-o", str(tmp_path / "back.wav")]) == 0
    assert sf.info(tmp_path / "back.wav").frames == 1


# ------------------------------------------------------------------------------------- help and the web app


def test_transfer_help_names_the_default_model_of_every_method():
    from spectrostyle.ui.cli.transfer import transfer_cmd

    option = next(p for p in transfer_cmd.params if p.name == "model")
    assert "[fast]" in option.help and "(default 'keyboard')" in option.help
    assert "(default 'default')" in option.help and "(default 'flute-keyboard')" in option.help
    completed = subprocess.run([sys.executable, "-m", "spectrostyle", "transfer", "--help"], capture_output=True,
                               text=True, timeout=120, cwd=REPO)
    assert "(default 'keyboard')" in " ".join(completed.stdout.split())


def test_the_web_apps_api_takes_every_usable_methods_models(tmp_path):
    import gradio as gr

    from spectrostyle.ui.app import Handlers, build_app
    from spectrostyle.ui.app_blend import Limits, model_choices, usable_methods

    demo = build_app(out_dir=tmp_path)
    dropdown = next(b for b in demo.blocks.values() if isinstance(b, gr.Dropdown) and b.elem_id == "model")
    handlers = Handlers(Limits(), 1, tmp_path)
    content = str(handlers.examples[0].path)
    for spec in usable_methods():
        for _, name in model_choices(spec):
            assert dropdown.preprocess(name) == name  # the API does not refuse it
    if "fast" in handlers.by_name:
        wav, *_ = handlers.on_blend(content, content, "fast", model=dropdown.preprocess("keyboard"))
        assert sf.info(wav).frames > 0
        with pytest.raises(gr.Error, match="no shipped fast_transformer model named 'nonesuch'"):
            handlers.on_blend(content, content, "fast", model=dropdown.preprocess("nonesuch"))
