"""configs/*.toml: each shipped model's settings, handed by its recipe to `dataset render` and `train KIND` through
the shared --config option."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click
import pytest
from click.core import ParameterSource

from spectrostyle.store import shipped_models
from spectrostyle.ui.cli.data import dataset
from spectrostyle.ui.cli.main import main
from spectrostyle.ui.cli.train import train

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").glob("*.toml"))
KINDS = {"audio_cnn": "classifier", "adain_decoder": "adain", "fast_transformer": "fast",
         "cyclegan_generator": "cyclegan", "pix2pix_generator": "pix2pix"}


def _command(config: Path, table: str) -> tuple[click.Command, list[str]]:
    """The command that reads ``table`` of ``config``, and the options the recipe gives it besides the file."""
    if table == "dataset":
        return dataset.commands["render"], ["--out", "ds"]
    kind = KINDS[config.stem.split("-")[0]]
    return train.commands[kind], ["--data", "ds", "--out", "run", *(["--style", "s.wav"] if kind == "fast" else [])]


def _parse(config: Path, table: str, *extra: str) -> click.Context:
    command, required = _command(config, table)
    return command.make_context(command.name, ["--config", str(config), *required, *extra])


def _tables() -> list[tuple[Path, str]]:
    return [(path, table) for path in CONFIGS for table in tomllib.loads(path.read_text())]


def test_every_shipped_model_has_a_config_run_by_its_recipe():
    names = {f"{model.kind}-{model.name}" for model in shipped_models()}
    assert names and names <= {path.stem for path in CONFIGS}
    for path in CONFIGS:
        header = path.read_text().split("\n[", 1)[0]
        model = re.sub(r"-round\d+$", "", path.stem)
        assert model in names and model in header.splitlines()[0], path.name
        recipe = re.search(r"recipes/\w+\.sh", header)
        assert recipe, f"{path.name}: the header names no recipe"
        text = (REPO / recipe.group()).read_text()
        assert path.stem in text or f"configs/{path.name}" in text, f"{recipe.group()} does not use {path.name}"
        assert "--config" in text


@pytest.mark.parametrize(("config", "table"), _tables(), ids=lambda v: getattr(v, "stem", v))
def test_config_is_accepted_and_gives_its_values(config, table):
    ctx = _parse(config, table)
    options = {opt.lstrip("-").replace("-", "_"): p.name for p in ctx.command.params for opt in p.opts}
    values = tomllib.loads(config.read_text())[table]
    assert values
    for key, value in values.items():
        name = options[key.replace("-", "_")]
        assert ctx.params[name] == (tuple(value) if isinstance(value, list) else value), key
        assert ctx.get_parameter_source(name) == ParameterSource.DEFAULT_MAP


# a few of the values each shipped model was trained with: what its config must hold
RECIPE_VALUES = {
    ("audio_cnn-default", "dataset"): {"pitches": "36-96", "pitch_step": 3, "velocities": "50,127", "quiet": True},
    ("audio_cnn-default", "train"): {"epochs": 14, "patience": 14, "batch_size": 8, "lr": 1e-3, "fold": 0,
                                     "augmentation": "timbre", "precision": "fp32", "quiet": False},
    ("adain_decoder-default", "train"): {"steps": 1700, "style_weight": 10.0, "identity_weight": 200.0,
                                         "final_lr": 1e-4, "encoder": "default"},
    ("fast_transformer-keyboard", "train"): {"steps": 4000, "lr": 1e-3, "seed": 0, "precision": "bf16",
                                             "style_weight": 3e3, "frequency_weight": 10.0, "init_model": None},
    ("fast_transformer-keyboard-round2", "train"): {"steps": 1000, "lr": 3e-4, "seed": 1, "frequency_weight": 1000.0,
                                                    "loss_on": "image"},
    ("fast_transformer-keyboard-round3", "train"): {"seed": 2, "frequency_weight": 1000.0, "loss_on": "heard"},
    ("fast_transformer-flute", "train"): {"steps": 4000, "style_weight": 300.0, "energy_weight": 300.0,
                                          "frequency_weight": 100.0, "content_weight": 1.0},
    ("fast_transformer-flute-round2", "train"): {"lr": 3e-4, "seed": 1, "style_weight": 300.0,
                                                 "content_weight": 30.0},
    ("cyclegan_generator-flute-keyboard", "train"): {"domain_a": "flute", "domain_b": "keyboard", "pitches": "60-96",
                                                     "hold_out_every": 4, "steps": 2000, "checkpoint_every": 200},
    ("pix2pix_generator-flute-keyboard", "dataset"): {"families": "flute,keyboard", "pitches": "60-96",
                                                      "pitch_step": 1},
    ("pix2pix_generator-flute-keyboard", "train"): {"domain_b": "keyboard_acoustic_000",
                                                    "hold_out_pitches": "69,81,93", "steps": 3000},
}


@pytest.mark.parametrize(("stem", "table"), list(RECIPE_VALUES), ids="-".join)
def test_config_holds_the_recipe_values(stem, table):
    params = _parse(REPO / "configs" / f"{stem}.toml", table).params
    assert {name: params[name] for name in RECIPE_VALUES[stem, table]} == RECIPE_VALUES[stem, table]


def test_fast_configs_share_one_dataset():
    tables = [tomllib.loads(p.read_text()).get("dataset") for p in CONFIGS if p.stem.startswith("fast_transformer")]
    first = next(t for t in tables if t)
    assert all(t in (None, first) for t in tables)
    assert first == tomllib.loads((REPO / "configs" / "audio_cnn-default.toml").read_text())["dataset"]


def test_command_line_overrides_the_file_and_keys_take_dashes(tmp_path):
    adain = REPO / "configs" / "adain_decoder-default.toml"
    ctx = _parse(adain, "train", "--steps", "4", "--resume")
    assert ctx.params["steps"] == 4 and ctx.get_parameter_source("steps") == ParameterSource.COMMANDLINE
    assert ctx.params["resume"] and ctx.params["identity_weight"] == 200.0
    config = tmp_path / "c.toml"
    config.write_text('[train]\nbatch-size = 2\nlr = "5e-3"\nbatch-norm = false\nextra-data = "x"\n')
    params = train.commands["classifier"].make_context("classifier", ["--config", str(config), "--data", "d",
                                                                      "--out", "o", "--lr", "0.01"]).params
    assert params["batch_size"] == 2 and params["batch_norm"] is False and params["lr"] == 0.01
    assert params["extra_data"] == (Path("x"),)


def test_render_from_a_config_end_to_end(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[dataset]\nfamilies = "flute"\npitches = "60-62"\npitch_step = 2\nvelocities = "100"\n'
                      'programs_per_family = 1\nquiet = true\n[train]\nsteps = 1\n')
    assert main(["dataset", "render", "--config", str(config), "--out", str(tmp_path / "ds"), "--velocities",
                 "127"]) == 0
    assert sorted(p.name[-11:] for p in (tmp_path / "ds" / "audio").iterdir()) == ["060-127.wav", "062-127.wav"]


@pytest.mark.parametrize(("command", "text", "message"), [
    ("adain", "[train]\nstpes = 4\n", "unknown key 'stpes' in [train]: `spectrostyle train adain` has no option "
                                      "--stpes (did you mean 'steps'?)"),
    ("adain", "[train]\ndomain_a = 'flute'\n", "unknown key 'domain_a'"),
    ("adain", "steps = 4\n[train]\n", "unknown key 'steps' at the top; settings go in a [train] or [dataset] table"),
    ("adain", "[training]\nsteps = 4\n", "unknown key 'training' at the top"),
    ("adain", "[dataset]\npitches = '60-62'\n", "has no [train] table for `spectrostyle train adain`"),
    ("render", "[dataset]\nseed = 1\n", "unknown key 'seed' in [dataset]"),
    ("adain", "[train]\nsteps = 4\nsteps = 5\n", "is not valid TOML: Cannot overwrite a value (at line 3"),
    ("adain", "[train\nsteps = 4\n", "is not valid TOML"),
    ("adain", "[train]\nsteps = 4\nsteps-x\n", "is not valid TOML"),
    ("adain", "[train]\nbatch_size = 2\nbatch-size = 3\n", "[train] sets --batch-size twice ('batch_size' and "
                                                           "'batch-size')"),
    ("adain", "[train]\nsteps = 0\n", "[train] steps: 0 is not in the range 1<=x<=10000000"),
    ("adain", "[train]\nlr = 'fast'\n", "[train] lr: 'fast' is not a valid float range"),
    ("adain", "[train]\nsteps = true\n", "[train] steps should be a string or a number, not True"),
    ("adain", "[train]\nquiet = 'yes'\n", "[train] quiet is a flag: write true or false"),
    ("adain", "[train]\nvelocities = [50, 127]\n", "[train] velocities takes one value, not a list"),
    ("render", "[dataset]\npitches = {lo = 60}\n", "[dataset] pitches should be a value, not a table"),
    ("render", "[dataset]\nprecision = 'bf16'\n", "unknown key 'precision' in [dataset]"),
])
def test_bad_config_exits_2_with_one_line(tmp_path, capsys, command, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    args = ["dataset", "render", "--out", str(tmp_path / "ds")] if command == "render" else \
        ["train", command, "--data", "d", "--out", str(tmp_path / "run")]
    assert main([*args, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("spectrostyle: error: ") and message in err, err
    assert not (tmp_path / "run").exists() and not (tmp_path / "ds").exists()


@pytest.mark.parametrize("where", ["missing", "folder"])
def test_missing_config_exits_2_with_one_line(tmp_path, capsys, where):
    path = tmp_path / "none.toml"
    if where == "folder":
        path.mkdir()
    assert main(["train", "pix2pix", "--config", str(path), "--data", "d", "--out", "o"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    problem = "does not exist" if where == "missing" else "is a folder"
    assert err == f"spectrostyle: error: config file '{path}' {problem}\n"
