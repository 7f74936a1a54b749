"""Feature inputs for 2-D data (x1², sin x2, ...): computing them, checking the names, preparing
data with them, and the classic lesson that a network without a hidden layer separates circles
once it is given x1² and x2²."""

import numpy as np
import pytest

from tui_trainer.engine import Network, optimizers
from tui_trainer.engine.datasets import DataError, Dataset, load_dataset
from tui_trainer.engine.features import (
    DEFAULT_FEATURES,
    FEATURES,
    check_features,
    display_names,
    expand,
    feature_names,
)
from tui_trainer.engine.metrics import accuracy
from tui_trainer.engine.preprocess import prepare, train_val_split
from tui_trainer.engine.trainer import Trainer

ALL = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")


def test_the_choices_and_their_display_names():
    assert feature_names() == list(ALL)
    assert DEFAULT_FEATURES == ("x1", "x2")
    assert display_names(ALL) == ["X1", "X2", "X1²", "X2²", "X1·X2", "sin X1", "sin X2"]
    assert all(FEATURES[name][0] == shown for name, shown in zip(ALL, display_names(ALL)))


def test_expand_matches_hand_computed_columns():
    X = np.array([[1.0, 2.0], [-0.5, 3.0], [0.0, -1.5]])
    a, b = X[:, 0], X[:, 1]
    out = expand(X, ALL)
    assert out.shape == (3, 7) and out.dtype == np.float64 and out.flags.c_contiguous
    expected = np.column_stack([a, b, a ** 2, b ** 2, a * b, np.sin(a), np.sin(b)])
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-15)
    assert out[:, 2].tolist() == [1.0, 0.25, 0.0]
    assert out[:, 4].tolist() == [2.0, -1.5, -0.0]
    np.testing.assert_array_equal(expand(X, ["sinx2", "x1"]), np.column_stack([np.sin(b), a]))  # in the given order
    np.testing.assert_array_equal(expand(X), X)  # the default: the raw inputs


@pytest.mark.parametrize("names,match", [
    (["x1", "x3"], r"unknown feature 'x3'; choose from: x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2"),
    (["X1"], "unknown feature 'X1'"),
    ([], "at least one feature"),
    ("", "at least one feature"),
    (["x1sq", "x2", "x1sq"], "feature 'x1sq' is given twice"),
    (3, "must be a list of names"),
])
def test_bad_names_are_clear_value_errors(names, match):
    with pytest.raises(ValueError, match=match):
        check_features(names)


def test_check_features_gives_a_tuple():
    assert check_features(["x1sq", "x2sq"]) == ("x1sq", "x2sq")
    assert check_features("x1sq, x2sq") == ("x1sq", "x2sq")
    assert check_features(("x1",), n_inputs=2) == ("x1",)


@pytest.mark.parametrize("n_inputs", [1, 3, 4])
def test_features_need_exactly_two_raw_inputs(n_inputs):
    with pytest.raises(ValueError, match=f"exactly 2 inputs .*this data has {n_inputs}"):
        check_features(["x1"], n_inputs=n_inputs)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        expand(np.ones((5, n_inputs)), ["x1"])
    with pytest.raises(ValueError, match="2-D array"):
        expand(np.ones(5), ["x1"])


# --- prepare with features ----------------------------------------------------------------------


@pytest.mark.parametrize("dataset,dtype", [("circles", np.float64), ("xor", np.float32), ("plane", np.float64)])
def test_default_features_are_bit_identical_to_the_raw_inputs(dataset, dtype):
    ds = load_dataset(dataset, n_samples=100, seed=2)
    before = prepare(ds, val_split=0.25, seed=2, dtype=dtype)
    after = prepare(ds, val_split=0.25, seed=2, dtype=dtype, features=("x1", "x2"))
    for name in ("X_train", "Y_train", "X_val", "Y_val", "y_train", "y_val"):
        a, b = getattr(before, name), getattr(after, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    assert before.standardizer.mean.tobytes() == after.standardizer.mean.tobytes()
    assert before.standardizer.std.tobytes() == after.standardizer.std.tobytes()
    assert before.features is None and after.features == ("x1", "x2")
    assert before.feature_names == ["x1", "x2"] and after.feature_names == ["X1", "X2"]
    assert before.n_inputs == after.n_inputs == 2


def test_prepare_computes_the_features_before_standardizing_with_training_statistics():
    ds = load_dataset("circles", n_samples=120, seed=1)
    names = ("x1sq", "x2sq", "x1x2", "sinx1")
    data = prepare(ds, val_split=0.25, seed=1, features=names)
    assert data.features == names and data.feature_names == ["X1²", "X2²", "X1·X2", "sin X1"]
    assert data.X_train.shape == (90, 4) and data.X_val.shape == (30, 4) and data.n_inputs == 4
    train, val = train_val_split(ds.y, 0.25, seed=1, stratify=True)
    X = expand(ds.X, names)
    np.testing.assert_array_equal(data.standardizer.mean, X[train].mean(axis=0))  # training rows only
    np.testing.assert_array_equal(data.standardizer.std, X[train].std(axis=0))
    assert not np.allclose(data.standardizer.mean, X.mean(axis=0))
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.X_train.std(axis=0), 1.0)
    np.testing.assert_allclose(data.X_val, (X[val] - X[train].mean(axis=0)) / X[train].std(axis=0))
    # raw rows (a grid over x1, x2, say) map to the network's inputs the same way
    np.testing.assert_array_equal(data.inputs(ds.X[val]), data.X_val)
    np.testing.assert_array_equal(data.expand(ds.X[:3]), X[:3])


def test_inputs_follow_the_training_dtype():
    ds = load_dataset("moons", n_samples=40)
    data = prepare(ds, dtype=np.float32, features=["x1sq"])
    assert data.inputs(ds.X).dtype == np.float32 and data.inputs(ds.X).shape == (40, 1)
    raw = prepare(ds)
    assert raw.inputs(ds.X).tobytes() == np.ascontiguousarray(raw.standardizer.transform(ds.X)).tobytes()


@pytest.mark.parametrize("features,match", [
    (["x1", "nope"], "circles: unknown feature 'nope'; choose from: x1, x2"),
    ([], "at least one feature"),
    (["x2", "x2"], "given twice"),
])
def test_prepare_refuses_bad_features(features, match):
    with pytest.raises(DataError, match=match):
        prepare(load_dataset("circles", n_samples=20), features=features)


@pytest.mark.parametrize("dataset", ["sine", "iris"])
def test_prepare_refuses_features_for_data_not_in_two_inputs(dataset):
    ds = load_dataset(dataset)
    with pytest.raises(DataError, match=f"{dataset}: features .*exactly 2 inputs .*this data has {ds.X.shape[1]}"):
        prepare(ds, features=["x1"])
    assert prepare(ds).features is None  # without features, as before


def test_a_feature_too_large_to_train_on_is_a_data_error():
    X = np.array([[1e60, 0.0], [1.0, 2.0], [3.0, 1.0], [2.0, 2.0]])
    ds = Dataset("big", X, np.array([0, 1, 0, 1]), "binary", ["a", "b"], "t", ["n", "y"])
    prepare(ds, features=["x1", "x2"])  # the raw values are fine
    with pytest.raises(DataError, match=r"big: feature X1², sample 1: 1e\+120 is too large"):
        prepare(ds, features=["x1sq", "x2"])


# --- the lesson -----------------------------------------------------------------------------------


def val_accuracy(features, epochs=300) -> float:
    ds = load_dataset("circles", seed=0)
    data = prepare(ds, val_split=0.2, seed=0, features=features)
    net = Network(layer_sizes=[len(features), 1], activations=["sigmoid"], seed=0)
    trainer = Trainer(net, optimizers.create("adam", lr=0.05), data, loss="bce", batch_size="full", seed=0)
    trainer.run(epochs)
    return accuracy(net.forward(data.X_val), data.y_val, "binary")


def test_squares_let_a_network_without_hidden_layers_separate_circles():
    assert val_accuracy(("x1sq", "x2sq")) >= 0.95
    assert val_accuracy(("x1", "x2")) <= 0.65  # a straight line in x1, x2: near chance
