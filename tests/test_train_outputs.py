"""``nn-tui train``'s outputs and endings: the ``--out`` folder as a transaction, Ctrl-C, divergence
and the last-resort error line.

The ``--out`` folder always holds the three files of one run (config.toml, model.npz and
metrics.csv), whatever stops the writer: a full disk, a kill at any file operation of the save
(forked children that die at the n-th rename), a SIGKILL at a random moment of the save (real child
processes), or Ctrl-C. Runs are tiny (xor, 4 hidden units, a few epochs) so the file takes a few
seconds.
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import _runs_in_tmp, error_line, no_crash, report, snapshot, train  # noqa: F401
from tui_trainer.experiments import headless
from tui_trainer.experiments.config import load_config

XOR = ("--dataset", "xor", "--hidden", "4", "--batch-size", "full")
CHILD = [sys.executable, "-c", "import sys; sys.argv[0] = 'nn-tui'; from tui_trainer.cli import main; main()"]
"""``nn-tui`` in a fresh process (started with ``as_in_a_shell``: Ctrl-C reaches it as it would from a terminal)."""
KILLED = 77
"""The exit status of a forked child made to die in the middle of the save."""

posix_only = pytest.mark.skipif(os.name != "posix", reason="fork, signals and ptys")


# --- helpers ------------------------------------------------------------------------------------


def whole_result(folder: Path) -> tuple[int, int]:
    """(seed, epochs) of the run in ``folder``, checking that its three files belong to that run:
    config.toml is the config inside model.npz, and metrics.csv ends at the model's epoch."""
    with np.load(folder / "model.npz", allow_pickle=False) as archive:
        header = json.loads(str(archive["header"]))
    assert (folder / "config.toml").read_text(encoding="utf-8") == header["config"]
    rows = (folder / "metrics.csv").read_text(encoding="utf-8").splitlines()
    assert int(rows[-1].split(",")[0]) == header["meta"]["epoch"]
    return load_config(folder / "config.toml").training.seed, header["meta"]["epoch"]


TEMPORARY = re.compile(r"^\.(nn-tui|config\.toml|model\.npz|metrics\.csv)\..*\.(tmp|commit)$")


def temporaries(out: Path) -> list[str]:
    """Our temporaries inside ``out`` and beside it."""
    inside = [p.name for p in out.iterdir() if TEMPORARY.match(p.name)] if out.is_dir() else []
    beside = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    return inside + beside


def mid_commit(out: Path) -> bool:
    """The marker of a save that was moving its files into place."""
    return any(p.name.endswith(".commit") for p in out.iterdir())


def saving(out: Path) -> bool:
    """Whether a save has begun writing into ``out`` (not merely checked that it can)."""
    try:
        return any(p.suffix == ".commit" or any(p.iterdir()) for p in out.iterdir() if p.name.startswith(".nn-tui."))
    except FileNotFoundError:  # a folder moved or removed while we looked
        return False


def model_meta(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(str(archive["header"]))["meta"]


def as_in_a_shell() -> None:
    """Ctrl-C as a shell leaves it to a program it starts: Python's handler, SIGINT not blocked. A
    child inherits both from the test process, and a test worker's may differ (once, under load,
    a child ran on through SIGINT for minutes)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def read_byte(fd: int, timeout: float = 20.0) -> bytes:
    """One byte from the pipe ``fd``, or b"" after ``timeout`` seconds (a deadline for a hang)."""
    ready, _, _ = select.select([fd], [], [], timeout)
    return os.read(fd, 1) if ready else b""


def fork(fn) -> int:
    """Run ``fn()`` in a forked copy of this process (no imports to pay for); its pid."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 98
        try:
            as_in_a_shell()
            code = fn()
        except BaseException:
            code = 99
        finally:
            os._exit(code)
    return pid


def exit_status(pid: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the forked child did not end within {timeout} s")
        time.sleep(0.002)


# --- one line for every failure -----------------------------------------------------------------


@pytest.mark.parametrize("exc,fragments", [
    (MemoryError("Unable to allocate 7.45 GiB"), ["too large to fit in memory", "7.45 GiB"]),
    (RecursionError("maximum recursion depth exceeded"), ["nested too deeply"]),
    (OverflowError("cannot convert float infinity to integer"), ["cannot convert float infinity to integer"]),
    (TypeError("unhashable type: 'list'"), ["unexpected TypeError: unhashable type: 'list'", "please report it"]),
])
def test_unexpected_errors_end_in_one_line(tmp_path, monkeypatch, exc, fragments):
    from tui_trainer.experiments.experiment import Experiment

    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(Experiment, "from_config", fail)
    line = error_line(train(*XOR, "--out", tmp_path / "run"), *fragments)
    assert "Traceback" not in line
    assert not (tmp_path / "run").exists()


# --- the --out folder is checked before training ------------------------------------------------


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if the experiment is even built."""
    from tui_trainer.experiments.experiment import Experiment

    def built(*args, **kwargs):
        raise AssertionError("the experiment was built before --out was checked")

    monkeypatch.setattr(Experiment, "from_config", built)


def test_a_dangling_symlink_is_refused_before_training(tmp_path, no_training):
    (tmp_path / "run").symlink_to(tmp_path / "gone")
    error_line(train(*XOR, "--out", tmp_path / "run"), f"--out {tmp_path / 'run'}", "gone", "does not exist")


def test_a_file_on_the_way_is_refused_before_training(tmp_path, no_training):
    (tmp_path / "taken").write_text("mine")
    error_line(train(*XOR, "--out", tmp_path / "taken" / "run"), str(tmp_path / "taken"), "not a folder")
    assert (tmp_path / "taken").read_text() == "mine"


@pytest.mark.parametrize("name", ["model.npz", "metrics.csv"])
def test_a_folder_in_place_of_an_output_file_is_refused_before_training(tmp_path, no_training, name):
    (tmp_path / "run" / name).mkdir(parents=True)
    error_line(train(*XOR, "--out", tmp_path / "run", "--overwrite"), str(tmp_path / "run" / name), "is a folder")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write into a read-only folder")
@pytest.mark.parametrize("exists", [True, False])
def test_a_read_only_folder_is_refused_before_training(tmp_path, no_training, exists):
    locked = tmp_path / "locked"
    locked.mkdir()
    out = locked / "run" if not exists else locked
    locked.chmod(0o555)
    try:
        error_line(train(*XOR, "--out", out), str(locked), "cannot write")
    finally:
        locked.chmod(0o755)


def test_an_unwritable_folder_is_refused_before_training(tmp_path, no_training, monkeypatch):
    """As the read-only test, for root too: making a folder in it is refused."""
    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(os, "mkdir", refuse)
    error_line(train(*XOR, "--out", tmp_path / "run"), f"--out {tmp_path / 'run'}", "cannot write", "Permission denied")


# --- writing ------------------------------------------------------------------------------------


def test_a_full_disk_names_the_file_and_keeps_the_old_result(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert train(*XOR, "--seed", 1, "--epochs", 2, "--out", out).exit_code == 0
    before = snapshot(out)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)  # (the run store's checkpoints would be warnings: not recorded here)
    error_line(train(*XOR, "--seed", 2, "--out", out, "--overwrite", "--no-record"),
               f"{out / 'model.npz'}: cannot write: No space left on device")
    assert snapshot(out) == before and temporaries(out) == []
    error_line(train(*XOR, "--seed", 2, "--out", tmp_path / "new", "--no-record"), str(tmp_path / "new" / "model.npz"))
    assert not (tmp_path / "new").exists() and temporaries(tmp_path / "new") == []


def test_overwrite_keeps_other_files_and_cleans_up_earlier_crashes(tmp_path):
    out = tmp_path / "run"
    assert train(*XOR, "--seed", 1, "--epochs", 2, "--out", out).exit_code == 0
    (out / "notes.txt").write_text("mine")
    (out / ".notes.txt.tmp").write_text("mine too")  # not one of ours
    stale = [
        tmp_path / f".run.{2**22 + 1}.0badc0de.tmp",  # a new folder's files, being written
        out / f".nn-tui.{2**22 + 1}.0badc0de.tmp",  # files for a folder that exists, being written
        out / ".model.npz.k3j2x9aa.tmp",  # an older writer's temporary file
    ]
    for path in stale:
        if path.suffix == ".tmp" and path.name.startswith((".run", ".nn-tui")):
            path.mkdir()
            (path / "model.npz").write_bytes(b"half")
        else:
            path.write_bytes(b"half")
            os.utime(path, (time.time() - 3600,) * 2)
    result = train(*XOR, "--seed", 2, "--epochs", 3, "--out", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert whole_result(out) == (2, 3)
    assert temporaries(out) == []
    assert (out / "notes.txt").read_text() == "mine" and (out / ".notes.txt.tmp").read_text() == "mine too"


def test_a_live_writers_temporaries_are_left_alone(tmp_path):
    out = tmp_path / "run"
    live = tmp_path / f".run.{os.getpid()}.0badc0de.tmp"  # this process is alive
    live.mkdir()
    assert train(*XOR, "--out", out).exit_code == 0
    assert live.is_dir()


def test_a_csv_inside_out_is_named_relative_to_it(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "data.csv").write_text("a,b,y\n" + "".join(f"{i},{(i * 7) % 5},{i % 2}\n" for i in range(20)))
    assert train("--data", out / "data.csv", "--hidden", "4", "--epochs", 1, "--out", out).exit_code == 0
    assert 'path = "data.csv"' in (out / "config.toml").read_text()  # the folder can move


@posix_only
def test_a_kill_at_any_file_operation_of_the_save_leaves_a_whole_result(tmp_path):
    """Die at the 1st, 2nd, ... rename of the save until one run gets through: after each death the
    folder holds one whole run, or is marked as mid-commit and is completed by the next writer."""
    out = tmp_path / "run"
    assert train(*XOR, "--seed", 1, "--epochs", 2, "--out", out).exit_code == 0
    (out / "notes.txt").write_text("mine")
    seen_mid_commit = False
    for n in range(1, 30):
        def child():
            calls = 0

            def dying(real):
                def move(*args, **kwargs):
                    nonlocal calls
                    calls += 1
                    if calls == n:
                        os._exit(KILLED)
                    return real(*args, **kwargs)
                return move

            os.replace, os.rename = dying(os.replace), dying(os.rename)
            return train(*XOR, "--seed", 2, "--epochs", 3, "--out", out, "--overwrite").exit_code

        code = exit_status(fork(child))
        if code == 0:
            break
        assert code == KILLED
        if mid_commit(out):
            seen_mid_commit = True
        else:
            assert whole_result(out) in ((1, 2), (2, 3))
        headless.recover_out_dir(out)
        assert whole_result(out) in ((1, 2), (2, 3)) and temporaries(out) == []
        assert (out / "notes.txt").read_text() == "mine"
    else:
        pytest.fail("the save never got through")
    assert n >= 4 and seen_mid_commit
    assert whole_result(out) == (2, 3) and temporaries(out) == []


@posix_only
def test_sigkill_during_the_save_leaves_a_whole_result(tmp_path):
    """Real child processes, killed at random moments of the save (once its first file is written)."""
    out = tmp_path / "run"
    big = ("--dataset", "xor", "--hidden", "300,300", "--batch-size", "full")  # a 2 MB model: slow to write
    assert train(*big, "--seed", 1, "--epochs", 1, "--out", out).exit_code == 0
    rng = random.Random(13)
    for seed in (2, 3, 4, 5):
        args = ["train", *big, "--seed", seed, "--epochs", 2, "--out", out, "--overwrite"]
        child = subprocess.Popen([*CHILD, *map(str, args)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while child.poll() is None and not saving(out) and time.monotonic() < deadline:
            pass
        time.sleep(rng.uniform(0, 0.012))  # the save takes about 10 ms
        child.kill()
        child.wait()
        if not mid_commit(out):
            assert whole_result(out)[0] in (1, 2, 3, 4, 5)
        headless.recover_out_dir(out)
        assert whole_result(out)[0] in (1, 2, 3, 4, 5) and temporaries(out) == []
    assert train(*XOR, "--seed", 6, "--out", out, "--overwrite").exit_code == 0
    assert whole_result(out)[0] == 6 and temporaries(out) == []


# --- Ctrl-C -------------------------------------------------------------------------------------


@posix_only
def test_ctrl_c_stops_saves_the_progress_and_exits_130(tmp_path):
    """In a terminal (a pty, so the progress bar shows): Ctrl-C once the bar is up."""
    import pty

    out = tmp_path / "run"
    master, slave = pty.openpty()
    args = ["train", *XOR, "--epochs", 10**9, "--out", out]
    child = subprocess.Popen([*CHILD, *map(str, args)], preexec_fn=as_in_a_shell,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = bytearray()
    started = threading.Event()

    def drain():  # read the terminal until the child closes it (so the child never blocks on it)
        while True:
            try:
                ready, _, _ = select.select([master], [], [], 20)
                chunk = os.read(master, 4096) if ready else b""
            except OSError:
                chunk = b""
            if not chunk:
                break
            shown.extend(chunk)
            if b"epoch" in shown:
                started.set()
        started.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert started.wait(20), bytes(shown)
        time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        stdout, _ = child.communicate(timeout=20)  # a deadline: the run was set for 10**9 epochs
    finally:
        if child.poll() is None:
            child.kill()
        reader.join(5)
        os.close(master)
    text = stdout.decode()
    assert child.returncode == 130, text + bytes(shown).decode(errors="replace")
    assert "Traceback" not in text + bytes(shown).decode(errors="replace")
    assert re.search(r"^interrupted\s+True$", text, re.M), text
    assert "wrote" in text
    seed, epochs = whole_result(out)
    assert 0 < epochs < 10**9
    assert model_meta(out / "model.npz")["progress"]["status"] == "interrupted"
    assert b"Ctrl-C" in shown and temporaries(out) == []
    from tui_trainer.experiments import runs  # the run is recorded as interrupted, with its summary
    [run] = runs.list_runs(Path(os.environ["NN_TUI_RUNS"]))
    assert run.status == "interrupted" and run.summary["interrupted"] is True
    assert run.summary["epochs"] == epochs and run.meta["out"] == str(out)


@posix_only
def test_a_second_ctrl_c_quits_at_once(tmp_path):
    """Ctrl-C while training, then again while the (here very slow) save runs: quit at once."""
    from tui_trainer.engine.trainer import Trainer

    out = tmp_path / "run"
    read_end, write_end = os.pipe()

    def child():
        os.close(read_end)
        step = Trainer.step

        def announced_step(self):
            if self.step_count == 0:
                os.write(write_end, b"t")  # training: Ctrl-C now stops it
            return step(self)

        def slow_write(*args, **kwargs):
            os.write(write_end, b"s")
            time.sleep(20)

        Trainer.step = announced_step
        headless.write_outputs = slow_write
        return train(*XOR, "--epochs", 10**9, "--out", out).exit_code

    pid = fork(child)
    os.close(write_end)
    try:
        assert read_byte(read_end) == b"t"
        os.kill(pid, signal.SIGINT)
        assert read_byte(read_end) == b"s", "the first Ctrl-C did not stop the training for the save"
        os.kill(pid, signal.SIGINT)
        assert exit_status(pid, timeout=10) == 130  # a deadline well inside the save's 20 s
    finally:
        os.close(read_end)
    assert not out.exists()


# --- divergence ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("error")
def test_an_exploding_cost_is_divergence_with_status_3():
    result = train("--dataset", "sine", "--optimizer", "sgd", "--lr", "1", "--epochs", 50)
    no_crash(result)
    assert result.exit_code == 3, result.output
    assert re.search(r"^diverged\s+True$", result.output, re.M)
    assert "exploded" in result.output and "lower the learning rate" in result.output


def test_a_diverged_run_replaces_a_good_model_only_when_asked(tmp_path):
    out = tmp_path / "run"
    sine = ("--dataset", "sine", "--optimizer", "sgd", "--epochs", 3)
    assert train(*sine, "--lr", "0.01", "--out", out).exit_code == 0
    before = snapshot(out)

    refused = train(*sine, "--lr", "1", "--out", out, "--overwrite")
    assert refused.exit_code == 3
    assert f"nothing written to {out}: training diverged" in refused.output and "--keep-diverged" in refused.output
    assert snapshot(out) == before

    kept = train(*sine, "--lr", "1", "--out", out, "--overwrite", "--keep-diverged", "--json")
    assert kept.exit_code == 3, kept.output
    assert report(kept)["diverged"] is True
    whole_result(out)
    meta = model_meta(out / "model.npz")
    assert meta["progress"]["status"] == "diverged" and "exploded" in meta["progress"]["divergence"]


# --- resume on a data file, and the memory budget -----------------------------------------------------


def test_a_model_trained_on_a_csv_resumes_only_with_the_data_file_named(tmp_path):
    data = tmp_path / "points.csv"
    data.write_text("a,b,label\n" + "".join(f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}\n" for i in range(40)))
    out = tmp_path / "run"
    assert train("--data", str(data), "--hidden", "4", "--epochs", "2", "--out", str(out), "--json").exit_code == 0
    model = out / "model.npz"
    error_line(train("--resume", str(model), "--epochs", "1"), "trained on the data file", f"--data {data}")
    assert report(train("--resume", str(model), "--data", str(data), "--epochs", "1", "--json"))["epochs"] == 3
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(data.read_text().replace("yes", "maybe"))
    error_line(train("--resume", str(model), "--data", str(renamed)), "classes", "renamed.csv", "train a new model")
    error_line(train("--resume", str(model), "--dataset", "xor"), "--dataset cannot change when resuming")


def test_an_experiment_over_the_memory_budget_is_refused_before_it_is_built(monkeypatch):
    error_line(train(*XOR[:2], "--hidden", "512,512", "--memory-budget", "1M"),
               "--hidden", "needs about", "MiB", "memory budget of 1.0 MiB", "--memory-budget 1M")
    monkeypatch.setenv("NN_TUI_MEMORY_BUDGET", "1M")
    error_line(train("--dataset", "digits"), "--dataset 'digits'", "NN_TUI_MEMORY_BUDGET=1M")
    error_line(train("--memory-budget", "lots"), "--memory-budget", "512M")


def test_every_refusal_names_the_option_key_or_variable_it_is_about(tmp_path, monkeypatch):
    from tests.test_cli import invoke

    config = tmp_path / "ce.toml"
    config.write_text('[data]\ndataset = "xor"\n[network]\nloss = "cross_entropy"\n')
    error_line(train("--config", str(config)), "ce.toml", "[network] loss = 'cross_entropy'", "use bce or mse")
    error_line(invoke("sweep", "--optimizer", "sgd", "--hidden", "100000"), "--hidden 100000", "at most 4096")
    error_line(invoke("compare", "--optimizers", "sgd", "--batch-modes", "full,1000000000000"), "--batch-modes")
    error_line(invoke("surface", "--start", "1e200,1e200"), "--start", "at most 1000")
    monkeypatch.setenv("NN_TUI_MEMORY_BUDGET", "junk")
    for args in (("train", *XOR), ("compare", "--epochs", "2")):
        line = error_line(invoke(*args), "NN_TUI_MEMORY_BUDGET", "'junk' is not a size")
        assert "race fewer lanes" not in line and "problems" not in line


def test_ctrl_c_outside_training_ends_quietly_with_130():
    import click
    from click.testing import CliRunner

    from tui_trainer.cli.common import friendly_errors

    @click.command()
    @friendly_errors
    def starting() -> None:
        raise KeyboardInterrupt  # Ctrl-C while the experiment is still being built

    result = CliRunner().invoke(starting, [])
    assert result.exit_code == 130 and "Traceback" not in result.output


def test_a_bad_width_in_a_list_of_layers_says_which_one():
    error_line(train("--hidden", "8,100000"), "--hidden 8,100000: item 2 (100000): at most 4096")
