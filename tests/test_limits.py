"""Every input bounded before anything is allocated: counts, files, labels, data and memory.

Nothing here allocates much: limits are checked by arithmetic, large files are simulated by
lowering a limit, and anything that could hang or read without end (a FIFO, /dev/zero) runs in
a child process with a timeout and a memory limit, so a regression fails instead of hanging.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tui_trainer.experiments import budget, files
from tui_trainer.experiments.budget import (
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_HIDDEN_LAYERS,
    MAX_HIDDEN_WIDTH,
    MAX_SEED,
    BudgetError,
    check_budget,
    estimate,
    memory_budget,
    parse_size,
)
from tui_trainer.cli import main
from tui_trainer.experiments.config import (
    MAX_CONFIG_BYTES,
    ConfigError,
    DataConfig,
    ExperimentConfig,
    NetworkConfig,
    TrainingConfig,
    load_config,
    loads_config,
    with_overrides,
)
from tui_trainer.engine import csvdata
from tui_trainer.engine.csvdata import DataError, Dataset, file_problem, load_csv
from tui_trainer.engine.datasets import (
    DATASETS,
    MAX_CLASSES,
    MAX_NOISE,
    MAX_SAMPLES,
    dataset_shape,
    load_dataset,
)
from tui_trainer.engine.preprocess import MAX_ABS_VALUE, prepare

GiB = 2**30


# --- helpers ------------------------------------------------------------------------------------


def invoke(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return CliRunner().invoke(main, [str(a) for a in args])


def error_line(result, *fragments) -> str:
    """A failed command that printed one line, ``Error: ...``, holding every fragment."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: "), lines[0]
    for fragment in fragments:
        assert str(fragment) in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def problems(cfg: ExperimentConfig) -> list[str]:
    return [str(p) for p in cfg.validate()]


def one_problem(cfg: ExperimentConfig, *fragments) -> str:
    found = problems(cfg)
    assert len(found) == 1, found
    for fragment in fragments:
        assert fragment in found[0], f"{fragment!r} not in {found[0]!r}"
    return found[0]


def write(path: Path, content) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


# --- 1. every count a user can type has a limit -------------------------------------------------


def test_hidden_width_limit_names_the_key():
    one_problem(ExperimentConfig(network=NetworkConfig(hidden=[16, MAX_HIDDEN_WIDTH + 1])),
                "[network] hidden[1] = 4097", f"at most {MAX_HIDDEN_WIDTH}")
    assert problems(ExperimentConfig(network=NetworkConfig(hidden=[MAX_HIDDEN_WIDTH]))) == []


def test_too_many_hidden_layers_is_one_short_problem():
    found = one_problem(ExperimentConfig(network=NetworkConfig(hidden=[0] * 100_000)),
                        "[network] hidden", f"at most {MAX_HIDDEN_LAYERS} hidden layers", "100,000")
    assert len(found) < 300
    cfg = ExperimentConfig(network=NetworkConfig(hidden=[4] * 40, activations=["nope"] * 40))
    assert len(problems(cfg)) <= 3


def test_a_long_list_of_problems_is_cut_short():
    text = "[data]\n" + "".join(f"k{i} = 1\n" for i in range(500))
    with pytest.raises(ConfigError) as info:
        loads_config(text, source="big.toml")
    assert len(info.value.problems) == 500
    assert len(str(info.value).splitlines()) < 30 and "more" in str(info.value)


@pytest.mark.parametrize("section, key, value, fragment", [
    ("data", "n_samples", MAX_SAMPLES + 1, f"at most {MAX_SAMPLES:,}"),
    ("data", "noise", 1e308, f"at most {MAX_NOISE:g}"),
    ("training", "epochs", MAX_EPOCHS + 1, "at most"),
    ("training", "batch_size", MAX_BATCH_SIZE + 1, "at most"),
    ("training", "seed", MAX_SEED + 1, "at most"),
])
def test_counts_have_a_maximum_named_by_key(section, key, value, fragment):
    cfg = ExperimentConfig()
    setattr(getattr(cfg, section), key, value)
    one_problem(cfg, f"[{section}] {key} = ", fragment)


def test_the_limits_themselves_are_allowed():
    cfg = ExperimentConfig(
        data=DataConfig("gaussians", n_samples=MAX_SAMPLES, noise=MAX_NOISE, options={"classes": MAX_CLASSES}),
        training=TrainingConfig(epochs=MAX_EPOCHS, batch_size=MAX_BATCH_SIZE, seed=MAX_SEED),
    )
    assert problems(cfg) == []


def test_gaussian_classes_name_the_key():
    cfg = ExperimentConfig(data=DataConfig("gaussians", options={"classes": 1_000_000_000}))
    one_problem(cfg, "[data] classes = 1000000000: at most 100")
    cfg = ExperimentConfig(data=DataConfig("gaussians", n_samples=40, options={"classes": 50}))
    one_problem(cfg, "[data] classes = 50", "n_samples = 40")
    cfg = ExperimentConfig(data=DataConfig("gaussians", options={"classes": 100}))  # default n_samples 400
    assert problems(cfg) == []


def test_loaders_refuse_before_allocating():
    with pytest.raises(DataError, match=r"n_samples = 100000000: at most 1,000,000"):
        load_dataset("moons", n_samples=100_000_000)
    with pytest.raises(DataError, match=r"classes = 1000000000: at most 100"):
        load_dataset("gaussians", classes=1_000_000_000)
    with pytest.raises(DataError, match=r"classes = 9 must not exceed n_samples = 8"):
        load_dataset("gaussians", classes=9, n_samples=8)
    with pytest.raises(DataError, match=r"noise = 1e\+308: at most 1000"):
        load_dataset("sine", noise=1e308)


def test_cli_hidden_names_the_option():
    error_line(invoke("train", "--hidden", "3000000000", "--epochs", "1"), "--hidden 3000000000", "at most 4096")


def test_cli_noise_in_a_config_names_the_key(tmp_path):
    config = write(tmp_path / "n.toml", '[data]\ndataset = "moons"\nnoise = 1e308\n')
    error_line(invoke("train", "--config", config), "n.toml", "[data] noise = 1e+308", "at most 1000")


@pytest.mark.parametrize("args, fragment", [
    (("sweep", "--optimizer", "sgd", "--points", "100000000"), "--points"),
    (("sweep", "--optimizer", "sgd", "--epochs", "1000000000"), "--epochs"),
    (("surface", "--steps", "1000000000"), "--steps"),
    (("compare", "--epochs", "1000000000"), "--epochs"),
    (("compare", "--optimizers", ",".join(["sgd"] * 100)), "--optimizers"),
    (("compare", "--optimizers", "sgd", "--batch-modes", ",".join(["8"] * 100)), "--batch-modes"),
    (("surface", "--optimizers", ",".join(["adam"] * 100)), "--optimizers"),
])
def test_lab_counts_are_bounded(args, fragment):
    error_line(invoke(*args), fragment)


# --- 2. the memory budget -----------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("512M", 512 * 2**20), ("4G", 4 * GiB), ("4g", 4 * GiB), ("1.5G", 3 * GiB // 2), ("16GiB", 16 * GiB),
    ("2048", 2048), ("100K", 102_400), ("1T", 2**40), (" 8GB ", 8 * GiB),
])
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "4X", "-1G", "0", "G", "nan", "inf", "1e400", "4 G B"])
def test_parse_size_refuses(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_budget_from_the_environment(monkeypatch):
    monkeypatch.setenv("NN_TUI_MEMORY_BUDGET", "3G")
    got = memory_budget()
    assert got.nbytes == 3 * GiB and "NN_TUI_MEMORY_BUDGET=3G" in got.source
    monkeypatch.setenv("NN_TUI_MEMORY_BUDGET", "lots")
    with pytest.raises(BudgetError) as info:
        memory_budget()
    assert "NN_TUI_MEMORY_BUDGET" in str(info.value) and "'lots'" in str(info.value)
    assert "\n" not in str(info.value)


def test_default_budget_is_half_the_machine(monkeypatch):
    monkeypatch.delenv("NN_TUI_MEMORY_BUDGET", raising=False)
    values = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 8 * GiB // 4096}
    monkeypatch.setattr(budget.os, "sysconf", lambda name: values[name])
    monkeypatch.setattr(budget, "_cgroup_limit", lambda: None)
    got = memory_budget()
    assert got.nbytes == 4 * GiB and "half of this machine's 8.0 GiB" in got.source
    monkeypatch.setattr(budget, "_cgroup_limit", lambda: 2 * GiB)
    assert memory_budget().nbytes == GiB

    def broken(name):
        raise OSError("no sysconf")

    monkeypatch.setattr(budget.os, "sysconf", broken)
    monkeypatch.setattr(budget, "_cgroup_limit", lambda: None)
    assert memory_budget().nbytes == budget.FALLBACK_BUDGET


def test_an_explicit_budget_wins(monkeypatch):
    monkeypatch.setenv("NN_TUI_MEMORY_BUDGET", "lots")  # not even read
    budget.set_budget(parse_size("2G"), "--memory-budget 2G")
    try:
        got = memory_budget()
        assert got.nbytes == 2 * GiB and got.source == "--memory-budget 2G"
    finally:
        budget.set_budget(None)


def test_estimate_counts_every_part():
    cfg = ExperimentConfig(network=NetworkConfig(hidden=[16, 16]), training=TrainingConfig(batch_size=32))
    est = estimate(cfg, 400, 2, 1)
    n_params = 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert est.parameters >= 2 * n_params * 8  # the weights and the last good copy
    assert est.gradients == n_params * 8
    assert est.optimizer == (3 + 2) * n_params * 8  # adam: exp_avg, exp_avg_sq, max_exp_avg_sq + scratch
    assert est.data > 400 * 3 * 8 and est.activations > 320 * 33 * 8
    assert est.total == est.data + est.parameters + est.gradients + est.optimizer + est.activations
    sgd = with_overrides(cfg, optimizer="sgd", dtype="float32")
    assert estimate(sgd, 400, 2, 1).optimizer == (1 + 2) * n_params * 4


def test_estimate_bounds_what_training_really_allocates():
    cfg = ExperimentConfig(data=DataConfig("gaussians", n_samples=3000, options={"classes": 5}),
                           network=NetworkConfig(hidden=[64, 64]),
                           training=TrainingConfig(epochs=2, batch_size=100))
    from tui_trainer.experiments.experiment import Experiment

    Experiment.from_config(ExperimentConfig()).trainer.run(1)  # modules imported on first use are no part of it
    tracemalloc.start()
    try:
        exp = Experiment.from_config(cfg)
        exp.trainer.run(2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    est = estimate(cfg, 3000, 2, 5)
    assert peak <= est.total <= 4 * peak, (peak, est)


def test_check_budget_names_the_key_most_responsible():
    cfg = ExperimentConfig(network=NetworkConfig(hidden=[100_000, 100_000]))
    with pytest.raises(BudgetError) as info:
        check_budget(cfg, budget=budget.Budget(6 * GiB, "half of this machine's 12.0 GiB"))
    message = str(info.value)
    assert message.startswith("[network] hidden = [100000, 100000]: needs about ")
    assert "GiB" in message and "parameters" in message and "6.0 GiB" in message
    assert "NN_TUI_MEMORY_BUDGET" in message and "\n" not in message
    assert isinstance(info.value, ValueError)

    many = ExperimentConfig(data=DataConfig("moons", n_samples=1_000_000), training=TrainingConfig(batch_size="full"))
    with pytest.raises(BudgetError, match=r"^\[data\] n_samples = 1000000: needs about"):
        check_budget(many, budget=budget.Budget(100 * 2**20, "test"))
    blobs = ExperimentConfig(data=DataConfig("gaussians", n_samples=1_000_000, options={"classes": 100}),
                             network=NetworkConfig(hidden=[4]))
    with pytest.raises(BudgetError, match=r"^\[data\] (classes|n_samples) = "):
        check_budget(blobs, budget=budget.Budget(100 * 2**20, "test"))
    check_budget(ExperimentConfig(), budget=budget.Budget(100 * 2**20, "test"))  # the default fits easily


def test_a_race_counts_every_lane(monkeypatch):
    cfg = ExperimentConfig(network=NetworkConfig(hidden=[512, 512]))
    one = estimate(cfg, 400, 2, 1)
    nine = estimate(cfg, 400, 2, 1, networks=9)
    assert nine.data == one.data and nine.parameters == 9 * one.parameters and nine.activations == 9 * one.activations
    monkeypatch.setenv("NN_TUI_MEMORY_BUDGET", str(one.total * 5))
    error_line(invoke("sweep", "--optimizer", "sgd", "--hidden", "512,512", "--points", "13"),
               "[network] hidden = [512, 512]", "14 networks side by side", "--points: 13")
    error_line(invoke("compare", "--hidden", "512,512"), "9 networks side by side", "--optimizers: 8")


def test_memory_budget_option_lasts_for_its_command(monkeypatch):
    monkeypatch.setenv("NN_TUI_MEMORY_BUDGET", "7G")
    error_line(invoke("compare", "--memory-budget", "64K"), "--memory-budget 64K", "race fewer lanes")
    error_line(invoke("sweep", "--optimizer", "adam", "--memory-budget", "lots"), "--memory-budget", "'lots'")
    assert memory_budget().source == "NN_TUI_MEMORY_BUDGET=7G"


def test_check_budget_leaves_an_invalid_config_to_validation():
    cfg = ExperimentConfig(network=NetworkConfig(hidden=["wide"]), training=TrainingConfig(batch_size="most"))
    assert check_budget(cfg, budget=budget.Budget(1, "test")) is None


def test_check_budget_for_a_csv_needs_its_shape(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path: a long one is shortened in the message (xdist's are longer)
    cfg = ExperimentConfig(data=DataConfig(path="big.csv"), network=NetworkConfig(hidden=[4096, 4096]))
    check_budget(cfg, budget=budget.Budget(2**20, "test"))  # not read yet: nothing to check
    with pytest.raises(BudgetError, match=r"^\[network\] hidden = \[4096, 4096\]"):
        check_budget(cfg, n_samples=1000, n_features=20, n_outputs=3, budget=budget.Budget(2**20, "test"))
    ds = Dataset("big", np.zeros((50_000, 4)), np.zeros(50_000), "regression", list("abcd"), "y", [])
    cfg = ExperimentConfig(data=DataConfig(path="big.csv"), network=NetworkConfig(hidden=[8]))
    with pytest.raises(BudgetError, match=r'^\[data\] path = "big.csv"'):
        check_budget(cfg, ds, budget=budget.Budget(2**20, "test"))


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_shape_without_loading(name):
    ds = load_dataset(name)
    assert dataset_shape(name) == (len(ds.X), ds.X.shape[1], ds.n_outputs)
    if name == "gaussians":
        assert dataset_shape(name, n_samples=50, classes=7) == (50, 2, 7)


# --- 3. only regular files, of a bounded size, read with a bounded cost per row ------------------


def test_file_problem_without_opening(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert "not a regular file" in file_problem(fifo)
    assert "not a regular file" in file_problem(Path("/dev/zero"))
    assert "folder" in file_problem(tmp_path) or "directory" in file_problem(tmp_path)
    assert "no such file" in file_problem(tmp_path / "gone")
    small = write(tmp_path / "a.csv", "x" * 100)
    assert file_problem(small) is None and "larger" in file_problem(small, max_bytes=10)


def test_files_unreadable_keeps_its_wording(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    assert files.unreadable(fifo).startswith("not a regular file (a pipe or a device); name a .npz")
    assert files.unreadable(tmp_path) == "it is a folder; name a .npz model or a .toml config"
    assert files.unreadable(tmp_path / "nope.npz") == "no such file"
    assert "unknown kind of file '.csv'" in files.unreadable(write(tmp_path / "a.csv", "x"))
    assert files.unreadable(write(tmp_path / "a.toml", "x")) is None


CHILD = r"""
import json, os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
from tui_trainer.experiments.config import load_config
from tui_trainer.engine.csvdata import load_csv
fifo = sys.argv[1]
out = {}
for name, fn, path in [("csv fifo", load_csv, fifo), ("config fifo", load_config, fifo),
                       ("csv zero", load_csv, "/dev/zero"), ("config zero", load_config, "/dev/zero"),
                       ("csv urandom", load_csv, "/dev/urandom")]:
    try:
        fn(path)
        out[name] = "loaded"
    except Exception as exc:
        out[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_devices_are_refused_without_hanging(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    try:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # little address space
        done = subprocess.run([sys.executable, "-c", CHILD, str(fifo)], capture_output=True, text=True,
                              timeout=30, cwd=Path(__file__).resolve().parents[1], env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("reading a FIFO or a device hung")
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.splitlines()[-1])
    for name, message in out.items():
        assert "not a regular file" in message, (name, message)
        assert message.startswith(("DataError", "ConfigError")), (name, message)


def test_config_size_limit(tmp_path):
    big = write(tmp_path / "big.toml", "# " + "x" * MAX_CONFIG_BYTES + "\n")
    with pytest.raises(ConfigError, match=r"big.toml: .*larger than .* 1 MiB"):
        load_config(big)


def test_csv_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(csvdata, "MAX_CSV_BYTES", 1000)
    path = write(tmp_path / "big.csv", "a,y\n" + "1,0\n2,1\n" * 200)
    with pytest.raises(DataError, match=r"big.csv: .*larger than"):
        load_csv(path)


def test_a_line_longer_than_the_limit_is_refused_without_reading_it_all(tmp_path, monkeypatch):
    monkeypatch.setattr(csvdata, "MAX_ROW_CHARS", 1000)
    path = write(tmp_path / "long.csv", "a,y\n1,0\n2," + "1" * 5000 + "\n3,1\n")
    with pytest.raises(DataError) as info:
        load_csv(path)
    message = str(info.value)
    assert "long.csv: line 3" in message and "longer than" in message and "\n" not in message
    # a row spread over many lines in one quoted cell counts as one row
    path = write(tmp_path / "quoted.csv", 'a,y\n1,"' + "x\n" * 2000 + '"\n')
    with pytest.raises(DataError, match=r"quoted.csv: line 2: .*longer than"):
        load_csv(path)


def test_lines_stay_right_after_streaming(tmp_path):
    # the bad byte is far from the start: its line is still named exactly
    rows = "".join(f"{i},{i % 2}\n" for i in range(5000))
    path = write(tmp_path / "late.csv", b"a,y\n" + rows.encode() + b"caf\xe9,1\n")
    with pytest.raises(DataError, match=r"line 5002: byte 0xe9"):
        load_csv(path)
    path = write(tmp_path / "mac.csv", "a,y\r1,x\r2,y\r")  # old Mac line ends still load
    assert load_csv(path).class_names == ["x", "y"]


# --- 4. labels stay exact ------------------------------------------------------------------------


def test_huge_integer_labels_stay_distinct(tmp_path):
    path = write(tmp_path / "big.csv", "x,y\n1,1000000000000000000000000000000\n"
                                        "2,1000000000000000000000000000001\n3,1000000000000000000000000000000\n")
    ds = load_csv(path)
    assert ds.class_names == ["1000000000000000000000000000000", "1000000000000000000000000000001"]
    assert ds.y.tolist() == [0, 1, 0] and ds.problem == "binary"


def test_integer_labels_are_compared_as_numbers(tmp_path):
    ds = load_csv(write(tmp_path / "a.csv", "x,y\n1,1\n2,1.0\n3,2\n4,1e30\n5,1000000000000000000000000000000\n"))
    assert ds.class_names == ["1", "2", "1000000000000000000000000000000"]
    assert ds.y.tolist() == [0, 0, 1, 2, 2]


def test_errors_quote_numbers_as_written(tmp_path):
    with pytest.raises(DataError, match=r"only one class '1e30'"):
        load_csv(write(tmp_path / "one.csv", "x,y\n1,1e30\n2,1000000000000000000000000000000\n"))
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path / "big.csv", "x,y\n1,0\n1e200,1\n"))
    assert "line 3" in str(info.value) and "'1e200'" in str(info.value) and "column 'x'" in str(info.value)


def test_many_text_labels_are_refused(tmp_path):
    rows = "".join(f"{i},id{i}\n" for i in range(csvdata.MAX_CSV_CLASSES + 1))
    with pytest.raises(DataError, match=r"column 'y'.*more than 1,000 classes"):
        load_csv(write(tmp_path / "ids.csv", "x,y\n" + rows))


# --- 5. data problems are told from learning-rate problems ----------------------------------------


def _dataset(X, y, problem="regression"):
    X = np.asarray(X, dtype=np.float64)
    return Dataset("d", X, np.asarray(y), problem, [f"f{i}" for i in range(X.shape[1])], "target",
                   ["a", "b"] if problem == "binary" else [])


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e101])
def test_prepare_names_the_column_with_bad_data(bad):
    X = np.ones((10, 3))
    X[4, 1] = bad
    with pytest.raises(DataError, match=r"column 'f1'"):
        prepare(_dataset(X, np.arange(10.0)))
    X[4, 1] = MAX_ABS_VALUE
    prepare(_dataset(X, np.arange(10.0)))


def test_prepare_names_a_bad_target():
    y = np.arange(10.0)
    y[3] = np.inf
    with pytest.raises(DataError, match=r"target 'target'"):
        prepare(_dataset(np.ones((10, 2)), y))
    y[3] = 1e30  # fine in float64, but its square overflows float32
    prepare(_dataset(np.ones((10, 2)), y))
    with pytest.raises(DataError, match=r"target 'target'.*float32"):
        prepare(_dataset(np.ones((10, 2)), y), dtype=np.float32)


def test_generated_data_is_checked():
    ds = load_dataset("sine", noise=MAX_NOISE)
    assert np.isfinite(ds.y).all()


def test_a_network_within_every_limit_can_still_be_over_budget():
    budget.set_budget(GiB, "test budget")
    try:
        cfg = ExperimentConfig(network=NetworkConfig(hidden=[MAX_HIDDEN_WIDTH] * MAX_HIDDEN_LAYERS))
        assert problems(cfg) == []
        with pytest.raises(BudgetError, match=r"^\[network\] hidden = .*\(32 items\): needs about .*test budget"):
            check_budget(cfg)
    finally:
        budget.set_budget(None)


def test_budget_error_fits_the_command_lines_option_wording():
    cfg = ExperimentConfig(network=NetworkConfig(hidden=[4096, 4096]))
    with pytest.raises(BudgetError) as info:
        check_budget(cfg, budget=budget.Budget(2**20, "test"))
    exc = info.value
    assert (exc.section, exc.key, exc.value) == ("network", "hidden", [4096, 4096])
    assert [p.field_name for p in exc.problems] == ["hidden"] and exc.reason.startswith("needs about")


def test_budget_module_imports_nothing_heavy():
    code = "import sys, tui_trainer.experiments.budget; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "False", done.stderr


def test_a_race_on_a_csv_counts_every_lane_against_the_budget(monkeypatch):
    """The lanes of a race on a data file are counted once the file is read (before, only the
    base network was, as the shape of a CSV is unknown until then)."""
    from tui_trainer.experiments.experiment import Experiment
    from tui_trainer.experiments.lab import Race, RaceEntry

    cfg = with_overrides(ExperimentConfig(), path=str(Path(__file__).parents[1] / "sample_data" / "iris.csv"),
                         hidden=[64])
    one = budget.check_budget(cfg, Experiment.from_config(cfg).dataset, budget=budget.Budget(2**40, "test"))
    monkeypatch.setenv("NN_TUI_MEMORY_BUDGET", str(2 * one.total))
    Race(cfg, [RaceEntry("sgd")])  # a lane and its base fit
    with pytest.raises(budget.BudgetError, match="networks side by side"):
        Race(cfg, [RaceEntry(name) for name in ("sgd", "momentum", "adam", "rmsprop")])
