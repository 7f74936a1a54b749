"""The dataset registry: synthetic generators, options, and the bundled sample CSVs."""

import subprocess
import sys

import numpy as np
import pytest

from tui_trainer.engine.datasets import (
    DATASETS,
    DataError,
    Dataset,
    dataset_names,
    load_dataset,
    sample_data_dir,
)

SYNTHETIC = [name for name, info in DATASETS.items() if info.kind == "synthetic"]
SAMPLES = [name for name, info in DATASETS.items() if info.kind == "sample"]
INPUT_DIMS = {"sine": 1}


def test_registry_lists_every_dataset():
    assert dataset_names() == list(DATASETS)
    assert set(SYNTHETIC) == {"xor", "circles", "moons", "spiral", "gaussians", "linear",
                              "sine", "plane", "multi_gaussian"}
    assert set(SAMPLES) == {"iris", "wine", "breast_cancer", "digits"}
    for info in DATASETS.values():
        assert info.description and callable(info.loader)
        assert info.problem in ("binary", "multiclass", "regression")


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_shape_and_problem(name):
    info = DATASETS[name]
    ds = load_dataset(name)
    assert isinstance(ds, Dataset)
    assert ds.name == name and ds.problem == info.problem and ds.description
    d = INPUT_DIMS.get(name, 2)
    assert ds.X.shape == (info.n_samples, d) and ds.X.dtype == np.float64
    assert len(ds.feature_names) == d
    assert np.isfinite(ds.X).all()
    if ds.problem == "regression":
        assert ds.y.shape == (info.n_samples,) and ds.y.dtype == np.float64
        assert ds.class_names == [] and ds.num_classes == 0 and ds.n_outputs == 1
    else:
        assert ds.y.dtype == np.int64
        assert set(np.unique(ds.y)) == set(range(ds.num_classes))  # every class is present
        assert len(ds.class_names) == ds.num_classes >= 2
        assert ds.n_outputs == (1 if ds.problem == "binary" else ds.num_classes)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_is_seeded(name):
    a, b, c = load_dataset(name, seed=1), load_dataset(name, seed=1), load_dataset(name, seed=2)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_n_samples_and_noise_options(name):
    small = load_dataset(name, n_samples=37)
    assert small.X.shape[0] == small.y.shape[0] == 37
    quiet, loud = load_dataset(name, noise=0.0), load_dataset(name, noise=0.5)
    assert not np.array_equal(quiet.X, loud.X) or not np.array_equal(quiet.y, loud.y)


def test_noise_zero_puts_xor_points_on_the_corners():
    ds = load_dataset("xor", noise=0)
    assert set(map(tuple, ds.X)) == {(1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0)}
    opposite = ds.X[:, 0] * ds.X[:, 1] < 0
    assert np.array_equal(ds.y, opposite.astype(np.int64))


def test_noise_zero_sine_is_exact():
    ds = load_dataset("sine", noise=0.0)
    assert np.all(np.abs(ds.X) <= np.pi)
    np.testing.assert_array_equal(ds.y, np.sin(ds.X[:, 0]))


def test_binary_sets_are_balanced():
    for name in ("xor", "circles", "moons", "spiral"):
        assert np.bincount(load_dataset(name, n_samples=101).y).tolist() == [51, 50]


def test_linear_is_linearly_separable():
    ds = load_dataset("linear")
    X = np.column_stack([ds.X, np.ones(len(ds.X))])
    target = np.where(ds.y == 1, 1.0, -1.0)
    w = np.zeros(3)
    for _ in range(1000):  # the perceptron converges only on separable data
        wrong = np.flatnonzero(target * (X @ w) <= 0)
        if len(wrong) == 0:
            break
        w += target[wrong[0]] * X[wrong[0]]
    assert len(wrong) == 0


def test_gaussians_classes_option():
    ds = load_dataset("gaussians", classes=5, n_samples=50)
    assert ds.problem == "multiclass" and ds.num_classes == 5 and ds.n_outputs == 5
    assert np.bincount(ds.y).tolist() == [10] * 5
    assert load_dataset("gaussians").num_classes == DATASETS["gaussians"].options["classes"].default
    with pytest.raises(DataError, match="classes must be an integer >= 2"):
        load_dataset("gaussians", classes=1)
    with pytest.raises(DataError, match="must not exceed n_samples"):
        load_dataset("gaussians", classes=9, n_samples=8)


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(DataError, match=r"unknown dataset 'foo'; choose one of: xor, circles, "):
        load_dataset("foo")


def test_unknown_option():
    with pytest.raises(DataError, match=r"dataset 'xor' has no option 'classes'"):
        load_dataset("xor", classes=3)
    with pytest.raises(DataError, match=r"no option 'colour'.*classes"):
        load_dataset("gaussians", colour=3)


@pytest.mark.parametrize("value", [3, 0, -5, 4.5, True, "10"])
def test_bad_n_samples(value):
    with pytest.raises(DataError, match="n_samples must be an integer >= 4"):
        load_dataset("moons", n_samples=value)


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_bad_noise(value):
    with pytest.raises(DataError, match="noise must be a finite number >= 0"):
        load_dataset("moons", noise=value)


def test_bad_seed():
    with pytest.raises(DataError, match="seed must be an integer >= 0"):
        load_dataset("moons", seed=-1)


EXPECTED_SAMPLES = {  # name: (rows, features, class counts in class-index order, problem)
    "iris": (150, 4, [50, 50, 50], "multiclass"),
    "wine": (178, 13, [59, 71, 48], "multiclass"),
    "breast_cancer": (569, 30, [357, 212], "binary"),
    "digits": (1797, 64, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180], "multiclass"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_SAMPLES))
def test_sample_sets(name):
    rows, features, counts, problem = EXPECTED_SAMPLES[name]
    ds = load_dataset(name)
    assert ds.X.shape == (rows, features) and ds.y.shape == (rows,)
    assert ds.problem == problem == DATASETS[name].problem
    assert np.bincount(ds.y).tolist() == counts
    assert ds.target_name == "target" and len(ds.feature_names) == features
    assert ds.description == DATASETS[name].description


def test_sample_class_names_keep_the_label_text():
    assert load_dataset("iris").class_names == ["setosa", "versicolor", "virginica"]
    assert load_dataset("wine").class_names == ["class_0", "class_1", "class_2"]
    assert load_dataset("breast_cancer").class_names == ["benign", "malignant"]
    digits = load_dataset("digits")
    assert digits.class_names == [str(i) for i in range(10)]
    assert digits.feature_names[0] == "pixel_0_0" and digits.feature_names[-1] == "pixel_7_7"
    assert np.array_equal(digits.X, np.round(digits.X)) and digits.X.max() == 16


def test_sample_values_are_exact():
    iris = load_dataset("iris")
    assert iris.X[0].tolist() == [5.1, 3.5, 1.4, 0.2]


@pytest.mark.parametrize("option", ["n_samples", "noise"])
def test_sample_sets_refuse_generator_options(option):
    with pytest.raises(DataError, match=f"{option} applies to synthetic datasets only"):
        load_dataset("iris", **{option: 100})


def test_sample_data_dir_holds_the_csvs():
    folder = sample_data_dir()
    for name in SAMPLES:
        assert (folder / f"{name}.csv").is_file()


def test_no_ui_or_sklearn_imports():
    code = (
        "import sys\n"
        "import tui_trainer.engine.datasets, tui_trainer.engine.preprocess, tui_trainer.engine.metrics\n"
        "bad = {'textual', 'rich', 'click', 'plotext', 'sklearn', 'pandas'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
