"""Exact networks from a config: inline data (``[data] inputs``/``targets``) and ``[weights]``."""

from __future__ import annotations

import numpy as np
import pytest

from tui_trainer.experiments.config import ConfigError, dumps_config, load_config, loads_config, save_config, with_overrides
from tui_trainer.experiments.experiment import Experiment
from tui_trainer.experiments.runs import settings_of

MAZUR = """
[data]
val_split = 0
inputs = [[0.05, 0.10]]
targets = [[0.01, 0.99]]

[network]
hidden = [2]
activation = "sigmoid"
output = "sigmoid"
loss = "mse"

[optimizer]
name = "sgd"
lr = 0.5

[training]
epochs = 1
batch_size = "full"

[weights]
W1 = [[0.15, 0.25], [0.20, 0.30]]
b1 = [0.35, 0.35]
W2 = [[0.40, 0.50], [0.45, 0.55]]
b2 = [0.60, 0.60]
"""


def one_problem(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        loads_config(text, source="exp.toml")
    lines = str(info.value).splitlines()
    assert lines[0] == "exp.toml: 1 problem:", str(info.value)
    return lines[1].strip()


def test_the_network_starts_from_the_configs_weights_and_sees_the_inputs_as_typed():
    exp = Experiment.from_config(loads_config(MAZUR))
    W1, b1, W2, b2 = exp.net.params
    assert W1.tolist() == [[0.15, 0.25], [0.20, 0.30]] and b1.tolist() == [0.35, 0.35]
    assert W2.tolist() == [[0.40, 0.50], [0.45, 0.55]] and b2.tolist() == [0.60, 0.60]
    assert exp.data.X_train.tolist() == [[0.05, 0.10]]  # not standardized: one sample would become 0
    assert exp.data.Y_train.tolist() == [[0.01, 0.99]]
    assert exp.dataset.problem == "regression" and exp.loss == "mse"
    assert exp.net.activations == ("sigmoid", "sigmoid")  # sigmoid output with mse, as the textbook has it
    assert np.round(exp.net.forward(exp.data.X_train), 8).tolist() == [[0.75136507, 0.77292847]]


def test_inline_data_and_weights_round_trip_through_the_file_and_a_saved_model(tmp_path):
    cfg = loads_config(MAZUR)
    assert loads_config(dumps_config(cfg)) == cfg
    save_config(cfg, tmp_path / "again.toml")
    assert load_config(tmp_path / "again.toml") == cfg
    exp = Experiment.from_config(cfg)
    exp.trainer.step()
    path = exp.save(tmp_path / "model.npz")
    back = Experiment.load(path)
    assert back.config == cfg
    assert all(np.array_equal(a, b) for a, b in zip(back.net.params, exp.net.params))  # the trained weights
    assert settings_of(cfg)["dataset"] == "inline"


@pytest.mark.parametrize("old, new, expected", [
    ("W2 = [[0.40, 0.50], [0.45, 0.55]]", "W2 = [[0.40, 0.50], [0.45, 0.55], [1, 2]]",
     "[weights] W2 = [[0.4, 0.5], [0.45, 0.55], [1, 2]]: shape 3x2, the network needs 2x2 "
     "(rows: the layer's inputs, columns: its nodes)"),
    ("W1 = [[0.15, 0.25], [0.20, 0.30]]", "W1 = [[0.15, 0.20], [0.25, 0.30], [0.35, 0.35]]",
     "[weights] W1 = [[0.15, 0.2], [0.25, 0.3], [0.35, 0.35]]: shape 3x2, the network needs 2x2"),
    ("b1 = [0.35, 0.35]", "b1 = [0.35]", "[weights] b1 = [0.35]: 1 values, the network needs 2"),
    ("b2 = [0.60, 0.60]", "b3 = [0.60, 0.60]", "[weights] b3 = [0.6, 0.6]: unknown key; allowed: W1, b1, W2, b2"),
    ("W1 = [[0.15, 0.25], [0.20, 0.30]]", "W1 = [[0.15, 0.25], [0.20]]",
     "[weights] W1 = [[0.15, 0.25], [0.2]]: rows of different lengths"),
    ("b1 = [0.35, 0.35]", 'b1 = "x"', '[weights] b1 = "x": must be a list of numbers'),
    ("targets = [[0.01, 0.99]]", "targets = [[0.01, 0.99], [1, 2]]",
     "[data] targets = [[0.01, 0.99], [1, 2]]: 2 targets for 1 rows of inputs"),
    ("targets = [[0.01, 0.99]]", "", "[data]: inline data needs targets as well as inputs: e.g. targets = [[0.01, 0.99]]"),
    ("inputs = [[0.05, 0.10]]", 'inputs = [[0.05, "a"]]', "[data] inputs = [[0.05, \"a\"]]: row 1"),
    ("val_split = 0", 'val_split = 0\ndataset = "moons"', "give a dataset or inline inputs and targets, not both"),
    ("val_split = 0", 'val_split = 0\nproblem = "binary"', "[data] targets = [[0.01, 0.99]]: binary targets are one column of 0s and 1s"),
    ("val_split = 0", 'val_split = 0\nproblem = "ordinal"', "[data] problem = \"ordinal\": unknown problem; allowed: binary, multiclass, regression"),
    ("val_split = 0", "val_split = 0\nstandardize = 1", "[data] standardize = 1: must be true or false"),
])
def test_a_bad_key_is_one_line_naming_it(old, new, expected):
    assert old in MAZUR
    assert expected in one_problem(MAZUR.replace(old, new))


def test_problem_is_inferred_and_multiclass_takes_numbers_or_one_hot_rows():
    xor = "[data]\ninputs = [[0, 0], [0, 1], [1, 0], [1, 1]]\ntargets = [0, 1, 1, 0]\nval_split = 0\n"
    exp = Experiment.from_config(loads_config(xor))
    assert exp.dataset.problem == "binary" and exp.loss == "bce" and exp.data.Y_train.shape == (4, 1)
    assert exp.data.X_train.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]  # as typed, in order
    for targets in ("[0, 1, 2, 1]", "[[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]"):
        text = xor.replace("targets = [0, 1, 1, 0]", f"targets = {targets}\nproblem = \"multiclass\"")
        exp = Experiment.from_config(loads_config(text))
        assert exp.dataset.problem == "multiclass" and exp.net.layer_sizes[-1] == 3
        assert exp.loss == "cross_entropy"
    standardized = Experiment.from_config(loads_config(xor + "standardize = true\n"))
    assert standardized.data.X_train.tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]


def test_weights_that_do_not_fit_a_csv_are_refused_when_its_columns_are_known(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,c,y\n1,2,3,0\n4,5,6,1\n7,8,9,0\n3,2,1,1\n")
    text = f'[data]\npath = "{tmp_path / "d.csv"}"\n[network]\nhidden = [2]\n[weights]\nW1 = [[1, 2], [3, 4]]\n'
    cfg = loads_config(text)  # the CSV's columns are not known before it is read
    with pytest.raises(ConfigError, match=r"\[weights\] W1 = \[\[1, 2\], \[3, 4\]\]: shape 2x2, the network needs 3x2"):
        Experiment.from_config(cfg)


def test_another_dataset_replaces_the_inline_data():
    cfg = with_overrides(loads_config(MAZUR.split("[weights]")[0]), dataset="moons")
    assert cfg.data.dataset == "moons" and cfg.data.inputs is None and cfg.data.targets is None


def test_the_readmes_exact_network_loads_and_gives_the_numbers_it_quotes():
    from pathlib import Path

    from tui_trainer.experiments.backprop import first_step

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    part = readme.split("### Exact networks: inline data and `[weights]`", 1)[1]
    block = part.split("```toml\n", 1)[1].split("```", 1)[0]
    trace = first_step(loads_config(block, source="README"))
    prose = " ".join(part.split("```", 2)[2].split("\n\n", 2)[1].split())
    assert f"out_h1 {trace.layers[0].a[0, 0]:.9f}" in prose and f"E_total {trace.loss:.9f}" in prose
    assert f"w5 {trace.layers[1].W_new[0, 0]:.8f}" in prose and f"w1 {trace.layers[0].W_new[0, 0]:.9f}" in prose
    assert "[weights] W2 = [[...]]: shape 3x2, the network needs 2x2" in " ".join(part.split())


def test_textbook_outputs_and_losses_train():
    # sigmoid outputs with mse on one-hot classes (the quadratic cost of many course notes)
    text = ("[data]\ninputs = [[0, 0], [0, 1], [1, 0], [1, 1]]\ntargets = [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]]\n"
            "problem = \"multiclass\"\nval_split = 0\n[network]\nhidden = [4]\noutput = \"sigmoid\"\nloss = \"mse\"\n"
            "[optimizer]\nname = \"sgd\"\nlr = 0.5\n[training]\nbatch_size = \"full\"\n")
    exp = Experiment.from_config(loads_config(text))
    assert exp.net.activations[-1] == "sigmoid" and exp.loss == "mse" and exp.net.layer_sizes[-1] == 3
    first = exp.trainer.step()
    for _ in range(50):
        exp.trainer.step()
    assert exp.net.loss(exp.data.X_train, exp.data.Y_train, "mse") < first
    with pytest.raises(ValueError, match="use softmax, or loss = \"mse\" against the one-hot targets"):
        Experiment.from_config(loads_config(text.replace('loss = "mse"\n', "")))
