"""Every `spectrostyle train` command refuses bad input alike: exit status 2, the error on one line, no traceback,
and no run folder written."""

from __future__ import annotations

import pytest

from spectrostyle.ui.cli.main import main

# each command with the options it requires besides --data and --out ({note}: a sound file)
TRAIN_COMMANDS = {
    "classifier": [],
    "fast": ["--style", "{note}"],
    "adain": [],
    "cyclegan": ["--domain-a", "flute", "--domain-b", "keyboard"],
    "pix2pix": ["--domain-a", "flute", "--domain-b", "keyboard"],
}

# (name, --data, arguments after the command's own, the error's text); {tmp}: a folder that holds no dataset
ERRORS = [
    ("missing-data-folder", "{tmp}/nothing", [], "dataset folder '{tmp}/nothing' does not exist"),
    ("batch-size-0", "{tmp}", ["--batch-size", "0"], "Invalid value for '--batch-size'"),
    ("unknown-precision", "{tmp}", ["--precision", "fp16"], "'fp16' is not one of 'fp32', 'bf16'"),
    ("unknown-option", "{tmp}", ["--nonesuch", "1"], "No such option '--nonesuch'"),
    ("no-out", "{tmp}", None, "Missing option '--out'"),
]


@pytest.mark.parametrize("command", list(TRAIN_COMMANDS))
@pytest.mark.parametrize(("data", "extra", "message"), [error[1:] for error in ERRORS],
                         ids=[error[0] for error in ERRORS])
def test_train_errors_exit_2_with_one_line(tmp_path, note_wav, capsys, command, data, extra, message):
    out = tmp_path / "run"

    def fill(text: str) -> str:
        return text.format(tmp=tmp_path, note=note_wav)

    args = ["train", command, *map(fill, TRAIN_COMMANDS[command]), "--data", fill(data),
            *(["--out", str(out)] if extra is not None else []), *(extra or []), "--quiet"]
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and fill(message) in errors[0], err
    assert "Traceback" not in err
    assert not out.exists()


def test_every_train_command_is_checked():
    from spectrostyle.ui.cli.train import train

    assert sorted(TRAIN_COMMANDS) == sorted(train.commands)
