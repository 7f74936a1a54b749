"""``nn-tui train`` and ``nn-tui datasets``: results as JSON, config files and options,
``--out`` and ``--resume``, divergence, and every kind of bad input ending in one clear
``Error:`` line with a non-zero exit status and no traceback.

Runs are tiny (40 samples, a few epochs) so the whole file takes a few seconds. ``result.output``
holds stdout and stderr together (click >= 8.1), ``result.stdout`` only stdout from click 8.2.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tui_trainer.cli import main
from tui_trainer.experiments.config import load_config

SMALL = '[data]\ndataset = "{dataset}"\nn_samples = 40\n[training]\nepochs = 2\nbatch_size = 8\n'


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _runs_in_tmp(tmp_path, monkeypatch):
    """Runs recorded by ``train`` go to the test's folder, never to ./runs."""
    monkeypatch.setenv("NN_TUI_RUNS", str(tmp_path / "runs"))


RUN_NOTICE = re.compile(r"^run \S+ in .*/$")
"""The stderr line ``train`` starts with: the recorded run's id and folder."""


def invoke(*args):
    """Run ``nn-tui`` in-process with every warning turned into an error, as ``python -W error``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return CliRunner().invoke(main, [str(a) for a in args])


def train(*args):
    return invoke("train", *args)


def no_crash(result) -> None:
    """The command ended through click (an exit status), not through an exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert "Warning" not in result.output


def error_line(result, *fragments) -> str:
    """A failed run that printed exactly one line, ``Error: ...``, holding every fragment."""
    no_crash(result)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip() and not RUN_NOTICE.match(line)]
    assert len(lines) == 1, result.output
    line = lines[0]
    assert line.startswith("Error: "), line
    for fragment in fragments:
        assert str(fragment) in line, f"{fragment!r} not in {line!r}"
    return line


def report(result) -> dict:
    """The JSON object on the last line of stdout."""
    no_crash(result)
    return json.loads(result.stdout.strip().splitlines()[-1])


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def small_config(tmp_path: Path, dataset: str = "moons", extra: str = "", name: str = "exp.toml") -> Path:
    return write(tmp_path / name, SMALL.format(dataset=dataset) + extra)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


GOOD_CSV = "a,b,y\n" + "".join(f"{i},{(i * 7) % 5},{i % 2}\n" for i in range(20))


# --- results as JSON ----------------------------------------------------------------------------


def test_json_classification(tmp_path):
    result = train("--config", small_config(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    r = report(result)
    for key in ("train_loss", "val_loss", "val_accuracy", "epochs", "steps", "seconds", "diverged"):
        assert key in r, key
    assert "val_r2" not in r
    assert r["problem"] == "binary" and r["dataset"] == "moons"
    assert r["epochs"] == 2 and r["steps"] == 2 * 4  # 32 training samples in batches of 8
    assert r["diverged"] is False and 0.0 <= r["val_accuracy"] <= 1.0
    assert r["seconds"] >= 0 and r["train_loss"] > 0


def test_json_regression(tmp_path):
    r = report(train("--config", small_config(tmp_path, "sine"), "--json"))
    for key in ("train_loss", "val_loss", "val_r2", "epochs", "steps", "seconds", "diverged"):
        assert key in r, key
    assert "val_accuracy" not in r and r["problem"] == "regression" and r["diverged"] is False


def test_json_from_a_csv_with_a_target_column(tmp_path):
    text = "kind,a,b\n" + "".join(f"{'xyz'[i % 3]},{i},{i % 4}\n" for i in range(30))
    path = write(tmp_path / "three.csv", text)
    result = train("--data", path, "--target", "kind", "--epochs", 2, "--json")
    assert result.exit_code == 0, result.output
    r = report(result)
    assert r["problem"] == "multiclass" and r["dataset"] == "three" and "val_accuracy" in r
    assert r["network"].startswith("2 -> ") and r["network"].endswith(" -> 3")


def test_text_report(tmp_path):
    result = train("--config", small_config(tmp_path))
    assert result.exit_code == 0, result.output
    no_crash(result)
    assert "val_accuracy" in result.output and "diverged" in result.output


def test_options_override_the_config_file(tmp_path):
    extra = '[network]\nhidden = [8]\nactivation = "relu"\n[optimizer]\nname = "sgd"\nlr = 0.1\n'
    config = write(tmp_path / "exp.toml", '[data]\ndataset = "moons"\nn_samples = 40\n'
                   '[training]\nepochs = 5\nbatch_size = 8\nseed = 1\n' + extra)
    base = report(train("--config", config, "--json"))
    assert (base["optimizer"], base["lr"], base["epochs"], base["network"]) == ("sgd", 0.1, 5, "2 -> 8 -> 1")

    out = tmp_path / "run"
    result = train("--config", config, "--optimizer", "adam", "--lr", 0.01, "--epochs", 2,
                   "--hidden", "4,3", "--activation", "tanh", "--batch-size", "full", "--seed", 3,
                   "--val-split", 0.25, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    r = report(result)
    assert (r["optimizer"], r["lr"], r["epochs"], r["steps"]) == ("adam", 0.01, 2, 2)
    assert r["network"] == "2 -> 4 -> 3 -> 1" and r["batch_size"] == "full"
    saved = load_config(out / "config.toml")
    assert saved.network.hidden == [4, 3] and saved.network.activation == "tanh"
    assert saved.training.seed == 3 and saved.data.val_split == 0.25
    assert saved.data.n_samples == 40  # what the options did not touch comes from the file


def test_dataset_option_replaces_the_config_dataset(tmp_path):
    r = report(train("--config", small_config(tmp_path, "moons"), "--dataset", "iris", "--epochs", 1, "--json"))
    assert r["dataset"] == "iris" and r["problem"] == "multiclass"


def test_same_run_twice_is_identical(tmp_path):
    config = small_config(tmp_path)
    first, second = (report(train("--config", config, "--json")) for _ in range(2))
    for key in ("train_loss", "val_loss", "val_accuracy", "steps"):
        assert first[key] == second[key]


# --- --out --------------------------------------------------------------------------------------


def test_out_writes_config_model_and_metrics(tmp_path):
    out = tmp_path / "run"
    result = train("--config", small_config(tmp_path), "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["config.toml", "metrics.csv", "model.npz"]
    assert load_config(out / "config.toml").training.epochs == 2
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,step,train_loss,val_loss") and len(rows) == 1 + 2
    assert "config.toml" in result.output


def test_out_refuses_to_overwrite_without_the_flag(tmp_path):
    config, out = small_config(tmp_path), tmp_path / "run"
    assert train("--config", config, "--out", out).exit_code == 0
    before = snapshot(out)
    error_line(train("--config", config, "--seed", 5, "--out", out), str(out), "already holds", "--overwrite")
    assert snapshot(out) == before

    result = train("--config", config, "--seed", 5, "--out", out, "--overwrite")
    assert result.exit_code == 0, result.output
    after = snapshot(out)
    assert after.keys() == before.keys() and after["model.npz"] != before["model.npz"]


def test_a_failing_run_leaves_out_untouched(tmp_path):
    config, out = small_config(tmp_path), tmp_path / "run"
    assert train("--config", config, "--out", out).exit_code == 0
    before = snapshot(out)
    bad = write(tmp_path / "bad.csv", "a,b,y\n1,2,0\n3,x,1\n")
    error_line(train("--data", bad, "--out", out, "--overwrite"), "bad.csv")
    error_line(train("--config", config, "--optimizer", "nope", "--out", out, "--overwrite"), "--optimizer")
    assert snapshot(out) == before


def test_out_that_is_a_file_is_refused(tmp_path):
    target = write(tmp_path / "taken", "mine")
    error_line(train("--config", small_config(tmp_path), "--out", target), "--out", "taken")
    assert target.read_text() == "mine"


# --- --resume -----------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path) -> Path:
    """A model trained for 2 epochs of 4 steps."""
    out = tmp_path / "first"
    result = train("--config", small_config(tmp_path), "--out", out)
    assert result.exit_code == 0, result.output
    return out / "model.npz"


def test_resume_continues_where_it_stopped(tmp_path, saved):
    out = tmp_path / "second"
    r = report(train("--resume", saved, "--epochs", 3, "--out", out, "--json"))
    assert r["epochs"] == 2 + 3 and r["steps"] == (2 + 3) * 4 and r["diverged"] is False
    # Two epochs then three more is the same run as five at once.
    straight = report(train("--config", small_config(tmp_path), "--epochs", 5, "--json"))
    assert r["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-9)
    assert r["val_loss"] == pytest.approx(straight["val_loss"], rel=1e-9)
    # ... and the new model resumes again from 5 epochs.
    again = report(train("--resume", out / "model.npz", "--epochs", 1, "--json"))
    assert again["epochs"] == 6 and again["steps"] == 6 * 4


def test_resume_may_change_lr_and_batch_size(saved):
    r = report(train("--resume", saved, "--epochs", 1, "--lr", 0.05, "--batch-size", 16, "--json"))
    assert r["lr"] == 0.05 and r["batch_size"] == 16 and r["epochs"] == 3 and r["steps"] == 8 + 2


@pytest.mark.parametrize("option,value", [("--hidden", "4"), ("--dataset", "iris"), ("--optimizer", "sgd"),
                                          ("--activation", "tanh"), ("--seed", "3")])
def test_resume_refuses_options_that_change_the_model(saved, option, value):
    error_line(train("--resume", saved, option, value), option, "cannot change when resuming")


def rewrite_model(source: Path, dest: Path, header=None, **arrays) -> Path:
    """A copy of a model file with its JSON header changed by ``header(dict)`` and arrays replaced."""
    with np.load(source) as archive:
        data = {k: archive[k] for k in archive.files}
    if header is not None:
        h = json.loads(str(data["header"]))
        header(h)
        data["header"] = np.array(json.dumps(h))
    for name, value in arrays.items():
        if value is None:
            data.pop(name)
        else:
            data[name] = value
    np.savez(dest, **data)
    return dest


def bad_models(saved: Path, tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, a fragment the error must hold)."""
    raw = bytearray(saved.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + 64] = bytes(b ^ 0xFF for b in raw[mid:mid + 64])
    np.save(tmp / "array.npy", np.zeros(3))
    np.savez(tmp / "foreign.npz", weights=np.zeros(3))
    return {
        "missing": (tmp / "nope.npz", "no such model file"),
        "truncated": (write(tmp / "truncated.npz", saved.read_bytes()[:300]), "not an nn-tui model file"),
        "flipped bytes": (write(tmp / "flipped.npz", bytes(raw)), "not an nn-tui model file"),
        "a csv": (write(tmp / "data.csv", GOOD_CSV), "not an nn-tui model file"),
        "png": (write(tmp / "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "not an nn-tui model file"),
        "a .npy array": (tmp / "array.npy", "not an nn-tui model file"),
        "foreign npz": (tmp / "foreign.npz", "no nn-tui header"),
        "version": (rewrite_model(saved, tmp / "v9.npz", lambda h: h.update(version=9)), "version 9"),
        "wrong shape": (rewrite_model(saved, tmp / "shape.npz", param_0=np.zeros((3, 3))), "corrupted model file"),
        "missing array": (rewrite_model(saved, tmp / "gone.npz", param_1=None), "corrupted model file"),
        "meta not a table": (rewrite_model(saved, tmp / "meta.npz", lambda h: h.update(meta=[])),
                             "corrupted model file"),
        "bad epoch": (rewrite_model(saved, tmp / "epoch.npz", lambda h: h["meta"].update(epoch="x")),
                      "corrupted model file"),
        "bad config inside": (rewrite_model(saved, tmp / "cfg.npz",
                                            lambda h: h.update(config="[training]\nepochs = -1\n")),
                              "[training] epochs = -1"),
    }


def test_bad_model_files_are_refused_in_one_line(tmp_path, saved):
    for name, (path, fragment) in bad_models(saved, tmp_path).items():
        result = train("--resume", path, "--epochs", 1)
        line = error_line(result, path.name, fragment)
        assert line.count(path.name) == 1, (name, line)  # named once, not repeated


def test_resume_from_a_folder_points_at_the_model_inside(saved):
    error_line(train("--resume", saved.parent), "is a folder", "model.npz")


# --- divergence ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("error")
def test_divergence_is_reported_cleanly_as_json(tmp_path):
    result = train("--config", small_config(tmp_path, "sine"), "--optimizer", "sgd", "--lr", "1e6", "--json")
    assert result.exit_code != 0
    r = report(result)
    assert r["diverged"] is True and "lower the learning rate" in r["divergence"]
    assert "RuntimeWarning" not in result.output and "overflow" not in result.output


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dataset,lr", [("plane", "1e6"), ("sine", "100"), ("multi_gaussian", "1e6")])
def test_divergence_as_text(tmp_path, dataset, lr):
    result = train("--config", small_config(tmp_path, dataset), "--optimizer", "sgd", "--lr", lr)
    assert result.exit_code != 0
    no_crash(result)
    assert "diverged" in result.output and "lower the learning rate" in result.output
    assert "RuntimeWarning" not in result.output and "overflow" not in result.output


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("lr", ["100", "1e4", "1e6"])
def test_divergence_on_the_full_sine_set(lr):
    """400 samples: the weights kept from before the last step still overflow when evaluated."""
    result = train("--dataset", "sine", "--optimizer", "sgd", "--lr", lr, "--epochs", 3, "--json")
    assert result.exit_code != 0
    assert report(result)["diverged"] is True
    assert "RuntimeWarning" not in result.output and "overflow" not in result.output


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dataset", ["spiral", "iris"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_huge_learning_rates_never_warn(tmp_path, dataset, optimizer):
    config = small_config(tmp_path, dataset).read_text().replace("n_samples = 40\n", "") if dataset == "iris" \
        else small_config(tmp_path, dataset).read_text()
    path = write(tmp_path / "huge.toml", config)
    for lr in ("1e4", "1e10"):
        result = train("--config", path, "--optimizer", optimizer, "--lr", lr, "--json")
        assert result.exit_code in (0, 3), result.output  # 3: diverged
        assert report(result)["diverged"] is (result.exit_code == 3)


def test_divergence_writes_nothing(tmp_path):
    config, out = small_config(tmp_path, "sine"), tmp_path / "run"
    assert train("--config", config, "--out", out).exit_code == 0
    before = snapshot(out)
    result = train("--config", config, "--optimizer", "sgd", "--lr", "1e6", "--out", out, "--overwrite")
    assert result.exit_code != 0 and "nothing written" in result.output
    assert snapshot(out) == before
    fresh = tmp_path / "fresh"
    assert train("--config", config, "--optimizer", "sgd", "--lr", "1e6", "--out", fresh).exit_code != 0
    assert not fresh.exists()


# --- bad data files -----------------------------------------------------------------------------


BAD_CSVS = {
    "empty": (b"", ["file is empty"]),
    "blank lines only": (b"\n \n", ["file is empty"]),
    "header only": (b"a,b,y\n", ["header but no data rows"]),
    "one column": (b"y\n1\n2\n", ["line 1", "at least 2 columns"]),
    "duplicate column": (b"a,a,y\n1,2,0\n", ["line 1", "duplicate column name 'a'"]),
    "ragged": (b"a,b,y\n1,2,0\n3,4\n", ["line 3", "expected 3 fields, got 2"]),
    "non-numeric": (b"a,b,y\n1,2,0\n3,x,1\n", ["line 3", "column 'b'", "'x' is not a number"]),
    "empty cell": (b"a,b,y\n1,2,0\n3,,1\n", ["line 3", "column 'b'", "empty cell"]),
    "nan": (b"a,b,y\n1,2,0\n3,nan,1\n", ["line 3", "column 'b'", "not a finite number"]),
    "inf": (b"a,b,y\n1,2,0\n3,-inf,1\n", ["line 3", "column 'b'", "not a finite number"]),
    "nan target": (b"a,y\n1,0.5\n2,1.5\n3,nan\n", ["line 4", "column 'y'", "not a finite number"]),
    "too large": (b"a,b,y\n1e308,2,0\n-1e308,4,1\n", ["line 2", "column 'a'", "too large"]),
    "single class": (b"a,b,y\n1,2,0\n3,4,0\n5,6,0\n", ["target column 'y'", "only one class"]),
    "latin-1": (b"a,b,y\n1,2,0\ncaf\xe9,4,1\n", ["line 3", "0xe9", "UTF-8"]),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", ["NUL byte", "binary"]),
    "nul bytes": (b"a,b,y\n1,\x002,0\n", ["line 2", "NUL byte"]),
    "utf-16": ("a,b,y\n1,2,0\n".encode("utf-16"), ["NUL byte"]),
    "unclosed quote": (b'a,b,y\n1,2,"0\n3,4,1\n', ["line 2", "quote", "never closed"]),
    "stray quote": (b'a,b,y\n1,2,"0"x\n', ["line 2", "malformed CSV"]),
}


@pytest.mark.parametrize("name", BAD_CSVS)
def test_bad_csv(tmp_path, name):
    content, fragments = BAD_CSVS[name]
    path = write(tmp_path / "data.csv", content)
    error_line(train("--data", path, "--epochs", 1), str(path), *fragments)


def test_missing_csv(tmp_path):
    error_line(train("--data", tmp_path / "nope.csv"), "nope.csv", "no such file")


def test_csv_that_is_a_folder(tmp_path):
    error_line(train("--data", tmp_path), str(tmp_path), "is a directory")


def test_missing_target_column(tmp_path):
    path = write(tmp_path / "data.csv", GOOD_CSV)
    error_line(train("--data", path, "--target", "price"), "data.csv", "no target column 'price'",
               "columns are: a, b, y")


def test_bad_csv_named_in_a_config_names_the_config_too(tmp_path):
    write(tmp_path / "data.csv", "a,b,y\n1,2,0\n3,x,1\n")
    config = write(tmp_path / "exp.toml", '[data]\npath = "data.csv"\n')
    error_line(train("--config", config), "data.csv: line 3", "column 'b'", "exp.toml")
    config = write(tmp_path / "gone.toml", '[data]\npath = "gone.csv"\n')
    error_line(train("--config", config), "gone.csv", "no such file", "gone.toml")


# --- bad config files ---------------------------------------------------------------------------


BAD_CONFIGS = {
    "syntax error": ("[optimizer]\nlr = \n", ["invalid TOML", "line 2"]),
    "unclosed table": ("[training\nepochs = 1\n", ["invalid TOML", "line 1"]),
    "negative lr": ("[optimizer]\nlr = -1\n", ["[optimizer] lr = -1", "must be a number > 0"]),
    "unknown key": ("[training]\nepochz = 3\n", ["[training] epochz = 3", "unknown key", "did you mean 'epochs'"]),
    "unknown section": ("[trainig]\nepochs = 3\n", ["[trainig]", "unknown section"]),
    "unknown dataset": ('[data]\ndataset = "nope"\n', ['[data] dataset = "nope"', "unknown dataset"]),
    "unknown optimizer": ('[optimizer]\nname = "sgdd"\n', ['[optimizer] name = "sgdd"', "did you mean 'sgd'"]),
    "zero width": ("[network]\nhidden = [16, 0]\n", ["[network] hidden[1] = 0", ">= 1"]),
    "zero batch size": ("[training]\nbatch_size = 0\n", ["[training] batch_size = 0"]),
    "wrong type": ('[training]\nepochs = "ten"\n', ['[training] epochs = "ten"', "integer"]),
}


@pytest.mark.parametrize("name", BAD_CONFIGS)
def test_bad_config(tmp_path, name):
    text, fragments = BAD_CONFIGS[name]
    path = write(tmp_path / "exp.toml", text)
    line = error_line(train("--config", path, "--epochs", 1), f"{path}: ", *fragments)
    assert "problem" not in line  # one problem: no "1 problem:" header line


def test_config_with_several_problems_lists_them_under_a_summary(tmp_path):
    path = write(tmp_path / "exp.toml", "[optimizer]\nlr = -1\n[training]\nepochs = 0\nbatchsize = 3\n")
    result = train("--config", path)
    no_crash(result)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert lines[0] == f"Error: {path}: 3 problems:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "[optimizer] lr = -1", "[training] batchsize = 3", "[training] epochs = 0"]


def test_config_not_utf8(tmp_path):
    path = write(tmp_path / "exp.toml", b'[data]\ndataset = "caf\xe9"\n')
    error_line(train("--config", path), "exp.toml", "not UTF-8", "line 2")


def test_config_binary(tmp_path):
    path = write(tmp_path / "exp.toml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    error_line(train("--config", path), "exp.toml")


def test_missing_config(tmp_path):
    error_line(train("--config", tmp_path / "nope.toml"), "nope.toml", "no such file")


def test_config_that_is_a_folder(tmp_path):
    error_line(train("--config", tmp_path), "--config", "is a directory")


# --- bad options --------------------------------------------------------------------------------


BAD_OPTIONS = [
    (["--dataset", "nope"], ["--dataset 'nope'", "unknown dataset", "iris"]),
    (["--optimizer", "nope"], ["--optimizer 'nope'", "unknown optimizer", "adam"]),
    (["--activation", "nope"], ["--activation 'nope'", "unknown activation"]),
    (["--lr", "0"], ["'--lr'", "greater than 0"]),
    (["--lr", "-1"], ["'--lr'", "greater than 0"]),
    (["--lr", "nan"], ["'--lr'", "finite"]),
    (["--lr", "inf"], ["'--lr'", "finite"]),
    (["--lr", "fast"], ["'--lr'", "'fast'"]),
    (["--batch-size", "0"], ["'--batch-size'", "'0'"]),
    (["--batch-size", "-4"], ["'--batch-size'", "'-4'"]),
    (["--batch-size", "half"], ["'--batch-size'", "'half'"]),
    (["--hidden", "16,0"], ["'--hidden'", "'16,0'", "at least 1"]),
    (["--hidden", "16,-2"], ["'--hidden'", "at least 1"]),
    (["--hidden", "a,b"], ["'--hidden'", "'a,b'"]),
    (["--epochs", "0"], ["'--epochs'", "greater than 0"]),
    (["--seed", "-1"], ["'--seed'"]),
    (["--val-split", "1"], ["--val-split 1.0", "[0, 1)"]),
    (["--val-split", "-0.1"], ["--val-split -0.1", "[0, 1)"]),
    (["--dataset", "iris", "--target", "x"], ["--target 'x'", "CSV"]),
    (["--lrr", "3"], ["No such option", "--lr"]),
    (["--lr"], ["'--lr'", "requires an argument"]),
]


@pytest.mark.parametrize("args,fragments", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_option(args, fragments):
    error_line(train(*args), *fragments)


def test_bad_option_with_a_config(tmp_path):
    error_line(train("--config", small_config(tmp_path), "--dataset", "nope"), "--dataset 'nope'")


# --- nn-tui datasets ----------------------------------------------------------------------------


ALL_DATASETS = ["xor", "circles", "moons", "spiral", "gaussians", "linear", "sine", "plane",
                "multi_gaussian", "iris", "wine", "breast_cancer", "digits"]


def test_datasets_lists_all_with_shapes_and_problems():
    result = invoke("datasets")
    assert result.exit_code == 0
    no_crash(result)
    rows = {line.split()[0]: line for line in result.output.splitlines()[1:] if line[:1].strip()}  # not a wrapped description's
    assert sorted(rows) == sorted(ALL_DATASETS)
    assert "1797x64" in rows["digits"] and "multiclass" in rows["digits"]
    assert "150x4" in rows["iris"] and "multiclass" in rows["iris"]
    assert "178x13" in rows["wine"] and "569x30" in rows["breast_cancer"]
    assert "regression" in rows["sine"] and "400x1" in rows["sine"]
    assert "binary" in rows["moons"] and "400x2" in rows["moons"]


def test_datasets_as_json():
    rows = json.loads(invoke("datasets", "--json").stdout)
    assert [r["name"] for r in rows] == ALL_DATASETS
    digits = next(r for r in rows if r["name"] == "digits")
    assert (digits["samples"], digits["features"], digits["classes"], digits["problem"]) == (1797, 64, 10, "multiclass")


def test_datasets_bad_option_is_one_line():
    error_line(invoke("datasets", "--jsn"), "No such option")
