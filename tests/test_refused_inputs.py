"""Input that used to be accepted silently is refused in one line naming it: dropout with no
hidden layer, patience with no validation data, a --schedule key given twice, a CSV number
written with underscores."""

from __future__ import annotations

import pytest

from tests.test_cli import GOOD_CSV, error_line, report, train, write
from tui_trainer.engine.datasets import DataError, load_csv
from tui_trainer.experiments.config import ConfigError, loads_config

XOR = ("--dataset", "xor", "--epochs", "2", "--no-record")


def test_dropout_with_no_hidden_layer_is_refused():
    error_line(train(*XOR, "--hidden", "none", "--dropout", "0.3"), "--dropout", "no hidden layer")
    with pytest.raises(ConfigError, match=r"dropout = 0.3: there is no hidden layer"):
        loads_config('[data]\ndataset = "xor"\n[network]\nhidden = []\ndropout = 0.3\n')
    # none at all, or with hidden layers, is fine
    assert report(train(*XOR, "--hidden", "none", "--dropout", "0", "--json"))["epochs"] == 2
    assert report(train(*XOR, "--hidden", "4", "--dropout", "0.3", "--json"))["epochs"] == 2


def test_dropout_is_dropped_when_the_hidden_layers_go():
    from tui_trainer.experiments.settings import SETTINGS

    fit = SETTINGS["dropout"].fit
    assert fit(0.3, []) == 0.0 and fit([0.3, 0.1], []) == 0.0 and fit(0.3, [4]) == 0.3


def test_patience_with_no_validation_data_is_refused():
    error_line(train(*XOR, "--patience", "3", "--val-split", "0"), "--patience", "validation")
    assert report(train(*XOR, "--patience", "3", "--json"))["epochs"] == 2
    assert report(train(*XOR, "--val-split", "0", "--json"))["epochs"] == 2


@pytest.mark.parametrize("schedule,key", [("step:step_size=5,step_size=2", "step_size"),
                                          ("cosine:T_max=10,eta_min=0,T_max=20", "T_max"),
                                          ("cosine:T_max=10,name=3", "name")])
def test_a_schedule_key_given_twice_is_refused(schedule, key):
    error_line(train(*XOR, "--schedule", schedule), "--schedule", f"'{key}'", "twice")


@pytest.mark.parametrize("cell", ["1_0", "1_000.5", "_1"])
def test_a_csv_number_with_underscores_is_not_a_number(tmp_path, cell):
    path = write(tmp_path / "u.csv", "a,b,y\n1,2,0\n3," + cell + ",1\n" + "".join(GOOD_CSV.splitlines(True)[3:]))
    with pytest.raises(DataError) as err:
        load_csv(path)
    said = str(err.value)
    assert str(path) in said and "line 3" in said and "column 'b'" in said and "not a number" in said, said
    error_line(train("--data", path, "--epochs", 1, "--no-record"), "line 3", "not a number")
