"""Splitting, standardizing and encoding, plus the metrics computed on the result."""

import numpy as np
import pytest

from tui_trainer.engine.datasets import DataError, Dataset, load_dataset
from tui_trainer.engine.metrics import accuracy, predict_labels, r2_score
from tui_trainer.engine.preprocess import (
    PreparedData,
    Standardizer,
    distinct,
    encode_targets,
    one_hot,
    prepare,
    train_val_split,
)


def toy(y, problem, class_names, X=None):
    y = np.asarray(y)
    X = np.arange(2.0 * len(y)).reshape(-1, 2) if X is None else X
    return Dataset("toy", X, y, problem, ["a", "b"], "t", class_names)


# --- Standardizer -----------------------------------------------------------------------------


def test_standardizer_centres_and_scales():
    X = np.random.default_rng(0).normal([5.0, -3.0], [2.0, 0.1], (200, 2))
    Z = Standardizer.fit(X).transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0)


def test_constant_feature_does_not_blow_up():
    X = np.column_stack([np.full(10, 0.1), np.arange(10.0)])
    scaler = Standardizer.fit(X)
    assert scaler.std[0] == 1.0
    np.testing.assert_allclose(scaler.transform(X)[:, 0], 0.0, atol=1e-12)  # not 1e-17 / 1e-17


def test_standardizer_checks_shapes():
    with pytest.raises(DataError, match="2 feature columns"):
        Standardizer.fit(np.ones((3, 2))).transform(np.ones((3, 3)))
    with pytest.raises(DataError, match="cannot fit"):
        Standardizer.fit(np.ones((0, 2)))


# --- encoding ----------------------------------------------------------------------------------


def test_one_hot():
    out = one_hot(np.array([2, 0, 1, 2]), 3)
    assert out.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert out.dtype == np.float64
    assert one_hot(np.array([1]), 2, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("labels", [[0, 3], [-1, 0], [0.0, 1.0], [[0, 1]]])
def test_one_hot_rejects_bad_labels(labels):
    with pytest.raises(ValueError):  # DataError is a ValueError
        one_hot(np.array(labels), 3)


def test_encode_targets_per_problem():
    assert encode_targets(toy([1, 0, 1], "binary", ["n", "y"])).tolist() == [[1], [0], [1]]
    multi = toy([2, 0, 1], "multiclass", ["a", "b", "c"])
    assert encode_targets(multi).tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    assert encode_targets(multi, np.array([1])).tolist() == [[0, 1, 0]]
    reg = toy([0.5, 1.5, 2.5], "regression", [])
    assert encode_targets(reg).shape == (3, 1)
    reg2 = toy(np.ones((3, 2)), "regression", [])
    assert encode_targets(reg2, dtype=np.float32).shape == (3, 2)
    assert reg2.n_outputs == 2


# --- splitting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [[3, 1, 2, 3, 1], ["b", "a", "b"], [], [[2, 0], [0, 1]], [5]])
def test_distinct_is_what_np_unique_gives(values):
    np.testing.assert_array_equal(distinct(np.array(values)), np.unique(np.array(values)))


def test_split_partitions_the_rows():
    train, val = train_val_split(100, 0.25, seed=0, stratify=False)
    assert len(train) == 75 and len(val) == 25
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(100))


def test_split_is_seeded():
    a = train_val_split(50, 0.2, seed=3, stratify=False)
    b = train_val_split(50, 0.2, seed=3, stratify=False)
    c = train_val_split(50, 0.2, seed=4, stratify=False)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[1], c[1])


def test_zero_val_split_means_no_validation_set():
    train, val = train_val_split(np.array([0, 1, 0, 1]), 0.0, seed=0, stratify=True)
    assert len(train) == 4 and len(val) == 0


@pytest.mark.parametrize("value", [1.0, -0.1, 1.5, float("nan"), "0.2", True])
def test_bad_val_split(value):
    with pytest.raises(DataError, match=r"val_split must be a number in \[0, 1\)"):
        train_val_split(10, value, seed=0, stratify=False)


def test_stratified_split_keeps_proportions():
    y = np.repeat([0, 1, 2], [100, 50, 10])
    train, val = train_val_split(y, 0.2, seed=0, stratify=True)
    assert np.bincount(y[val]).tolist() == [20, 10, 2]
    assert np.bincount(y[train]).tolist() == [80, 40, 8]


def test_every_class_keeps_a_training_sample():
    y = np.array([0] * 10 + [1])
    train, val = train_val_split(y, 0.5, seed=0, stratify=True)
    assert 1 in y[train] and 1 not in y[val]


def test_stratify_needs_labels():
    with pytest.raises(DataError, match="needs the labels"):
        train_val_split(10, 0.2, seed=0, stratify=True)


# --- prepare -----------------------------------------------------------------------------------


def test_prepare_uses_training_statistics_only():
    ds = load_dataset("moons")
    data = prepare(ds, val_split=0.25, seed=5)
    assert isinstance(data, PreparedData) and data.dataset is ds
    train, val = train_val_split(ds.y, 0.25, seed=5, stratify=True)
    np.testing.assert_array_equal(data.standardizer.mean, ds.X[train].mean(axis=0))
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0.0, atol=1e-12)
    assert np.all(np.abs(data.X_val.mean(axis=0)) > 1e-6)  # not refitted on the val rows
    np.testing.assert_array_equal(data.y_val, ds.y[val])


def test_prepare_classification_shapes_and_dtype():
    data = prepare(load_dataset("iris"), val_split=0.2, seed=0, dtype=np.float32)
    assert data.X_train.shape == (120, 4) and data.X_val.shape == (30, 4)
    assert data.Y_train.shape == (120, 3) and data.Y_val.shape == (30, 3)
    assert np.bincount(data.y_val).tolist() == [10, 10, 10]
    for arr in (data.X_train, data.Y_train, data.X_val, data.Y_val):
        assert arr.dtype == np.float32 and arr.flags.c_contiguous
    assert np.array_equal(data.Y_train.argmax(axis=1), data.y_train)


def test_prepare_binary_and_regression_targets():
    binary = prepare(load_dataset("circles"))
    assert binary.Y_train.shape == (len(binary.y_train), 1)
    assert np.array_equal(binary.Y_train[:, 0], binary.y_train)
    reg = prepare(load_dataset("sine"), val_split=0.0)
    assert reg.Y_train.shape == (400, 1) and reg.X_val.shape == (0, 1) and reg.Y_val.shape == (0, 1)


def test_prepare_names_the_network_inputs():
    ds = load_dataset("iris")
    data = prepare(ds)
    assert data.features is None and data.feature_names == list(ds.feature_names) and data.n_inputs == 4
    np.testing.assert_array_equal(data.inputs(ds.X[:5]), data.standardizer.transform(ds.X[:5]))
    squares = prepare(load_dataset("circles"), features=["x1sq", "x2sq"])
    assert squares.feature_names == ["X1²", "X2²"] and squares.X_train.shape[1] == squares.n_inputs == 2


def test_prepare_rejects_integer_dtype():
    with pytest.raises(DataError, match="floating-point"):
        prepare(load_dataset("xor"), dtype=np.int32)


# --- metrics -----------------------------------------------------------------------------------


def test_accuracy():
    assert accuracy(np.array([[0.9], [0.2], [0.5], [0.49]]), np.array([1, 0, 1, 1]), "binary") == 0.75
    probs = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
    assert accuracy(probs, np.array([1, 2]), "multiclass") == 0.5
    assert predict_labels(probs, "multiclass").tolist() == [1, 0]
    assert np.isnan(accuracy(np.zeros((0, 1)), np.zeros(0), "binary"))
    with pytest.raises(ValueError, match="classification"):
        accuracy(probs, np.array([1, 2]), "regression")


def test_r2_score():
    Y = np.array([[1.0], [2.0], [3.0]])
    assert r2_score(Y, Y) == 1.0
    assert r2_score(np.full((3, 1), 2.0), Y) == 0.0
    assert r2_score(np.array([[1.0], [2.0], [4.0]]), Y.ravel()) == pytest.approx(0.5)
    assert r2_score(np.full((3, 1), 5.0), np.full(3, 5.0)) == 1.0  # constant target, perfect fit
    assert r2_score(np.full((3, 1), 4.0), np.full(3, 5.0)) == 0.0  # constant target, guarded
