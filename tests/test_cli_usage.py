"""The command line as a newcomer meets it: a bad option is a usage error (exit status 2, as click
gives for every option it checks itself), whichever command and option it is."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tui_trainer.cli import main


@pytest.fixture(autouse=True)
def _runs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("NN_TUI_RUNS", str(tmp_path / "runs"))


USAGE_ERRORS = [
    ["train", "--dataset", "nope"],
    ["train", "--optimizer", "nope"],
    ["train", "--activation", "nope"],
    ["train", "--lr", "fast"],
    ["train", "--lr", "-1"],
    ["compare", "--datasets", "nope"],
    ["compare", "--dataset", "nope"],
    ["sweep", "adam", "--dataset", "nope"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_a_bad_option_exits_2(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.output.startswith("Error: "), result.output


def test_a_bad_value_in_a_config_file_is_not_a_usage_error(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[data]\ndataset = "nope"\n')
    result = CliRunner().invoke(main, ["train", "--config", str(config)])
    assert result.exit_code == 1, (result.exit_code, result.output)


def test_sweep_help_speaks_of_the_sweep():
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["sweep", "--help"])
    line = next(line for line in result.output.splitlines() if "--memory-budget" in line)
    assert "race" not in line and "this command's training" in line, line


def test_datasets_fits_80_columns():
    result = CliRunner(env={"COLUMNS": "80"}).invoke(main, ["datasets"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(map(len, lines)) <= 80, max(lines, key=len)
    text = " ".join(line.strip() for line in lines)  # every description whole, wrapped
    assert "4 clusters at the corners of a square; opposite corners share a class" in text


def test_sweep_and_surface_fit_80_columns():
    for args in (["sweep", "--optimizer", "adam", "--epochs", "2", "--points", "3"], ["surface"]):
        result = CliRunner(env={"COLUMNS": "80"}).invoke(main, args)
        assert result.exit_code == 0, result.output
        assert max(map(len, result.output.splitlines())) <= 80, max(result.output.splitlines(), key=len)


def test_runs_keeps_epochs_when_an_interrupted_run_is_listed(tmp_path):
    """``interrupted`` widens the status column: a less telling column goes, not the epochs."""
    from tests.test_cli import report
    from tui_trainer.cli.runs import table

    result = CliRunner().invoke(main, ["train", "--dataset", "breast_cancer", "--epochs", "2", "--hidden", "16,16",
                                       "--optimizer", "momentum", "--name", "a-named-run"])
    assert result.exit_code == 0, result.output
    [row] = report(CliRunner().invoke(main, ["runs", "--json"]))["runs"]
    rows = [{**row, "status": "interrupted"}, row]
    header = table(rows, 80)[0].split()
    assert "epochs" in header and "val" in header and "status" in header, header
    assert max(len(line) for line in table(rows, 80)) <= 80
