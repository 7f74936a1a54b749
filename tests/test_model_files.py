"""Model files (``.npz``) that must not load, and resuming on data that changed.

Every hostile file is built here in ``tmp_path`` from a small model trained for one epoch: a
zip bomb, an npy header that lies about its shape, members that should not be there, complex,
object and NaN arrays, optimizer state of the wrong shape, a header nested too deeply. Each is
refused with one ``CheckpointError`` line naming the file and the member or key, before anything
large is read or allocated. Resuming checks the data against what the model was trained on, and
never reads a data file that only the model's own config names.
"""

from __future__ import annotations

import io
import json
import os
import struct
import threading
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from tui_trainer.experiments.config import ExperimentConfig, loads_config, with_overrides
from tui_trainer.engine.checkpoint import CheckpointError, load_checkpoint
from tui_trainer.experiments.experiment import Experiment, output_and_loss

# --- helpers ------------------------------------------------------------------------------------


def write_csv(path: Path, classes=("a", "b", "c"), features=("x1", "x2"), target="label", rows=30) -> Path:
    """A small CSV: numeric features, a text target cycling through ``classes``."""
    lines = [",".join([*features, target])]
    for i in range(rows):
        values = [f"{((i * 7 + j * 3) % 11) / 10:.2f}" for j in range(len(features))]
        lines.append(",".join([*values, classes[i % len(classes)]]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def train_model(path: Path, data: Path | None = None, **overrides) -> Path:
    """A model trained for one epoch (so the optimizer has state), on ``data`` or on moons."""
    if data is not None:
        cfg = loads_config(f'[data]\npath = "{data}"\n[network]\nhidden = [3]\n'
                           "[training]\nepochs = 1\nbatch_size = 8\n")
    else:
        cfg = with_overrides(ExperimentConfig(), dataset="moons", n_samples=40, hidden=[3], epochs=1, batch_size=8)
    if overrides:
        cfg = with_overrides(cfg, **overrides)
    exp = Experiment.from_config(cfg)
    exp.trainer.run(1)
    return exp.save(path, arrays={"losses_x": np.arange(3.0), "losses_count": np.arange(3)})


@pytest.fixture
def model(tmp_path) -> Path:
    return train_model(tmp_path / "model.npz")


def members(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as archive:
        return {k: archive[k] for k in archive.files}


def rewrite(source: Path, dest: Path, header=None, **arrays) -> Path:
    """A copy of a model with its JSON header changed by ``header(dict)`` and arrays replaced
    (None: removed)."""
    data = members(source)
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


def with_raw_members(source: Path, dest: Path, **raw: bytes) -> Path:
    """A copy of a model with members written as raw bytes (``name`` without ``.npy``)."""
    data = members(source)
    with zipfile.ZipFile(dest, "w") as zf:
        for name, value in data.items():
            if name not in raw:
                buf = io.BytesIO()
                np.save(buf, value)
                zf.writestr(f"{name}.npy", buf.getvalue())
        for name, value in raw.items():
            zf.writestr(f"{name}.npy", value)
    return dest


def npy_header(shape, descr="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def refused(path: Path, *fragments: str, load=load_checkpoint) -> str:
    """``load(path)`` fails with one CheckpointError line holding the file's name and every fragment."""
    with pytest.raises(CheckpointError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert path.name in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def refused_using_little_memory(path: Path, *fragments: str, limit: int = 20_000_000) -> str:
    """``refused``, peaking under ``limit`` bytes of Python and NumPy allocations: the file was turned
    away before anything its header claims was inflated or built (memory, not time, tells)."""
    tracemalloc.start()
    try:
        message = refused(path, *fragments)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit, peak
    return message


def zip_bomb(dest: Path, good: Path, inflated: int = 3 << 30) -> Path:
    """A model whose param_0.npy is a deflated run of zeros that inflates to ``inflated`` bytes.

    The deflate stream is one 1 MiB block of zeros, fully flushed and repeated: a 3 GiB member in
    a ~3 MB file, built in milliseconds. Its CRC is not computed (a loader must never get that far).
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH) == block  # the block repeats
    stream = block * (inflated >> 20) + c.flush()
    entries = [(f"{k}.npy", v) for k, v in members(good).items() if k != "param_0"]
    out, central = bytearray(), bytearray()

    def add(name: str, payload: bytes, method: int, crc: int, size: int) -> None:
        n = name.encode()
        central.extend(struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, method, 0, 33,
                                   crc, len(payload), size, len(n), 0, 0, 0, 0, 0, len(out)) + n)
        out.extend(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, method, 0, 33,
                               crc, len(payload), size, len(n), 0) + n + payload)

    add("param_0.npy", stream, zipfile.ZIP_DEFLATED, 0, inflated)
    for name, value in entries:
        buf = io.BytesIO()
        np.save(buf, value)
        raw = buf.getvalue()
        add(name, raw, zipfile.ZIP_STORED, zlib.crc32(raw), len(raw))
    count = len(entries) + 1
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    dest.write_bytes(bytes(out + central + end))
    return dest


# --- a good model -------------------------------------------------------------------------------


def test_a_saved_model_loads_with_its_extras(model):
    ckpt = load_checkpoint(model)
    assert [p.shape for p in ckpt.net.params] == [(2, 3), (3,), (3, 1), (1,)]
    assert set(ckpt.extras) == {"losses_x", "losses_count"} and ckpt.extras["losses_count"].dtype == np.int64
    assert ckpt.opt.state_dict()["state"][0]["exp_avg"].shape == (2, 3)
    for p in ckpt.net.params:
        p += 1.0  # the arrays are the model's own, writable
    ckpt.standardizer.mean[...] = 0.0


# --- the zip: member names and declared sizes ---------------------------------------------------


@pytest.mark.parametrize("name", ["evil", "param_x", "opt_0_foo_bar/../x", "extra_a b", "scaler_var"])
def test_a_member_that_does_not_belong_is_refused_by_name(model, tmp_path, name):
    bad = with_raw_members(model, tmp_path / "bad.npz", **{name: npy_header((1,)) + bytes(8)})
    refused(bad, f"{name}.npy")


def test_a_member_without_the_npy_suffix_is_refused(model, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(model.read_bytes())
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr("notes.txt", "hello")
    refused(bad, "notes.txt")


def test_a_member_twice_is_refused(model, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(model.read_bytes())
    with zipfile.ZipFile(bad, "a") as zf, pytest.warns(UserWarning, match="Duplicate"):
        zf.writestr("param_0.npy", npy_header((2, 3)) + bytes(48))
    refused(bad, "param_0.npy", "more than once")


def test_a_zip_bomb_is_refused_before_anything_is_inflated(model, tmp_path):
    bomb = zip_bomb(tmp_path / "bomb.npz", model)
    assert bomb.stat().st_size < 4_000_000
    message = refused_using_little_memory(bomb, "param_0.npy")
    assert "3 GiB" in message, message


def test_a_small_bomb_within_the_absolute_cap_is_refused_against_the_network(model, tmp_path):
    """40 MiB of zeros for a 2x3 weight: within 512 MiB, far beyond what the header's network needs."""
    bomb = zip_bomb(tmp_path / "bomb.npz", model, inflated=40 << 20)
    refused(bomb, "param_0.npy")


def test_a_model_file_that_is_a_fifo_is_refused_at_once(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(refused(fifo, "not a regular file")), daemon=True)
    reader.start()
    reader.join(30)  # a deadline for a reader that blocks on the FIFO, waiting for a writer never coming
    assert not reader.is_alive() and len(outcome) == 1


def test_a_missing_model_file_or_a_folder_is_refused_by_name(tmp_path):
    refused(tmp_path / "gone.npz", "no such model file")
    folder = tmp_path / "model.npz"
    folder.mkdir()
    refused(folder, "is a directory", "not a model file")


def test_a_model_that_could_not_load_back_is_not_written(tmp_path, monkeypatch):
    from tui_trainer.engine import checkpoint

    monkeypatch.setattr(checkpoint, "MAX_HEADER_CHARS", 100)
    with pytest.raises(CheckpointError, match="cannot save: the model's header would hold"):
        train_model(tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


# --- npy headers: shapes and dtypes -------------------------------------------------------------


def test_a_lying_npy_header_is_refused_with_the_member_name(model, tmp_path):
    bad = with_raw_members(model, tmp_path / "liar.npz", param_0=npy_header((100000, 100000)) + bytes(48))
    refused_using_little_memory(bad, "param_0.npy", "(100000, 100000)")


def test_a_header_whose_network_is_huge_is_refused_before_it_is_built(model, tmp_path):
    bad = rewrite(model, tmp_path / "huge.npz", lambda h: h["network"].update(layer_sizes=[100000, 100000, 1]))
    refused_using_little_memory(bad)


@pytest.mark.parametrize("member,value,fragment", [
    ("param_0", np.zeros((2, 3), dtype=np.complex128), "complex"),
    ("param_1", np.zeros(3, dtype=[("a", "<f8")]), "param_1.npy"),
    ("param_1", np.zeros(3, dtype=np.int64), "int64"),
    ("param_1", np.zeros(3, dtype=np.float16), "float16"),
    ("param_1", np.array([1.0, "x", None], dtype=object), "object"),
    ("opt_0_exp_avg", np.zeros((2, 3), dtype=np.complex64), "complex"),
    ("scaler_mean", np.array(["a", "b"]), "scaler_mean.npy"),
    ("extra_losses_x", np.array([1j, 2j]), "complex"),
    ("extra_losses_x", np.array(["a"]), "extra_losses_x.npy"),
    ("header", np.array(3.0), "header.npy"),
])
def test_arrays_of_the_wrong_kind_are_refused(model, tmp_path, member, value, fragment):
    bad = tmp_path / "bad.npz"
    data = members(model)
    data[member] = value
    np.savez(bad, **data)  # an object array goes in pickled: it must never be unpickled
    refused(bad, f"{member}.npy", fragment)


@pytest.mark.parametrize("member,shape", [
    ("param_0", (3, 3)), ("param_1", (3, 1)), ("param_2", (3,)),
    ("opt_0_exp_avg", (3, 2)), ("opt_3_max_exp_avg_sq", (2,)),
    ("scaler_mean", (3,)), ("scaler_std", (2, 1)),
])
def test_arrays_of_the_wrong_shape_are_refused(model, tmp_path, member, shape):
    bad = rewrite(model, tmp_path / "shape.npz", **{member: np.ones(shape)})
    refused(bad, f"{member}.npy", str(shape))


def test_optimizer_state_that_does_not_belong_or_is_incomplete_is_refused(model, tmp_path):
    refused(rewrite(model, tmp_path / "other.npz", opt_0_momentum_buffer=np.zeros((2, 3))), "opt_0_momentum_buffer.npy",
            "adam")
    refused(rewrite(model, tmp_path / "beyond.npz", opt_4_exp_avg=np.zeros((2, 3))), "opt_4_exp_avg.npy")
    refused(rewrite(model, tmp_path / "part.npz", opt_1_exp_avg=None), "opt_1_exp_avg.npy", "missing")


def test_missing_parameters_and_scaler_are_named(model, tmp_path):
    refused(rewrite(model, tmp_path / "p.npz", param_3=None), "param_3.npy", "missing")
    refused(rewrite(model, tmp_path / "s.npz", scaler_std=None), "scaler_std.npy", "missing")


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("member,bad_value,fragment", [
    ("param_2", np.nan, "param_2 (W2) holds NaN values"),
    ("param_1", np.inf, "param_1 (b1) holds infinite values"),
    ("opt_0_exp_avg_sq", np.nan, "opt_0_exp_avg_sq"),
    ("scaler_mean", -np.inf, "scaler_mean"),
])
def test_non_finite_weights_state_and_scaler_are_refused(model, tmp_path, member, bad_value, fragment):
    data = members(model)
    value = data[member].copy()
    value.flat[0] = bad_value
    bad = rewrite(model, tmp_path / "nan.npz", **{member: value})
    refused(bad, fragment, "damaged")


def test_a_zero_scale_is_refused(model, tmp_path):
    refused(rewrite(model, tmp_path / "std.npz", scaler_std=np.zeros(2)), "scaler_std")


# --- the JSON header ----------------------------------------------------------------------------


def test_a_header_nested_too_deeply_is_one_line(model, tmp_path):
    data = members(model)
    data["header"] = np.array("[" * 100_000 + "]" * 100_000)
    bad = tmp_path / "deep.npz"
    np.savez(bad, **data)
    refused(bad, "header", "nested too deeply")


def test_a_header_that_is_not_json_is_one_line(model, tmp_path):
    data = members(model)
    data["header"] = np.array(str(data["header"]).replace('"epoch": 1,', '"epoch": 1' + "0" * 5000 + ","))
    bad = tmp_path / "digits.npz"
    np.savez(bad, **data)
    refused(bad, "header", "not valid JSON")


def test_a_header_too_large_is_refused_before_it_is_read(model, tmp_path):
    bad = with_raw_members(model, tmp_path / "big.npz", header=npy_header((), descr="<U3000000") + bytes(64))
    refused(bad, "header.npy")


@pytest.mark.parametrize("change,fragment", [
    (lambda h: h["network"].update(layer_sizes="2,3,1"), "network"),
    (lambda h: h["network"].update(layer_sizes=[2, True, 1]), "network"),
    (lambda h: h["network"].update(layer_sizes=[2, -3, 1]), "network"),
    (lambda h: h["optimizer"].update(steps=float("inf")), "steps"),
    (lambda h: h["optimizer"].update(steps=-3), "steps"),
    (lambda h: h["optimizer"].update(n_params=1e400), "n_params"),
    (lambda h: h.update(meta=[]), "meta"),
    (lambda h: h.update(config=5), "config"),
])
def test_header_values_of_the_wrong_kind_are_named(model, tmp_path, change, fragment):
    refused(rewrite(model, tmp_path / "h.npz", change), fragment)


@pytest.mark.parametrize("epoch", ["Infinity", "NaN", "1e400", "-1", "2.5", '"x"', "null"])
def test_a_hostile_epoch_is_refused_on_open(model, tmp_path, epoch):
    data = members(model)
    header = str(data["header"]).replace('"epoch": 1,', f'"epoch": {epoch},')
    assert header != str(data["header"])
    data["header"] = np.array(header)
    bad = tmp_path / "epoch.npz"
    np.savez(bad, **data)
    refused(bad, "meta.epoch", load=Experiment.open)


# --- resume checks the data ---------------------------------------------------------------------


@pytest.fixture
def csv_model(tmp_path) -> tuple[Path, Path]:
    data = write_csv(tmp_path / "data.csv")
    return train_model(tmp_path / "model.npz", data), data


def test_resume_on_the_same_data_file_named_again(csv_model):
    model, data = csv_model
    exp, ckpt = Experiment.open(model, data_path=data)
    assert exp.trainer.epoch == 1 and exp.dataset.class_names == ["a", "b", "c"]
    assert Experiment.load(model, data_path=str(data)).trainer.epoch == 1


@pytest.mark.parametrize("kwargs,fragments", [
    (dict(classes=("a", "b")), ["classes ['a', 'b', 'c']", "now has ['a', 'b']", "train a new model"]),
    (dict(classes=("a", "b", "d")), ["classes ['a', 'b', 'c']", "['a', 'b', 'd']"]),
    (dict(classes=("a", "b", "c", "d")), ["classes", "['a', 'b', 'c', 'd']"]),
    (dict(classes=("1", "2", "3")), ["classes", "['1', '2', '3']"]),
    (dict(features=("x2", "x1")), ["features ['x1', 'x2']", "['x2', 'x1']"]),
    (dict(features=("x1", "x2", "x3")), ["2 features", "3"]),
    (dict(target="kind"), ["'label'", "'kind'"]),
])
def test_resume_on_changed_data_says_what_changed(csv_model, tmp_path, kwargs, fragments):
    model, _ = csv_model
    changed = write_csv(tmp_path / "new.csv", **kwargs)
    message = refused(model, "new.csv", *fragments, load=lambda p: Experiment.open(p, data_path=changed))
    assert "does not match its own config" not in message


def test_resume_on_a_regression_target_says_the_problem_changed(csv_model, tmp_path):
    model, _ = csv_model
    changed = tmp_path / "reg.csv"
    changed.write_text("x1,x2,label\n" + "".join(f"{i},{i % 3},{i * 0.37:.2f}\n" for i in range(30)))
    refused(model, "reg.csv", "multiclass", "regression", load=lambda p: Experiment.open(p, data_path=changed))


def test_a_model_of_a_built_in_dataset_checks_it_too(model, tmp_path):
    """The dataset's facts in the model, changed by hand: the rebuilt dataset no longer matches."""
    bad = rewrite(model, tmp_path / "renamed.npz", lambda h: h["meta"].update(class_names=["up", "down"]))
    refused(bad, "classes ['up', 'down']", "moons", load=Experiment.open)


def test_hostile_data_facts_in_the_model_are_refused(model, tmp_path):
    bad = rewrite(model, tmp_path / "facts.npz", lambda h: h["meta"].update(class_names=5))
    refused(bad, "meta.class_names", load=Experiment.open)


# --- the model's config never names a file to read ----------------------------------------------


def test_a_model_trained_on_a_csv_needs_the_data_file_named(csv_model):
    model, data = csv_model
    message = refused(model, str(data), "--data", load=Experiment.open)
    assert f"nn-tui train --resume {model} --data {data}" in message


def test_the_named_data_file_is_read_not_the_one_in_the_model(csv_model, tmp_path):
    model, data = csv_model
    moved = tmp_path / "moved.csv"
    data.rename(moved)
    if hasattr(os, "mkfifo"):
        os.mkfifo(data)  # reading the file the model names would hang
    else:
        data.write_text("not, the, data\n")
    exp, _ = Experiment.open(model, data_path=moved)
    assert exp.config.data.path == str(moved) and exp.trainer.epoch == 1


def test_a_data_file_for_a_model_of_a_built_in_dataset_is_refused(model, tmp_path):
    data = write_csv(tmp_path / "data.csv", classes=("a", "b"))
    refused(model, "moons", "data.csv", load=lambda p: Experiment.open(p, data_path=data))


def test_read_experiment_passes_the_data_file_on(csv_model):
    from tui_trainer.experiments.session import read_experiment

    model, data = csv_model
    with pytest.raises(ValueError, match="--data"):
        read_experiment(model)
    assert read_experiment(model, data_path=data).experiment.trainer.epoch == 1


# --- losses that do not fit ---------------------------------------------------------------------


def test_a_loss_that_does_not_fit_names_the_key_and_the_data():
    with pytest.raises(ValueError) as info:
        output_and_loss("binary", loss="cross_entropy", data="dataset 'moons'")
    assert str(info.value) == ("[network] loss = 'cross_entropy' does not fit a binary problem "
                               "(dataset 'moons'): use bce or mse")
    cfg = with_overrides(ExperimentConfig(), dataset="moons", n_samples=40, loss="cross_entropy")
    with pytest.raises(ValueError, match=r"^\[network\] loss = 'cross_entropy' .*\(dataset 'moons'\): use bce or mse$"):
        Experiment.from_config(cfg)
    with pytest.raises(ValueError, match=r"^\[network\] output = 'sigmoid' does not fit a multiclass problem with "
                                         r"loss cross_entropy: use softmax, or loss = \"mse\" against the one-hot targets$"):
        output_and_loss("multiclass", output="sigmoid")
    assert output_and_loss("multiclass", output="sigmoid", loss="mse") == ("sigmoid", "mse")  # as textbooks train


def test_negative_second_moments_are_damage_not_a_learning_rate_problem(tmp_path):
    """Adam's exp_avg_sq is an average of squares: a negative value can only be damage."""
    import numpy as np

    from tui_trainer.experiments.config import ExperimentConfig, with_overrides
    from tui_trainer.engine.checkpoint import CheckpointError, load_checkpoint
    from tui_trainer.experiments.experiment import Experiment

    exp = Experiment.from_config(with_overrides(ExperimentConfig(), dataset="xor", n_samples=40, hidden=[4],
                                                optimizer="adam", epochs=2))
    exp.trainer.run(2)
    exp.opt.state[1]["exp_avg_sq"][...] = -1.0
    path = tmp_path / "neg.npz"
    with pytest.raises(CheckpointError, match=r"neg.npz: .*exp_avg_sq of parameter 1 holds negative values"):
        exp.save(path)
        load_checkpoint(path)
