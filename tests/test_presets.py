"""The presets: each builds, and each shows what it promises, measured on the engine; the CLI reaches them."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from tui_trainer.cli import main
from tui_trainer.engine import inspect as insp
from tui_trainer.experiments.experiment import Experiment
from tui_trainer.experiments.presets import PRESETS, get_preset, preset_names
from tui_trainer.experiments.session import default_config


def invoke(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_is_a_valid_experiment(name):
    cfg = get_preset(name)
    cfg.check()
    assert get_preset(name) is not cfg  # a fresh config each time
    exp = Experiment.from_config(cfg)
    assert exp.net.n_layers >= 1
    assert PRESETS[name].description


def test_spiral_tanh_is_the_default():
    assert get_preset("spiral-tanh") == default_config()


def test_unknown_preset_names_the_presets():
    with pytest.raises(ValueError, match="deep-sigmoid, deep-relu"):
        get_preset("deep")


def gradient_ratios(name: str, steps: int = 10) -> tuple[float, list[float]]:
    """First/last layer weight-gradient ratio at initialisation (full training set) and at the
    first ``steps`` training steps, from the engine."""
    exp = Experiment.from_config(get_preset(name))
    d = exp.data
    at_init = insp.gradient_ratio(insp.layer_gradient_norms(exp.net, d.X_train, d.Y_train, exp.loss))
    ratios: list[float] = []
    exp.trainer.on_step = lambda rec: ratios.append(insp.gradient_ratio(rec.grad_norms))
    while len(ratios) < steps:
        exp.trainer.step()
    return at_init, ratios


def test_deep_sigmoid_gradient_vanishes_and_deep_relu_does_not():
    sig_init, sig_steps = gradient_ratios("deep-sigmoid")
    relu_init, relu_steps = gradient_ratios("deep-relu")
    # The two differ in the activation only.
    a, b = get_preset("deep-sigmoid"), get_preset("deep-relu")
    a.network.activation = b.network.activation
    assert a == b
    assert sig_init < 1e-3 and max(sig_steps) < 1e-3
    assert relu_init > 1e-2 and min(relu_steps) > 1e-2
    assert np.mean(sig_steps) < 1e-3 < 1e-2 < np.mean(relu_steps)


def test_linear_xor_collapses_to_one_matrix_and_cannot_learn_xor_relu_can():
    linear = Experiment.from_config(get_preset("linear-xor"))
    relu = Experiment.from_config(get_preset("relu-xor"))
    X = np.concatenate([linear.data.X_train, linear.data.X_val])
    assert linear.net.dtype == np.float64
    assert insp.linear_collapse(linear.net, X).max_abs_diff < 1e-10
    assert insp.linear_collapse(relu.net, X) is None
    for exp in (linear, relu):
        exp.trainer.run(exp.config.training.epochs)
    assert insp.linear_collapse(linear.net, X).max_abs_diff < 1e-10  # after training too
    final_linear, final_relu = linear.trainer.history[-1], relu.trainer.history[-1]
    assert final_linear.train_metric <= 0.75 and final_linear.val_metric <= 0.75
    assert final_relu.train_metric >= 0.97 and final_relu.val_metric >= 0.97


# -- the command line ---------------------------------------------------------------------------


def test_train_a_preset_headless_with_overrides():
    result = invoke("train", "--preset", "relu-xor", "--epochs", "3", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["dataset"] == "xor" and report["network"] == "2 -> 8 -> 8 -> 8 -> 1"
    assert report["epochs"] == 3 and report["optimizer"] == "adam"


@pytest.mark.parametrize("args", [["train", "--preset", "nope"], ["--preset", "deep"]])
def test_unknown_preset_is_one_error_line_listing_them(args):
    result = invoke(*args)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert all(name in lines[0] for name in PRESETS)


def test_preset_and_config_together_are_refused(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[data]\ndataset = "xor"\n')
    result = invoke("train", "--preset", "relu-xor", "--config", cfg)
    assert result.exit_code != 0 and "not both" in result.output


def test_presets_command_lists_them():
    result = invoke("presets")
    assert result.exit_code == 0
    for name, preset in PRESETS.items():
        assert name in result.output and preset.description in result.output


def test_app_opens_on_a_preset(monkeypatch):
    opened = {}

    class FakeApp:
        return_code = 0

        def __init__(self, config, **kwargs):
            opened["config"] = config

        def run(self):
            opened["ran"] = True

    import tui_trainer.tui.app as app_module

    monkeypatch.setattr(app_module, "NNTuiApp", FakeApp)
    result = invoke("--preset", "deep-sigmoid")
    assert result.exit_code == 0, result.output
    assert opened["ran"] and opened["config"] == get_preset("deep-sigmoid")


# -- generalization: overfitting and its remedies, input features ------------------------------


def test_overfit_and_overfit_fixed_differ_in_l2_only():
    plain, fixed = get_preset("overfit"), get_preset("overfit-fixed")
    assert fixed.network.l2 == 0.01 and plain.network.l2 == 0.0
    fixed.network.l2 = 0.0
    assert plain == fixed


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_overfit_learns_the_noise_and_l2_keeps_the_val_loss_near_its_best(seed):
    """The presets' docstring and the README: at epoch 400 the plain run's validation loss is 1.9-3.9
    (seeds 0-2), L2 0.01 keeps it at 0.30-0.48, within 0.02 of its lowest."""
    runs = {}
    for name in ("overfit", "overfit-fixed"):
        cfg = get_preset(name)
        cfg.training.seed = seed
        exp = Experiment.from_config(cfg)
        exp.trainer.run(cfg.training.epochs)
        runs[name] = (exp.trainer.history[-1], min(r.val_loss for r in exp.trainer.history))
    (last, lowest), (fixed, fixed_lowest) = runs["overfit"], runs["overfit-fixed"]
    assert last.train_loss < 0.05 and 1.8 < last.val_loss < 4.0 and last.val_loss > lowest + 1.0
    assert 0.29 < fixed.val_loss < 0.49 and fixed.val_loss - fixed_lowest < 0.02
    assert fixed.val_loss < last.val_loss / 3


def test_features_circles_separates_the_rings_without_a_hidden_layer():
    exp = Experiment.from_config(get_preset("features-circles"))
    assert exp.net.layer_sizes == (2, 1) and exp.data.feature_names == ["X1²", "X2²"]
    exp.trainer.run(exp.config.training.epochs)
    assert exp.trainer.evaluate()["val_metric"] >= 0.95


@pytest.mark.parametrize("name", ["overfit", "overfit-fixed", "features-circles"])
def test_new_presets_train_a_few_epochs_through_the_cli(name):
    result = invoke("train", "--preset", name, "--epochs", "3", "--json", "--no-record")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["epochs"] == 3 and report["diverged"] is False
    assert ("penalty" in report) == (name == "overfit-fixed")
