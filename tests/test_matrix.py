"""Which optimizer suits which task: the matrix's protocol (``experiments.matrix``) and
``nn-tui compare --datasets``."""

import json
import statistics

import numpy as np
import pytest
from click.testing import CliRunner

from tui_trainer.cli import main
from tui_trainer.experiments import matrix
from tui_trainer.experiments.config import ExperimentConfig, with_overrides
from tui_trainer.experiments.lab import Race
from tui_trainer.experiments.matrix import (
    LR_GRID, Cell, Outcome, Protocol, Task, make_cell, run_matrix, run_task, spread, verdict,
)

SMALL = Protocol(seeds=2, epochs=2, lr_grid=(0.01, 0.1))


def config() -> ExperimentConfig:
    return with_overrides(ExperimentConfig(), hidden=[8], batch_size=32, n_samples=120)


def run(*args):
    return CliRunner().invoke(main, ["compare", *args])


def cell(name: str, scores: list, dataset: str = "d") -> Cell:
    s = spread(scores)
    return Cell(dataset, name, 0.1, s, s, "val_accuracy")


# --- the protocol --------------------------------------------------------------------------------


def test_the_default_protocol_is_five_seeds_and_one_grid_of_seven_rates_from_1e_4_to_1():
    p = Protocol()
    assert p.seeds == 5 and p.epochs == 30 and p.tuned
    assert len(LR_GRID) == 7 and LR_GRID[0] == pytest.approx(1e-4) and LR_GRID[-1] == pytest.approx(1.0)
    assert np.allclose(np.diff(np.log10(LR_GRID)), 4 / 6, atol=0.015)  # two significant digits
    assert LR_GRID == (1e-4, 4.6e-4, 0.0022, 0.01, 0.046, 0.22, 1.0)
    assert p.describe() == "5 seeds, lr tuned per optimizer over 7 rates (1e-4..1) on val loss, 30 epochs"
    fixed = Protocol(fixed_lrs=(("sgd", 0.1), ("adam", 0.01)))
    assert fixed.rates("adam") == (0.01,) and "fixed rates" in fixed.describe() and "tuned" not in fixed.describe()
    assert "a winner may change with the seed" in Protocol(seeds=3).describe()


def test_every_rate_and_optimizer_of_a_seed_starts_from_the_same_weights_and_sees_the_same_batches(monkeypatch):
    starts, batches = [], []

    class Watched(Race):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for lane in self.lanes:
                starts.append(lane.trainer.net.flat_params.copy())
                log: list = []
                batches.append(log)
                net = lane.trainer.net
                net.loss_and_grads = (lambda X, Y, loss, _orig=net.loss_and_grads, _log=log:
                                      (_log.append(X.copy()), _orig(X, Y, loss))[1])

    monkeypatch.setattr(matrix, "Race", Watched)
    for name in ("sgd", "adam"):
        run_task(Task(config(), "moons", 3, name, (0.01, 0.1), 2))
    assert len(starts) == 4
    assert all(np.array_equal(starts[0], s) for s in starts[1:])
    assert all(len(b) == len(batches[0]) > 2 and all(np.array_equal(x, y) for x, y in zip(batches[0], b))
               for b in batches[1:])
    run_task(Task(config(), "moons", 4, "sgd", (0.01,), 2))
    assert not np.array_equal(starts[0], starts[-1])  # another seed: other weights


def test_a_cell_is_the_median_and_range_of_the_seeds_that_did_not_diverge():
    s = spread([0.3, None, 0.1, 0.2, 0.5])
    assert (s.median, s.low, s.high, s.diverged, s.runs) == (0.25, 0.1, 0.5, 1, 5)
    assert s.median == statistics.median([0.3, 0.1, 0.2, 0.5])
    mostly_diverged = spread([0.1, None, None, 0.2])
    assert mostly_diverged.median is None and mostly_diverged.low is None  # not ranked


def test_tuning_picks_the_rate_with_fewest_diverged_seeds_then_the_lowest_median():
    def outcomes(lr, scores):
        return [Outcome("d", "sgd", lr, seed, s, None if s is None else 0.9, "val_accuracy", "val_loss")
                for seed, s in enumerate(scores)]

    c = make_cell(outcomes(0.01, [0.5, 0.6, 0.55]) + outcomes(0.1, [0.2, 0.3, 0.25])
                  + outcomes(1.0, [0.01, None, 0.02]))
    assert c.lr == 0.1 and c.score.median == 0.25  # 1.0 is lower but one seed diverged
    assert [lr for lr, _ in c.grid] == [0.01, 0.1, 1.0] and c.grid[2][1].diverged == 1
    assert c.metric.median == 0.9


def test_a_winner_only_where_its_range_clears_the_runner_up_else_a_tie():
    clear = verdict([cell("sgd", [0.5, 0.6, 0.7]), cell("adam", [0.1, 0.2, 0.3]), cell("rmsprop", [0.35, 0.4, 0.9])])
    assert clear.best == ["adam"] and not clear.tie and clear.text() == "adam"
    tie = verdict([cell("sgd", [0.5, 0.6, 0.7]), cell("adam", [0.1, 0.2, 0.4]), cell("rmsprop", [0.35, 0.4, 0.9]),
                   cell("momentum", [0.15, 0.3, 0.45])])
    assert tie.tie and tie.best == ["adam", "momentum", "rmsprop"]  # best median first; sgd's range starts above
    assert tie.text() == "tie: adam, momentum, rmsprop"
    # a diverged optimizer is never ranked, even with one low seed
    ranked = verdict([cell("sgd", [0.01, None, None]), cell("adam", [0.2, 0.3, 0.25])])
    assert ranked.best == ["adam"] and not ranked.tie
    assert verdict([cell("sgd", [None, None])]).text() == "no verdict: every optimizer diverged"


def test_processes_and_one_thread_give_the_same_matrix():
    args = (config(), ["moons"], ["sgd", "adam"], SMALL)
    one = run_matrix(*args, workers=1).as_json()
    two = run_matrix(*args, workers=2).as_json()
    assert one == two
    assert [(r["dataset"], r["optimizer"]) for r in one["matrix"]] == [("moons", "sgd"), ("moons", "adam")]


def test_progress_counts_every_task_and_a_stop_keeps_the_finished_cells():
    seen = []
    result = run_matrix(config(), ["moons", "sine"], ["sgd"], SMALL, workers=1,
                        on_progress=lambda done, total, r: seen.append((done, total, len(r.cells))))
    assert seen == [(1, 4, 0), (2, 4, 1), (3, 4, 1), (4, 4, 2)]
    assert [v.dataset for v in result.verdicts] == ["moons", "sine"]
    stopped = run_matrix(config(), ["moons", "sine"], ["sgd"], SMALL, workers=1,
                         should_stop=lambda: len(seen) >= 6, on_progress=lambda *a: seen.append(a))
    assert [c.dataset for c in stopped.cells] == ["moons"] and [v.dataset for v in stopped.verdicts] == ["moons"]


def test_the_matrix_session_hands_copies_and_a_last_one_as_the_matrix_says():
    from tui_trainer.experiments.matrix_session import MatrixSession

    session = MatrixSession(config(), ["moons", "sine"], ["sgd"], SMALL, workers=1)
    copies = []
    session.prepare_run()
    session.run(copies.append)
    assert session.total == 4 and [(p.done, p.total, len(p.result.cells)) for p in copies[:-1]] == [
        (1, 4, 0), (2, 4, 1), (3, 4, 1), (4, 4, 2)]
    assert copies[-1].final and copies[-1].result.as_json() == run_matrix(
        config(), ["moons", "sine"], ["sgd"], SMALL, workers=1).as_json()
    assert copies[1].result.cells is not copies[2].result.cells  # each a copy, never the live list


def test_stopping_the_matrix_session_ends_its_worker_processes_at_once():
    import multiprocessing
    import threading
    import time

    from tui_trainer.experiments.matrix_session import MatrixSession

    long = Protocol(seeds=2, epochs=100_000, lr_grid=(0.01,))
    session = MatrixSession(config(), ["moons"], ["sgd", "adam"], long, workers=2)
    ended = []
    thread = threading.Thread(target=lambda: ended.append(session.run(lambda p: None)))
    thread.start()
    deadline = time.monotonic() + 30
    while len(multiprocessing.active_children()) < 2:  # the worker processes have started
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.01)
    stopped = time.monotonic()
    session.stop()
    thread.join(10)
    took = time.monotonic() - stopped
    assert ended == [None] and multiprocessing.active_children() == []
    assert took < 1.0, f"{took:.2f} s to stop"


# --- the command line ------------------------------------------------------------------------------


FIXED = ["--optimizers", "sgd,adam", "--lrs", "0.1,0.01", "--seeds", "2", "--epochs", "2", "--hidden", "8",
         "--workers", "1"]


def test_json_names_the_protocol_the_cells_and_the_verdicts_on_its_last_line():
    result = run("--datasets", "moons,sine", *FIXED, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output.splitlines()[-1])
    assert list(doc) == ["protocol", "matrix", "verdicts"]
    assert doc["protocol"]["seeds"] == 2 and doc["protocol"]["epochs"] == 2 and doc["protocol"]["score"] == "val_loss"
    assert doc["protocol"]["fixed_lrs"] == {"sgd": 0.1, "adam": 0.01} and not doc["protocol"]["tuned"]
    for row in doc["matrix"]:
        assert {"dataset", "optimizer", "lr", "median", "low", "high", "diverged"} <= set(row)
        assert row["low"] <= row["median"] <= row["high"] and row["diverged"] == 0 and row["seeds"] == 2
    assert [(r["dataset"], r["optimizer"]) for r in doc["matrix"]] == [
        ("moons", "sgd"), ("moons", "adam"), ("sine", "sgd"), ("sine", "adam")]
    for v in doc["verdicts"]:
        cells = [r for r in doc["matrix"] if r["dataset"] == v["dataset"]]
        ranked = sorted(cells, key=lambda r: r["median"])
        assert v["best"][0] == ranked[0]["optimizer"]
        assert v["tie"] == (ranked[0]["high"] >= ranked[1]["low"])


def test_the_default_tunes_every_rate_over_the_grid():
    result = run("--datasets", "moons", "--optimizers", "sgd,adam", "--seeds", "2", "--epochs", "1", "--hidden", "4",
                 "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output.splitlines()[-1])
    assert doc["protocol"]["lr_grid"] == list(LR_GRID) and doc["protocol"]["tuned"]
    for row in doc["matrix"]:
        assert [g["lr"] for g in row["grid"]] == list(LR_GRID)
        assert row["lr"] == min(row["grid"], key=lambda g: (g["diverged"], g["median"] if g["median"] is not None
                                                             else float("inf")))["lr"]


def test_the_text_states_the_protocol_and_each_verdict_within_80_columns():
    result = run("--datasets", "spiral,moons,sine,digits", *FIXED)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    text = " ".join(result.output.split())
    assert "Protocol: 2 seeds (fewer than 5: a winner may change with the seed), fixed rates, 2 epochs." in text
    assert "the same weights and sees the same batches" in text
    assert lines.count("optimizer        lr    median       low      high  diverged    val acc") == 3
    assert sum(line.startswith("verdict: ") for line in lines) == 4
    assert "Which optimizer suits which task" in text


def test_every_optimizer_still_fits_80_columns():
    result = run("--datasets", "multi_gaussian", "--lrs", "0.01", "--seeds", "1", "--epochs", "1", "--hidden", "4",
                 "--workers", "1")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_compare_without_datasets_is_the_one_dataset_race():
    result = run("--optimizers", "sgd,adam", "--epochs", "2", "--dataset", "moons")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("moons: ") and "<- best" in result.output


@pytest.mark.parametrize("args, message", [
    (["--datasets", "spiral,nope"], "unknown dataset 'nope'; choose from: xor, circles"),
    (["--datasets", "spiral", "--optimizers", "sgd,nope"], "unknown optimizer 'nope'; choose from: sgd, momentum"),
    (["--datasets", "spiral,spiral"], "'spiral' is named twice"),
    (["--datasets", "spiral", "--dataset", "moons"], "give --dataset or --datasets, not both"),
    (["--datasets", "spiral", "--target-loss", "0.1"], "--target-loss counts updates in one race"),
    (["--datasets", "spiral", "--optimizers", "sgd", "--batch-modes", "full,1"], "--batch-modes races one optimizer"),
    (["--datasets", "spiral", "--optimizers", "sgd,adam", "--lrs", "1,2,3"], "3 learning rates for 2 optimizers"),
    (["--datasets", "spiral", "--seeds", "0"], "--seeds"),
])
def test_bad_input_is_one_error_line(args, message):
    result = run(*args, "--epochs", "1")
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output


def test_without_a_validation_set_the_matrix_scores_and_says_the_final_cost():
    result = run_matrix(with_overrides(config(), val_split=0), ["moons"], ["sgd"], SMALL, workers=1)
    assert result.score == "final_loss" and result.as_json()["protocol"]["score"] == "final_loss"
    assert "on final cost" in result.protocol.describe(result.score)
    assert result.cells[0].metric_name == "train_accuracy"
