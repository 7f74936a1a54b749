"""Experiment configs: defaults, the TOML round trip, every problem reported, overrides, saving."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_trainer.experiments import config as config_module
from tui_trainer.experiments.config import (
    ConfigError,
    DataConfig,
    ExperimentConfig,
    NetworkConfig,
    OptimizerConfig,
    Problem,
    TrainingConfig,
    dumps_config,
    load_config,
    loads_config,
    save_config,
    with_overrides,
)
from tui_trainer.engine import optimizers
from tui_trainer.engine.optimizers import OPTIMIZERS

# A non-default value for each optimizer's own hyperparameters (lr aside).
HPARAMS = {
    "sgd": dict(momentum=0.5, dampening=0.1, weight_decay=1e-4, nesterov=False),
    "momentum": dict(momentum=0.8, weight_decay=1e-3),
    "nesterov": dict(momentum=0.95, nesterov=True),
    "adagrad": dict(lr_decay=0.01, initial_accumulator_value=0.1, eps=1e-9, weight_decay=0.0),
    "rmsprop": dict(alpha=0.9, eps=1e-7, momentum=0.5, centered=True),
    "adam": dict(betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-4, amsgrad=True),
    "adamw": dict(betas=[0.85, 0.995], weight_decay=0.05),
    "adamp": dict(betas=(0.9, 0.9), delta=0.2, wd_ratio=0.5, nesterov=True),
}


def problems_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        loads_config(text, source="exp.toml")
    return str(info.value)


def round_trip(cfg: ExperimentConfig) -> None:
    text = dumps_config(cfg)
    assert loads_config(text) == cfg, text


# --- defaults and round trips -----------------------------------------------------------------


def test_default_config_is_valid_and_matches_an_empty_file():
    cfg = ExperimentConfig()
    assert cfg.validate() == []
    cfg.check()
    assert loads_config("") == cfg
    assert cfg.data.dataset == "spiral" and cfg.optimizer.lr == 0.001
    assert cfg.network.hidden_activations == ["relu", "relu"]


def test_lr_defaults_to_the_optimizers_own():
    assert OptimizerConfig("sgd").lr == optimizers.defaults("sgd")["lr"] == 0.01
    assert loads_config('[optimizer]\nname = "rmsprop"').optimizer.lr == 0.01
    assert OptimizerConfig("sgd", lr=0.5).lr == 0.5


def test_path_without_dataset_means_no_dataset():
    assert DataConfig(path="my.csv").dataset is None
    assert loads_config('[data]\npath = "/tmp/my.csv"').data.dataset is None


@pytest.mark.parametrize(
    "cfg",
    [
        ExperimentConfig(),
        ExperimentConfig(
            data=DataConfig("gaussians", val_split=0.0, n_samples=300, noise=0.25, options={"classes": 5}),
            network=NetworkConfig(hidden=[], output="softmax", loss="cross_entropy"),
            training=TrainingConfig(epochs=3, batch_size="full", seed=7, dtype="float32"),
        ),
        ExperimentConfig(
            data=DataConfig(path="/data/my file.csv", target="price", val_split=0.25),
            network=NetworkConfig(hidden=(8, 4, 2), activations=("tanh", "leaky_relu", "linear"),
                                  init="xavier", output="linear", loss="mse"),
            training=TrainingConfig(batch_size=1),
        ),
        ExperimentConfig(data=DataConfig("iris"), network=NetworkConfig(activation="sigmoid", init="zeros")),
    ],
    ids=["default", "gaussians-full-batch", "csv-path-target", "sample-set"],
)
def test_round_trip(cfg):
    round_trip(cfg)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_round_trip_every_optimizer_with_its_hparams(name):
    cfg = ExperimentConfig(optimizer=OptimizerConfig(name, lr=0.05, hparams=HPARAMS[name]))
    assert cfg.validate() == []
    round_trip(cfg)
    # Every hyperparameter named in the engine can be set, and a config built from the
    # engine's defaults (betas as a tuple) survives too.
    full = {k: v for k, v in optimizers.defaults(name).items() if k != "lr"}
    round_trip(ExperimentConfig(optimizer=OptimizerConfig(name, hparams=full)))


def test_betas_are_tuples_whether_given_as_list_or_tuple():
    assert OptimizerConfig(hparams={"betas": [0.8, 0.9]}) == OptimizerConfig(hparams={"betas": (0.8, 0.9)})
    assert loads_config("[optimizer]\nbetas = [0.8, 0.9]").optimizer.hparams == {"betas": (0.8, 0.9)}


def test_dumps_refuses_an_invalid_config():
    with pytest.raises(ConfigError, match=r"\[training\] epochs = 0"):
        dumps_config(ExperimentConfig(training=TrainingConfig(epochs=0)))


# --- bad values: each message names section, key, value and what is allowed -------------------

BAD = [
    ('[data]\ndataset = "spirl"', '[data] dataset = "spirl": unknown dataset; allowed: xor, circles',
     "did you mean 'spiral'?"),
    ('[data]\ndataset = "moons"\npath = "a.csv"', '[data] path = "a.csv": give a dataset or a CSV path, not both',
     'dataset = "moons"'),
    ('[data]\ntarget = "y"', '[data] target = "y": applies to a CSV path only', ""),
    ('[data]\nval_split = 1.0', "[data] val_split = 1.0: must be a number in [0, 1)", ""),
    ("[data]\nval_split = -0.1", "[data] val_split = -0.1: must be a number in [0, 1)", ""),
    ("[data]\nn_samples = 3", "[data] n_samples = 3: must be an integer >= 4", ""),
    ("[data]\nn_samples = 10.0", "[data] n_samples = 10.0: must be an integer >= 4", ""),
    ("[data]\nnoise = -1", "[data] noise = -1: must be a number >= 0", ""),
    ('[data]\ndataset = "iris"\nn_samples = 50', "[data] n_samples = 50: applies to synthetic datasets only",
     "not to sample dataset 'iris'"),
    ('[data]\npath = "a.csv"\nnoise = 0.1', "[data] noise = 0.1: applies to synthetic datasets only",
     "not to a CSV file"),
    ('[data]\ndataset = "moons"\nclasses = 3', "[data] classes = 3: is an option of dataset gaussians only",
     "synthetic dataset 'moons'"),
    ('[data]\ndataset = "gaussians"\nclasses = 1', "[data] classes = 1: must be an integer >= 2", "number of blobs"),
    ('[data]\ndataset = "gaussians"\nclases = 4', "[data] clases = 4: unknown key; allowed: dataset, path",
     "did you mean 'classes'?"),
    ("[network]\nhidden = 16", "[network] hidden = 16: must be a list of layer widths", ""),
    ("[network]\nhidden = [16, 0]", "[network] hidden[1] = 0: layer widths must be integers >= 1", ""),
    ("[network]\nhidden = [true]", "[network] hidden[0] = true: layer widths must be integers >= 1", ""),
    ("[network]\nhidden = [2.5]", "[network] hidden[0] = 2.5: layer widths must be integers >= 1", ""),
    ('[network]\nactivation = "relu6"', '[network] activation = "relu6": unknown activation; allowed: linear',
     "did you mean 'relu'?"),
    ('[network]\nactivation = "softmax"', '[network] activation = "softmax": softmax is for the output layer only',
     "hidden layers: linear, sigmoid, tanh, relu, leaky_relu"),
    ('[network]\nactivations = ["relu"]', '[network] activations = ["relu"]: needs one activation per hidden layer',
     "2 for hidden = [16, 16]"),
    ('[network]\nactivations = ["relu", "softmax"]', '[network] activations[1] = "softmax": softmax is for the output',
     ""),
    ('[network]\nactivation = "tanh"\nactivations = ["relu", "relu"]',
     '[network] activation = "tanh": give activation (every hidden layer) or activations', "not both"),
    ('[network]\ninit = "kaiming"', '[network] init = "kaiming": unknown init; allowed: auto, he, xavier', ""),
    ('[network]\noutput = "soft_max"', '[network] output = "soft_max": unknown output activation; allowed: auto',
     "did you mean 'softmax'?"),
    ('[network]\nloss = "mae"', '[network] loss = "mae": unknown loss; allowed: auto, mse, bce, cross_entropy', ""),
    ('[network]\noutput = "tanh"\nloss = "bce"', '[network] output = "tanh": loss bce needs output = "sigmoid"', ""),
    ('[optimizer]\nname = "adamm"', '[optimizer] name = "adamm": unknown optimizer; allowed: sgd', "did you mean"),
    ("[optimizer]\nlr = -1", "[optimizer] lr = -1: must be a number > 0", ""),
    ("[optimizer]\nlr = 0", "[optimizer] lr = 0: must be a number > 0", ""),
    ("[optimizer]\nlr = inf", "[optimizer] lr = inf: must be a number > 0", ""),
    ("[optimizer]\nlr = nan", "[optimizer] lr = nan: must be a number > 0", ""),
    ('[optimizer]\nlr = "fast"', '[optimizer] lr = "fast": must be a number > 0', ""),
    ('[optimizer]\nname = "sgd"\nmomentum = -0.5', "[optimizer] momentum = -0.5: momentum must be in [0, inf)", ""),
    ("[optimizer]\nbetas = [0.9, 1.0]", "[optimizer] betas = [0.9, 1.0]: each of betas must be in [0, 1)", ""),
    ("[optimizer]\nbetas = 0.9", "[optimizer] betas = 0.9: betas must be two numbers in [0, 1)", ""),
    ("[optimizer]\namsgrad = 1", "[optimizer] amsgrad = 1: amsgrad must be true or false", ""),
    ("[optimizer]\nmomentum = 0.9", "[optimizer] momentum = 0.9: adam has no momentum (only sgd, momentum",
     "allowed: name, lr, schedule, betas, eps, weight_decay, amsgrad"),
    ('[optimizer]\nname = "sgd"\nnesterov = true', "[optimizer] nesterov = true: nesterov needs momentum > 0",
     "(here momentum = 0.0, dampening = 0.0)"),
    ('[optimizer]\nname = "nesterov"\nmomentum = 0', "[optimizer] momentum = 0: nesterov needs momentum > 0",
     "here nesterov = true"),
    ("[training]\nepochs = 0", "[training] epochs = 0: must be an integer >= 1", ""),
    ("[training]\nepochs = 1.5", "[training] epochs = 1.5: must be an integer >= 1", ""),
    ("[training]\nbatch_size = 0", '[training] batch_size = 0: must be an integer >= 1 or "full"', ""),
    ('[training]\nbatch_size = "all"', '[training] batch_size = "all": must be an integer >= 1 or "full"', ""),
    ("[training]\nseed = -1", "[training] seed = -1: must be an integer >= 0", ""),
    ('[training]\ndtype = "float16"', '[training] dtype = "float16": unknown dtype; allowed: float64, float32', ""),
]


@pytest.mark.parametrize("text, expected, also", BAD, ids=[b[1].split(":")[0] for b in BAD])
def test_bad_value_is_named_with_what_is_allowed(text, expected, also):
    message = problems_of(text)
    assert message.splitlines()[0] == "exp.toml: 1 problem:"
    assert expected in message
    assert also in message


def test_every_problem_is_reported_together_in_section_order():
    text = """
[training]
epochs = 0
seed = -3

[trainin]
epochs = 5

[optimizer]
lr = -1

[network]
hidden = [16, 0]
"""
    with pytest.raises(ConfigError) as info:
        loads_config(text, source="exp.toml")
    lines = str(info.value).splitlines()
    assert lines[0] == "exp.toml: 5 problems:"
    assert lines[1:] == [
        "  [network] hidden[1] = 0: layer widths must be integers >= 1",
        "  [optimizer] lr = -1: must be a number > 0 (the learning rate)",
        "  [training] epochs = 0: must be an integer >= 1",
        "  [training] seed = -3: must be an integer >= 0",
        "  [trainin]: unknown section; allowed: data, network, optimizer, training, weights; did you mean 'training'?",
    ]
    problems = info.value.problems
    assert [(p.section, p.field_name) for p in problems] == [
        ("network", "hidden"), ("optimizer", "lr"), ("training", "epochs"), ("training", "seed"),
        ("trainin", None),
    ]


def test_unknown_keys_suggest_the_closest_name():
    message = problems_of("[training]\nepoch = 10\nbatchsize = 8\nzzz = 1")
    assert "[training] epoch = 10: unknown key; allowed: epochs, batch_size, seed, dtype, patience; did you mean 'epochs'?" in message
    assert "did you mean 'batch_size'?" in message
    assert "[training] zzz = 1: unknown key; allowed: epochs, batch_size, seed, dtype, patience\n" in message + "\n"
    message = problems_of('[optimizer]\nname = "sgd"\nmomentun = 0.9\n[network]\nactivaton = "relu"')
    assert "[optimizer] momentun = 0.9: unknown key; allowed: name, lr, schedule, momentum" in message
    assert "did you mean 'momentum'?" in message
    assert "[network] activaton = \"relu\": unknown key" in message and "did you mean 'activation'?" in message


def test_keys_outside_sections_and_sections_that_are_not_tables():
    message = problems_of("epochs = 5\ndata = 3")
    assert "epochs = 5: keys belong in a section; put it under [training]" in message
    assert "[data]: must be a table" in message


def test_problem_objects_for_a_config_built_in_code():
    cfg = ExperimentConfig(
        data=DataConfig(dataset=None),
        network=NetworkConfig(hidden=[4], activations=["relu"], activation="tanh"),
        optimizer=OptimizerConfig("sgd", hparams={"lr": 0.1}),
    )
    problems = cfg.validate()
    assert all(isinstance(p, Problem) for p in problems)
    assert [(p.section, p.key) for p in problems] == [
        ("data", "dataset"), ("network", "activation"), ("optimizer", "lr"),
    ]
    assert str(problems[2]) == "[optimizer] lr = 0.1: is a field of its own (OptimizerConfig.lr), not in hparams"
    with pytest.raises(ConfigError, match=r"^config: 3 problems:"):
        cfg.check()


# --- files ------------------------------------------------------------------------------------


def test_toml_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text('[data]\ndataset = "spiral"\nval_split = \n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid TOML:") and "line 3" in message
    assert info.value.problems == []


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="nope.toml: no such file"):
        load_config(tmp_path / "nope.toml")


def test_not_utf8(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_bytes(b'[data]\ndataset = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"exp.toml: not UTF-8 text: byte 0xe9 on line 2"):
        load_config(path)


def test_problems_in_a_file_name_the_file(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text("[training]\nepochs = -2\n")
    with pytest.raises(ConfigError, match=rf"^{path}: 1 problem:\n  \[training\] epochs = -2"):
        load_config(path)


def test_relative_csv_path_is_relative_to_the_config_folder(tmp_path):
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "exp.toml").write_text('[data]\npath = "data/my.csv"\ntarget = "y"\n')
    (folder / "abs.toml").write_text(f'[data]\npath = "{tmp_path / "x.csv"}"\n')
    assert load_config(folder / "exp.toml").data.path == str(folder / "data" / "my.csv")
    assert load_config(folder / "abs.toml").data.path == str(tmp_path / "x.csv")
    assert loads_config('[data]\npath = "my.csv"').data.path == "my.csv"


def test_save_then_load_keeps_the_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inside = ExperimentConfig(data=DataConfig(path=os.path.join("exp", "d.csv"), target="y"))
    outside = ExperimentConfig(data=DataConfig(path="elsewhere.csv"))
    (tmp_path / "exp").mkdir()
    save_config(inside, Path("exp") / "a.toml")
    save_config(outside, Path("exp") / "b.toml")
    assert 'path = "d.csv"' in (tmp_path / "exp" / "a.toml").read_text()  # the folder can move
    assert load_config(Path("exp") / "a.toml") == inside
    assert load_config(Path("exp") / "b.toml").data.path == str(tmp_path / "elsewhere.csv")


def test_save_config_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "exp.toml"
    path.write_text("old")
    os.chmod(path, 0o640)
    cfg = ExperimentConfig(training=TrainingConfig(epochs=7))
    save_config(cfg, path)
    assert load_config(path) == cfg
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config_module.os, "replace", fail)
    with pytest.raises(ConfigError, match="exp.toml: cannot write: No space left on device"):
        save_config(ExperimentConfig(), path)
    assert load_config(path) == cfg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]


def test_save_config_writes_nothing_for_an_invalid_config(tmp_path):
    path = tmp_path / "exp.toml"
    with pytest.raises(ConfigError):
        save_config(ExperimentConfig(training=TrainingConfig(seed=-1)), path)
    assert list(tmp_path.iterdir()) == []


# --- overrides --------------------------------------------------------------------------------


def test_overrides_return_a_new_config():
    cfg = ExperimentConfig()
    new = with_overrides(cfg, hidden=[32], epochs=5, batch_size="full", seed=3, val_split=0.1,
                         activation="tanh", lr=0.01)
    assert cfg == ExperimentConfig()
    assert new.network.hidden == [32] and new.network.hidden_activations == ["tanh"]
    assert (new.training.epochs, new.training.batch_size, new.training.seed) == (5, "full", 3)
    assert new.data.val_split == 0.1 and new.optimizer.lr == 0.01


def test_none_overrides_are_ignored():
    cfg = ExperimentConfig()
    assert with_overrides(cfg, dataset=None, lr=None, epochs=None) == cfg


def test_activation_override_replaces_per_layer_activations():
    cfg = ExperimentConfig(network=NetworkConfig(hidden=[4, 4], activations=["tanh", "relu"]))
    assert with_overrides(cfg, activation="sigmoid").network.hidden_activations == ["sigmoid", "sigmoid"]


def test_path_and_dataset_overrides_clear_each_other():
    gaussians = ExperimentConfig(data=DataConfig("gaussians", n_samples=100, noise=0.2, options={"classes": 4}))
    csv = with_overrides(gaussians, path="my.csv", target="y")
    assert csv.data == DataConfig(path="my.csv", target="y")
    back = with_overrides(csv, dataset="moons")
    assert back.data == DataConfig("moons")
    kept = with_overrides(gaussians, dataset="spiral")
    assert (kept.data.n_samples, kept.data.noise, kept.data.options) == (100, 0.2, {})
    with pytest.raises(ConfigError, match="not both"):
        with_overrides(gaussians, dataset="moons", path="my.csv")


def test_optimizer_override_drops_foreign_hparams_and_resets_lr():
    cfg = ExperimentConfig(optimizer=OptimizerConfig("sgd", lr=0.5, hparams={"momentum": 0.9, "weight_decay": 0.1}))
    adam = with_overrides(cfg, optimizer="adam")
    assert adam.optimizer == OptimizerConfig("adam", lr=0.001, hparams={"weight_decay": 0.1})
    assert with_overrides(cfg, optimizer="adam", lr=0.02).optimizer.lr == 0.02
    assert with_overrides(cfg, optimizer="sgd").optimizer == cfg.optimizer


def test_invalid_overrides_raise_config_error():
    with pytest.raises(ConfigError) as info:
        with_overrides(ExperimentConfig(), lr=-1, epochs=0, source="command line")
    assert str(info.value).splitlines() == [
        "command line: 2 problems:",
        "  [optimizer] lr = -1: must be a number > 0 (the learning rate)",
        "  [training] epochs = 0: must be an integer >= 1",
    ]
    with pytest.raises(ConfigError, match="did you mean 'adam'"):
        with_overrides(ExperimentConfig(), optimizer="adma")
    with pytest.raises(TypeError, match="unknown override 'epoch'"):
        with_overrides(ExperimentConfig(), epoch=3)


# --- features, regularization, schedules, early stopping -------------------------------------

GENERALIZATION = ExperimentConfig(
    data=DataConfig(dataset="circles", noise=0.1, features=["x1sq", "x2sq", "x1x2"]),
    network=NetworkConfig(hidden=[8, 4], l1=1e-4, l2=0.01, dropout=[0.2, 0.1]),
    optimizer=OptimizerConfig("sgd", lr=0.1,
                              schedule={"name": "cosine", "T_max": 100, "warmup_epochs": 5}),
    training=TrainingConfig(epochs=200, patience=10),
)


def test_new_keys_round_trip_through_toml(tmp_path):
    assert GENERALIZATION.validate() == []
    round_trip(GENERALIZATION)
    text = dumps_config(GENERALIZATION)
    assert "[optimizer.schedule]" in text
    assert 'features = [\n    "x1sq",' in text
    path = tmp_path / "exp.toml"
    save_config(GENERALIZATION, path)
    assert load_config(path) == GENERALIZATION
    one_rate = ExperimentConfig(network=NetworkConfig(dropout=0.3))
    round_trip(one_rate)
    from tui_trainer.experiments.settings import SETTINGS, engine_value

    assert engine_value(SETTINGS["dropout"], loads_config(dumps_config(one_rate))) == (0.3, 0.3)


def test_new_keys_are_read_from_toml():
    cfg = loads_config("""
[data]
dataset = "circles"
features = ["x1sq", "x2sq"]
[network]
hidden = []
l2 = 0.001
[optimizer.schedule]
name = "step"
step_size = 10
[training]
patience = 5
""")
    assert cfg.data.features == ["x1sq", "x2sq"]
    assert cfg.network.l2 == 0.001 and cfg.network.l1 == 0.0 and cfg.network.dropout == 0.0
    assert cfg.optimizer.schedule == {"name": "step", "step_size": 10}
    assert cfg.optimizer.create_schedule().params == {"step_size": 10, "gamma": 0.1}
    assert cfg.training.patience == 5


def test_a_config_without_the_new_keys_writes_none_of_them():
    text = dumps_config(ExperimentConfig())
    for key in ("features", "l1", "l2", "dropout", "schedule", "patience"):
        assert key not in text
    cfg = loads_config(text)
    assert cfg.data.features is None and cfg.optimizer.schedule is None
    assert cfg.training.patience is None and cfg.optimizer.create_schedule() is None


NEW_BAD = [
    ('[network]\nl2 = -1', "[network] l2 = -1: must be >= 0"),
    ('[network]\nl1 = "a"', '[network] l1 = "a": must be a number >= 0'),
    ('[network]\ndropout = 1.0', "[network] dropout = 1.0: must be in [0, 1)"),
    ('[network]\ndropout = [0.1]', "[network] dropout = [0.1]: needs one rate per hidden layer: 2"),
    ('[network]\ndropout = [0.1, -0.5]', "[network] dropout[1] = -0.5: must be in [0, 1)"),
    ('[network]\ndropuot = 0.1', "did you mean 'dropout'?"),
    ('[data]\nfeaturs = ["x1sq"]', "[data] featurs = [\"x1sq\"]: unknown key; allowed: dataset, path, "
                                   "target, val_split, standardize, problem, n_samples, noise, features, inputs, "
                                   "targets; did you mean 'features'?"),
    ('[data]\nfeatures = ["x1q"]', "[data] features = [\"x1q\"]: unknown feature 'x1q'; allowed: x1, x2, "
                                   "x1sq, x2sq, x1x2, sinx1, sinx2; did you mean 'x1sq'?"),
    ('[data]\nfeatures = []', "[data] features = []: at least one feature is needed"),
    ('[data]\nfeatures = ["x1", "x1"]', "feature 'x1' is given twice"),
    ('[data]\nfeatures = "x1sq"', '[data] features = "x1sq": must be a list of feature names'),
    ('[data]\ndataset = "iris"\nfeatures = ["x1sq"]', "[data] features = [\"x1sq\"]: features (x1sq) apply "
                                                      "to data with exactly 2 inputs"),
    ('[training]\npatience = 0', "[training] patience = 0: must be an integer >= 1"),
    ('[training]\npatince = 3', "did you mean 'patience'?"),
    ('[optimizer]\nschedul = {name = "step"}', "did you mean 'schedule'?"),
    ('[optimizer]\nschedule = "cosine"', '[optimizer] schedule = "cosine": must be a table'),
    ('[optimizer.schedule]\nT_max = 3', "[optimizer] schedule = {T_max = 3}: needs a name"),
    ('[optimizer.schedule]\nname = "cosin"', '[optimizer] schedule.name = "cosin": unknown lr schedule; '
                                             "allowed: constant, step, exponential, cosine; did you mean 'cosine'?"),
    ('[optimizer.schedule]\nname = "cosine"', "schedule 'cosine' needs T_max"),
    ('[optimizer.schedule]\nname = "cosine"\nT_max = 0', "[optimizer] schedule.T_max = 0: T_max must be in [1, inf)"),
    ('[optimizer.schedule]\nname = "cosine"\nTmax = 5', "[optimizer] schedule.Tmax = 5: unknown parameter of "
                                                        "schedule 'cosine'; allowed: T_max, eta_min, warmup_epochs, "
                                                        "warmup_start_factor; did you mean 'T_max'?"),
]


@pytest.mark.parametrize("text, expected", NEW_BAD, ids=[b[1][:40] for b in NEW_BAD])
def test_new_keys_are_validated_with_one_line_naming_the_key(text, expected):
    message = problems_of(text)
    assert message.splitlines()[0] == "exp.toml: 1 problem:"
    assert expected in message


def test_schedule_problems_belong_to_the_schedule_field():
    cfg = ExperimentConfig(optimizer=OptimizerConfig(schedule={"name": "cosine", "T_max": -1}))
    [problem] = cfg.validate()
    assert (problem.section, problem.key, problem.field_name) == ("optimizer", "schedule.T_max", "schedule")


def test_overrides_take_the_new_keys():
    cfg = with_overrides(ExperimentConfig(), dataset="circles", features=("x1sq", "x2sq"), l1=0.001,
                         l2=0.01, dropout=(0.1, 0.2), patience=4, noise=0.2, n_samples=120,
                         schedule={"name": "exponential", "gamma": 0.9})
    assert cfg.data.features == ["x1sq", "x2sq"] and cfg.data.noise == 0.2 and cfg.data.n_samples == 120
    assert (cfg.network.l1, cfg.network.l2, cfg.network.dropout) == (0.001, 0.01, [0.1, 0.2])
    assert cfg.training.patience == 4
    assert cfg.optimizer.schedule == {"name": "exponential", "gamma": 0.9}
    round_trip(cfg)
    # Data without 2 raw inputs drops the features; asking for them there is an error.
    assert with_overrides(cfg, dataset="iris").data.features is None
    with pytest.raises(ConfigError, match=r"\[data\] features"):
        with_overrides(ExperimentConfig(), dataset="iris", features=["x1sq"])
    with pytest.raises(ConfigError, match=r"\[network\] l2 = -1: must be >= 0"):
        with_overrides(ExperimentConfig(), l2=-1)
