"""Backprop written out (``experiments.backprop``, ``nn-tui backprop``): a published worked example
digit for digit, an independent hand computation, and the step training itself takes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tui_trainer.cli import main
from tui_trainer.experiments.backprop import first_step, trace_lines
from tui_trainer.experiments.config import loads_config
from tui_trainer.experiments.experiment import Experiment

MAZUR = Path(__file__).resolve().parent.parent / "sample_data" / "mazur.toml"

# Matt Mazur, "A Step by Step Backpropagation Example", with each number as printed there.
# His w1, w2 go from i1, i2 to h1 (W1's first column), w3, w4 to h2; w5, w6 from h1, h2 to o1
# (W2's first column), w7, w8 to o2.
PUBLISHED = {
    "out_h1": ("0.593269992", lambda j: j["layers"][0]["a"][0][0]),
    "out_h2": ("0.596884378", lambda j: j["layers"][0]["a"][0][1]),
    "out_o1": ("0.75136507", lambda j: j["layers"][1]["a"][0][0]),
    "out_o2": ("0.772928465", lambda j: j["layers"][1]["a"][0][1]),
    "E_total": ("0.298371109", lambda j: j["loss"]),
    "w5": ("0.35891648", lambda j: j["layers"][1]["W_new"][0][0]),
    "w6": ("0.408666186", lambda j: j["layers"][1]["W_new"][1][0]),
    "w7": ("0.511301270", lambda j: j["layers"][1]["W_new"][0][1]),
    "w8": ("0.561370121", lambda j: j["layers"][1]["W_new"][1][1]),
    "w1": ("0.149780716", lambda j: j["layers"][0]["W_new"][0][0]),
    "w2": ("0.19956143", lambda j: j["layers"][0]["W_new"][1][0]),
    "w3": ("0.24975114", lambda j: j["layers"][0]["W_new"][0][1]),
    "w4": ("0.29950229", lambda j: j["layers"][0]["W_new"][1][1]),
}


def test_mazurs_worked_example_is_reproduced_digit_for_digit():
    result = CliRunner().invoke(main, ["backprop", "--config", str(MAZUR), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert set(data) == {"loss", "layers"} and len(data["layers"]) == 2
    assert all(set(layer) == {"W", "b", "z", "a", "delta", "dW", "db", "W_new", "b_new"} for layer in data["layers"])
    for name, (printed, read) in PUBLISHED.items():
        decimals = len(printed.split(".")[1])
        assert f"{read(data):.{decimals}f}" == printed, name
    assert data["layers"][0]["W"] == [[0.15, 0.25], [0.2, 0.3]]  # the engine's layout: rows = inputs


def test_the_text_fits_80_columns_and_shows_sigmoids_factor():
    result = CliRunner().invoke(main, ["backprop", "--config", str(MAZUR)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    text = result.output
    for expected in ("z1 = a0 W1 + b1", "[0.593269992  0.596884378]", "LOSS: mse = 0.298371109",
                     "f'(z1) = a (1 - a), at most 1/4", "delta1 = dL/da1 * f'(z1)", "dL/da1 = delta2 W2^T",
                     "dW1 = a0^T delta1", "[ 0.35891648   0.51130127]", "largest difference 0.0e+00"):
        assert expected in text, expected


def test_without_a_config_it_says_what_to_give():
    result = CliRunner().invoke(main, ["backprop"])
    assert result.exit_code != 0
    assert result.output.strip() == "Error: give --config FILE (e.g. sample_data/mazur.toml) or --preset NAME"


def _hand(X, Y, Ws, bs, hidden, lr):
    """The step by hand: tanh hidden layers, a linear output, mse (mean over every value), plain SGD."""
    a, As, Zs = X, [X], []
    for i, (W, b) in enumerate(zip(Ws, bs)):
        z = a.dot(W) + b
        a = np.tanh(z) if i < len(Ws) - 1 else z
        Zs.append(z)
        As.append(a)
    loss = ((a - Y) ** 2).mean()
    g = 2 * (a - Y) / Y.size
    deltas = [None] * len(Ws)
    for i in reversed(range(len(Ws))):
        fp = 1 - np.tanh(Zs[i]) ** 2 if i < len(Ws) - 1 else np.ones_like(Zs[i])
        deltas[i] = g * fp
        g = deltas[i].dot(Ws[i].T)
    dWs = [As[i].T.dot(deltas[i]) for i in range(len(Ws))]
    dbs = [d.sum(axis=0) for d in deltas]
    return loss, Zs, As[1:], deltas, dWs, dbs, [W - lr * d for W, d in zip(Ws, dWs)], [b - lr * d for b, d in zip(bs, dbs)]


def test_each_number_agrees_with_an_independent_hand_computation():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    Ws = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]
    bs = [rng.normal(size=4), rng.normal(size=2)]
    text = (f"[data]\nval_split = 0\ninputs = {X.tolist()}\ntargets = {Y.tolist()}\n"
            f"[network]\nhidden = [4]\nactivation = \"tanh\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n"
            f"[training]\nbatch_size = \"full\"\n[weights]\nW1 = {Ws[0].tolist()}\nb1 = {bs[0].tolist()}\n"
            f"W2 = {Ws[1].tolist()}\nb2 = {bs[1].tolist()}\n")
    trace = first_step(loads_config(text))
    np.testing.assert_array_equal(trace.X, X)  # inline data: the rows as typed, in their order
    np.testing.assert_array_equal(trace.Y, Y)
    loss, Zs, As, deltas, dWs, dbs, W_new, b_new = _hand(X, Y, Ws, bs, [4], 0.1)
    assert trace.loss == pytest.approx(loss, rel=1e-12)
    for i, layer in enumerate(trace.layers):
        for got, want in ((layer.z, Zs[i]), (layer.a, As[i]), (layer.delta, deltas[i]), (layer.dW, dWs[i]),
                          (layer.db, dbs[i]), (layer.W_new, W_new[i]), (layer.b_new, b_new[i])):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert trace.engine_difference < 1e-14


@pytest.mark.parametrize("preset_text", [
    '[data]\ndataset = "moons"\n[network]\nhidden = [8, 8]\nactivation = "sigmoid"\n[optimizer]\nname = "adam"\nlr = 0.01\n[training]\nbatch_size = 16\nseed = 4\n',
    '[data]\ndataset = "gaussians"\n[network]\nhidden = [6]\nactivation = "relu"\n[optimizer]\nname = "momentum"\n[training]\nbatch_size = 32\n',
    '[data]\ndataset = "moons"\n[network]\nhidden = [5]\nactivation = "tanh"\nl2 = 0.01\n[optimizer]\nname = "sgd"\nlr = 0.3\n[training]\nbatch_size = "full"\n',
])
def test_the_new_weights_are_those_the_first_training_step_makes(preset_text):
    cfg = loads_config(preset_text)
    trace = first_step(cfg)
    exp = Experiment.from_config(cfg)
    exp.trainer.step()
    for i, layer in enumerate(trace.layers):
        np.testing.assert_array_equal(layer.W_new, exp.net.weights[i])
        np.testing.assert_array_equal(layer.b_new, exp.net.biases[i])
        assert trace.engine_difference < 1e-12
    lines = trace_lines(trace)
    assert max(len(line) for line in lines) <= 80
