"""The command line's grammar: help that teaches, global options anywhere, a cheap import."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from anomaly.cli import build_parser, main
from anomaly.cli.main import EXIT_OK
from anomaly.cli.parser import DEFAULT_LOG_LEVEL, GLOBAL_OPTIONS, RegistryNames
from anomaly.forecast import SHORT_NAMES

SUBCOMMANDS = ["train", "score", "inspect", "report", "demo", "simulate", "evaluate"]
#: What ``anomaly --help`` must not load: the data stack and the model behind it.
HEAVY = ("pandas", "numpy", "sklearn", "scipy", "statsmodels", "pyarrow", "matplotlib")


def subparsers() -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def help_text(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == EXIT_OK
    return capsys.readouterr().out


def test_every_subcommand_is_covered():
    assert sorted(subparsers()) == sorted(SUBCOMMANDS)


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_subcommand_help_has_a_description_an_example_and_the_defaults(capsys, command):
    text = help_text(capsys, command)
    parser = subparsers()[command]
    assert parser.description and parser.description.split()[0] in text
    example = text.split("example:\n", 1)[1].strip()
    assert example.startswith(f"anomaly {command}")
    flat = " ".join(text.split())  # help wraps lines
    for action in parser._actions:
        default = action.default
        if action.option_strings and default not in (None, argparse.SUPPRESS, True, False):
            assert f"(default: {default})" in flat, (command, action.dest)
    # Options left unset (None) say what happens then.
    unset = {"score": ["--end", "--jobs", "--engine", "--format"], "train": ["--format"]}
    for action in parser._actions:
        if set(action.option_strings) & set(unset.get(command, [])):
            assert "(default: " in action.help, action.dest


def test_hs_level_shows_its_default(capsys):
    flat = " ".join(help_text(capsys, "train").split())
    assert "--hs-level {2,4,6} HS digits per series; finer codes are summed up to this" in flat
    assert "(default: 6)" in flat


def test_the_default_forecaster_is_a_registered_one():
    (forecaster,) = [a for a in subparsers()["train"]._actions if a.dest == "forecaster"]
    assert forecaster.default in SHORT_NAMES
    assert list(forecaster.choices) == sorted(SHORT_NAMES)


@pytest.mark.parametrize(
    ("argv", "level"),
    [
        (["inspect", "m"], DEFAULT_LOG_LEVEL),
        (["--log-level", "info", "inspect", "m"], "info"),
        (["inspect", "m", "--log-level", "debug"], "debug"),
        (["inspect", "--log-level", "error", "m"], "error"),
        (["--log-level", "info", "inspect", "m", "--log-level", "error"], "error"),
    ],
    ids=["default", "before", "after", "between", "later-wins"],
)
def test_global_options_before_or_after_the_subcommand(argv, level):
    assert build_parser().parse_args(argv).log_level == level


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_accepts_the_global_options(command):
    options = {s for a in subparsers()[command]._actions for s in a.option_strings}
    assert set(GLOBAL_OPTIONS) <= options


def test_a_bad_global_option_after_the_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["inspect", "m", "--log-level", "loud"])
    assert exit_.value.code == 2
    assert "invalid choice: 'loud'" in capsys.readouterr().err


def test_registry_names_are_looked_up_only_when_needed():
    calls = []

    def load():
        calls.append(1)
        return ["a", "b"]

    names = RegistryNames(load)
    assert calls == []
    assert "b" in names and "c" not in names and list(names) == ["a", "b"] and len(names) == 2
    assert calls == [1]


def test_building_the_parser_and_top_level_help_import_nothing_heavy():
    # A fresh interpreter: this one has pandas loaded already.
    script = (
        "import json, sys\n"
        "from anomaly.cli.main import main\n"
        "for argv in (['--help'], ['--version']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "usage: anomaly" in result.stdout
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []


def test_the_package_names_and_subpackages_load_on_first_use():
    script = (
        "import sys, anomaly\n"
        "assert 'pandas' not in sys.modules\n"
        "from anomaly import TradeAnomalyModel, read_flows, load, Scores, Panel\n"
        "assert anomaly.load.__name__ == 'load_model'\n"
        "assert set(anomaly.__all__) <= set(dir(anomaly))\n"
        "assert anomaly.io.read_flows is read_flows and anomaly.demo.demo_flows\n"
        "assert not hasattr(anomaly, 'no_such_name')\n"
    )
    subprocess.run([sys.executable, "-c", script], timeout=120, check=True)
