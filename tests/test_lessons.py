"""Lessons: each check fails on the lesson's own preset and passes once its task is done; progress
survives a broken file; the course is in order and covers the issue's topics."""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from tui_trainer.experiments import lessons
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.lessons import LESSONS, check_lesson, lesson_named, load_progress, mark_completed, progress_path
from tui_trainer.experiments.presets import PRESETS, get_preset

DONE = {
    # lesson id -> the overrides that do its task (the lesson's preset changed as the task asks)
    "shapes-and-features": dict(hidden=[3]),
    "linear-collapse": dict(activation="relu"),
    "vanishing-gradient": dict(activation="relu"),
    "output-layer": dict(dataset="iris"),
    "cost-vs-loss": dict(batch_size="full"),
    "learning-rate": dict(lr=1.0),
    "backprop": dict(hidden=[16, 16, 16]),
    "batch-size": dict(batch_size=1),
    "momentum": dict(optimizer="momentum", lr=0.1),
    "adagrad": dict(lr=0.3),
    "rmsprop": dict(optimizer="rmsprop", lr=0.01),
    "adam": dict(optimizer="adam", lr=0.01),
    "adamw": dict(hparams=None, weight_decay=10.0),
    "initialization": dict(init="xavier"),
    "overfitting": dict(l2=0.01),
    "choosing-an-optimizer": dict(optimizer="momentum", lr=0.01),
}


def done(lesson_id):
    """The lesson's preset changed as its task asks."""
    overrides = dict(DONE[lesson_id])
    config = get_preset(lesson_named(lesson_id).preset)
    if "weight_decay" in overrides:  # an optimizer hyperparameter: not an override key
        config.optimizer.hparams["weight_decay"] = overrides.pop("weight_decay")
        overrides.pop("hparams")
    return with_overrides(config, **overrides)


def test_every_lesson_has_a_done_task_in_this_test():
    assert sorted(DONE) == sorted(lesson.id for lesson in LESSONS)


@pytest.mark.parametrize("lesson_id", list(DONE))
def test_a_check_fails_on_the_lessons_preset_and_passes_once_its_task_is_done(lesson_id):
    lesson = lesson_named(lesson_id)
    before = check_lesson(lesson, get_preset(lesson.preset))
    assert not before.passed, before.text
    after = check_lesson(lesson, done(lesson_id))
    assert after.passed, after.text
    assert "\n" not in before.text and "want" in before.text
    assert before.unmet and all(part in before.text and "want" in part for part in before.unmet.split("; "))
    assert after.unmet == ""


def test_not_yet_names_what_is_unmet_where_the_rest_holds():
    """Overfitting with the val loss under the bar: the unmet part is the overfitting, said with its want."""
    from types import SimpleNamespace

    snap = SimpleNamespace(epoch=400, early_stopped=False, overfit_since=17, val_loss=0.54)
    measured = lesson_named("overfitting").check(snap, get_preset("overfit"))
    assert not measured.passed
    assert measured.text == "overfitting since epoch 17, want none; val loss 0.54, want <= 0.60"
    assert measured.unmet == "overfitting since epoch 17, want none"


def test_the_vanishing_gradient_check_says_what_it_measured():
    lesson = lesson_named("vanishing-gradient")
    text = check_lesson(lesson, get_preset("deep-sigmoid")).text
    assert text.startswith("first-layer gradient ratio 1e-04, want > 1e-03; val acc 0.50, want >= 0.90"), text


def test_lessons_are_well_formed():
    ids = [lesson.id for lesson in LESSONS]
    assert len(ids) == len(set(ids))
    for lesson in LESSONS:
        assert lesson.preset in PRESETS, lesson.id
        assert lesson.hints and lesson.topics and lesson.text and lesson.task
        assert str(lesson.epochs) in lesson.task, lesson.id
        assert len(textwrap.wrap(lesson.text, 76)) <= 7, lesson.id  # a few lines at 80 columns
        assert "\n" not in lesson.text + lesson.task  # paragraphs: the screen wraps them to its width


def test_an_unknown_lesson_names_the_ids_and_the_closest_one():
    with pytest.raises(ValueError, match="did you mean 'vanishing-gradient'"):
        lesson_named("vanishing-gradients")


def test_progress_lives_in_the_xdg_state_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert progress_path() == tmp_path / "nn-tui" / "lessons.json"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert progress_path() == tmp_path / ".local" / "state" / "nn-tui" / "lessons.json"


def test_progress_is_written_and_read_back(tmp_path):
    path = tmp_path / "state" / "nn-tui" / "lessons.json"
    assert load_progress(path) == (frozenset(), "")
    assert mark_completed("vanishing-gradient", path) == ""
    assert mark_completed("linear-collapse", path) == ""
    assert load_progress(path) == (frozenset({"vanishing-gradient", "linear-collapse"}), "")
    assert json.loads(path.read_text())["completed"] == ["linear-collapse", "vanishing-gradient"]  # course order
    assert [p.name for p in path.parent.iterdir()] == ["lessons.json"]  # no temporary left


@pytest.mark.parametrize("garbage", [b"\x00\xff garbage", b"[1, 2]", b'{"completed": [3]}', b"{"])
def test_a_broken_progress_file_is_a_warning_and_is_replaced(tmp_path, garbage):
    path = tmp_path / "lessons.json"
    path.write_bytes(garbage)
    done, warning = load_progress(path)
    assert done == frozenset() and warning.startswith(f"lesson progress not read: {path}")
    assert mark_completed("linear-collapse", path).startswith("lesson progress not read")
    assert load_progress(path) == (frozenset({"linear-collapse"}), "")


def test_a_folder_in_place_of_the_progress_file_is_a_warning(tmp_path):
    path = tmp_path / "lessons.json"
    path.mkdir()
    done, warning = load_progress(path)
    assert done == frozenset() and str(path) in warning
    assert "not saved" in mark_completed("linear-collapse", path)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_progress_file_is_a_warning(tmp_path):
    path = tmp_path / "lessons.json"
    path.write_text('{"completed": ["linear-collapse"]}')
    path.chmod(0)
    try:
        done, warning = load_progress(path)
    finally:
        path.chmod(0o600)
    assert done == frozenset() and warning == f"lesson progress not read: {path}: cannot read it (Permission denied)"


def test_unknown_ids_in_the_progress_file_are_left_out(tmp_path):
    path = tmp_path / "lessons.json"
    path.write_text('{"completed": ["linear-collapse", "gone-lesson"]}')
    assert load_progress(path) == (frozenset({"linear-collapse"}), "")
    assert lessons.LESSONS  # the module is importable without textual


def test_a_progress_file_that_cannot_be_read_is_a_warning(tmp_path, monkeypatch):
    path = tmp_path / "lessons.json"
    path.write_text('{"completed": ["linear-collapse"]}')

    real_open = os.open

    def denied(name, *args, **kwargs):
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    assert load_progress(path) == (frozenset(), f"lesson progress not read: {path}: cannot read it (Permission denied)")


def test_a_pipe_in_place_of_the_progress_file_is_a_warning_never_a_wait(tmp_path):
    path = tmp_path / "lessons.json"
    os.mkfifo(path)
    done, warning = load_progress(path)
    assert done == frozenset() and warning.startswith(f"lesson progress not read: {path}: ")


def test_no_home_folder_is_a_warning(monkeypatch):
    monkeypatch.delenv("XDG_STATE_HOME")

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(lessons.Path, "home", staticmethod(no_home))
    assert load_progress() == (frozenset(), "lesson progress not read: Could not determine home directory.")
    assert mark_completed("linear-collapse") == "lesson progress not saved: Could not determine home directory."


@pytest.mark.parametrize("preset_name", sorted(PRESETS))
def test_every_check_reads_any_experiments_snapshot_before_and_after_training(preset_name):
    from tui_trainer.experiments.session import Session

    session = Session(with_overrides(get_preset(preset_name), epochs=1))
    session.set_pace(None)
    snapshots = [session.snapshot()]
    session.run(snapshots.append)
    for snap in (snapshots[0], snapshots[-1]):
        for lesson in LESSONS:
            measured = lesson.check(snap, session.config)
            assert isinstance(measured.passed, bool) and measured.text and "\n" not in measured.text


COURSE = (  # the topics the course covers, in order (issue: "Lessons cover, in order")
    "X @ W + b and what rows and columns of W mean (shapes)", "nodes as new features",
    "linear collapse without activations", "sigmoid and np.exp", "ReLU and the vanishing gradient",
    "one-hot and the output layer", "cost vs mini-batch loss", "gradient descent and the learning rate (too high, too low)",
    "partial derivatives", "backprop step by step", "batch, mini-batch and single-sample", "momentum", "AdaGrad",
    "RMSprop", "Adam", "AdamW vs Adam with L2", "AdamP", "initialization and symmetry", "overfitting and its fixes",
    "which optimizer suits which task (with the protocol of the matrix)",
)


def test_the_lessons_cover_the_course_in_order():
    where = {topic: i for i, lesson in enumerate(LESSONS) for topic in lesson.topics}
    assert sorted(where, key=COURSE.index) == list(COURSE)
    riders = ("partial derivatives", "AdamP")  # taught with gradient descent and with choosing an optimizer
    lesson_of = [where[topic] for topic in COURSE if topic not in riders]
    assert lesson_of == sorted(lesson_of)
    assert len(LESSONS) >= 12


def test_without_a_validation_set_a_check_says_it_cannot_measure():
    from tui_trainer.experiments.session import Session

    lesson = lesson_named("linear-collapse")
    config = with_overrides(get_preset("relu-xor"), epochs=2)
    config.data.val_split = 0.0
    session = Session(config)
    session.set_pace(None)
    last = []
    session.run(last.append)
    measured = lesson.check(last[-1], session.config)
    assert not measured.passed and "no validation set (val split 0), want one to measure val acc" in measured.text
    overfit = lesson_named("overfitting").check(last[-1], session.config)
    assert "want one to measure val loss" in overfit.text
