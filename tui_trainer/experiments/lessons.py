"""Lessons: the course in order, each with a ready experiment, a task and a check that measures it.

Textual-free: the app's lessons screen and ``nn-tui learn`` both use it. A ``Lesson`` names the
view that shows its idea, the preset it loads, a task the learner does by changing settings, and a
``check`` that reads a session ``Snapshot`` (and the current config) and says in one line what it
measured against what it wants (``Measured``). ``check_lesson`` trains a config headless for the
lesson's epoch budget and runs the check on the last snapshot.

Progress (the ids of the completed lessons) lives in ``progress_path()``, written atomically; a
broken or unreadable progress file is a warning, never a crash.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..engine.atomic import write_atomic
from .config import ExperimentConfig

if TYPE_CHECKING:
    from .session import Snapshot

__all__ = ["LESSONS", "Lesson", "Measured", "check_lesson", "lesson_named", "load_progress",
           "mark_completed", "progress_path"]


@dataclass(frozen=True)
class Measured:
    """A check's verdict: passed, and one line saying what was measured against what is wanted."""

    passed: bool
    text: str


@dataclass(frozen=True)
class Lesson:
    """One step of the course (module docstring)."""

    id: str
    """Stable slug, e.g. ``vanishing-gradient``."""
    title: str
    topics: tuple[str, ...]
    text: str
    """What to look at and why: a few short lines."""
    view_key: str
    """The key of the view that shows it; "" for the main screen."""
    preset: str
    """The preset (``presets.PRESETS``) loaded when the lesson opens."""
    task: str
    epochs: int
    """The epoch budget the task and the headless check use."""
    check: Callable[["Snapshot", ExperimentConfig], Measured]
    hints: tuple[str, ...]
    misconception: str = ""
    """Where the usual course notes go wrong ("" when the lesson has none)."""


# -- what the checks measure ----------------------------------------------------------------------

def _num(value: float | None, digits: int = 2) -> str:
    """``0.93``; ``-`` for nothing measured yet; small and large values in e-notation."""
    if value is None or not math.isfinite(value):
        return "-" if value is None else str(value)
    if value != 0 and (abs(value) < 10 ** -digits or abs(value) >= 1e4):
        return f"{value:.0e}"
    return f"{value:.{digits}f}"


def _within(snap: "Snapshot", epochs: int) -> tuple[bool, str]:
    """Whether the snapshot is still inside the epoch budget, and the words when it is not."""
    if snap.epoch > epochs:
        return False, f"epoch {snap.epoch}, past the budget of {epochs}"
    return True, ""


def _at_least(name: str, value: float | None, want: float) -> tuple[bool, str]:
    ok = value is not None and math.isfinite(value) and value >= want
    return ok, f"{name} {_num(value)}, want >= {_num(want)}"


def _at_most(name: str, value: float | None, want: float) -> tuple[bool, str]:
    ok = value is not None and math.isfinite(value) and value <= want
    return ok, f"{name} {_num(value)}, want <= {_num(want)}"


def _verdict(*parts: tuple[bool, str]) -> Measured:
    """All the parts passed; their texts joined by ``; `` (empty ones left out)."""
    return Measured(all(ok for ok, _ in parts), "; ".join(text for _, text in parts if text))


def _hidden_layers(config: ExperimentConfig, at_least: int, why: str) -> tuple[bool, str]:
    """The task keeps the network at least ``at_least`` hidden layers deep."""
    n = len(config.network.hidden)
    if n >= at_least:
        return True, ""
    return False, f"{n} hidden layers, want >= {at_least} ({why})"


def _dataset(config: ExperimentConfig, name: str) -> tuple[bool, str]:
    """The task keeps the lesson's dataset."""
    if config.data.dataset == name and config.data.path is None:
        return True, ""
    return False, f"data {config.data.dataset or config.data.path}, want {name} (the task keeps the data)"


def _grad_ratio(snap: "Snapshot") -> float | None:
    """The first layer's weight-gradient norm over the last layer's (None before a step)."""
    norms = snap.grad_norms
    if len(norms) < 2 or not norms[-1]:
        return None
    return norms[0] / norms[-1]


# -- the lessons ----------------------------------------------------------------------------------

def _check_linear_collapse(snap: "Snapshot", config: ExperimentConfig) -> Measured:
    return _verdict(_dataset(config, "xor"), _hidden_layers(config, 3, "the task keeps 3 hidden layers"),
                    _within(snap, 50), _at_least("val acc", snap.val_metric, 0.9))


def _check_vanishing(snap: "Snapshot", config: ExperimentConfig) -> Measured:
    ratio = _grad_ratio(snap)
    ratio_text = f"first-layer gradient ratio {_num(ratio)}, want > 1e-03"
    return _verdict(_dataset(config, "circles"), _hidden_layers(config, 6, "the task keeps the deep network"),
                    _within(snap, 100), (ratio is not None and ratio > 1e-3, ratio_text),
                    _at_least("val acc", snap.val_metric, 0.9))


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        id="linear-collapse",
        title="Linear collapse: layers without activations",
        topics=("linear collapse without activations",),
        text=("Three hidden layers with no activation compute X @ W1 @ W2 @ W3 @ W4 + b: one matrix in\n"
              "disguise, so the boundary is a straight line and xor stays out of reach. Press x to\n"
              "see the product of the layers and the single layer it equals."),
        view_key="x",
        preset="linear-xor",
        task="make the network learn xor: validation accuracy >= 0.9 within 50 epochs, keeping 3 hidden layers",
        epochs=50,
        check=_check_linear_collapse,
        hints=("The layers are fine; what they lack is a bend between them.",
               "Change the activation (a to cycle it in the config pane) from linear to relu or tanh."),
        misconception=("\"A linear map preserves distances\": only rotations and reflections do. A linear "
                       "layer may stretch, squash or flatten the plane; what it cannot do is bend it."),
    ),
    Lesson(
        id="vanishing-gradient",
        title="ReLU and the vanishing gradient",
        topics=("ReLU and the vanishing gradient",),
        text=("Six sigmoid layers: backprop multiplies the gradient by sigmoid'(z) <= 1/4 at each\n"
              "layer, so the first layer's weights get a gradient ~1e-4 of the last layer's and\n"
              "barely move. Press g: the gradient-flow view shows each layer's gradient norm."),
        view_key="g",
        preset="deep-sigmoid",
        task="make the deep-sigmoid network learn: validation accuracy >= 0.9 within 100 epochs, keeping 6 hidden layers",
        epochs=100,
        check=_check_vanishing,
        hints=("Watch the g view: which layer's bar is shortest, and by how much?",
               "sigmoid'(z) is at most 0.25; relu'(z) is 1 where the unit is active.",
               "Change the activation to relu."),
        misconception=("\"ReLU solves vanishing gradients\": it mitigates them (its slope is 1, not <= 1/4, "
                       "where a unit is active), but a unit whose z stays negative gets no gradient at "
                       "all: a dying ReLU. Good initialization and learning rates still matter."),
    ),
)
"""The course, in order."""


def lesson_named(lesson_id: str) -> Lesson:
    """The lesson with this id; ``ValueError`` naming the ids (and the closest one) otherwise."""
    for lesson in LESSONS:
        if lesson.id == lesson_id:
            return lesson
    ids = [lesson.id for lesson in LESSONS]
    text = f"unknown lesson {lesson_id!r}; choose one of: {', '.join(ids)}"
    close = difflib.get_close_matches(lesson_id, ids, n=1) if isinstance(lesson_id, str) else []
    raise ValueError(text + (f"; did you mean {close[0]!r}?" if close else ""))


# -- progress ------------------------------------------------------------------------------------

def progress_path() -> Path:
    """``$XDG_STATE_HOME/nn-tui/lessons.json`` (``~/.local/state`` when the variable is unset or
    not an absolute path, as the XDG spec says)."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "nn-tui" / "lessons.json"


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__


def load_progress(path: Path | None = None) -> tuple[frozenset[str], str]:
    """The completed lesson ids, and a warning ("" when none): a missing file is no progress yet; a
    broken or unreadable one is no progress and a warning naming it."""
    path = progress_path() if path is None else path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return frozenset(), ""
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return frozenset(), f"lesson progress not read: {path}: {_reason(exc)}"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return frozenset(), f"lesson progress not read: {path}: not JSON ({_reason(exc)})"
    done = data.get("completed") if isinstance(data, dict) else None
    if not isinstance(done, list) or not all(isinstance(item, str) for item in done):
        return frozenset(), f"lesson progress not read: {path}: want {{\"completed\": [lesson ids]}}"
    known = {lesson.id for lesson in LESSONS}
    return frozenset(item for item in done if item in known), ""


def mark_completed(lesson_id: str, path: Path | None = None) -> str:
    """Add ``lesson_id`` to the completed lessons, written atomically; returns a warning ("" when
    none). A broken progress file is replaced (its warning returned); a write that fails is a warning."""
    path = progress_path() if path is None else path
    done, warning = load_progress(path)
    if lesson_id in done:
        return warning
    order = {lesson.id: i for i, lesson in enumerate(LESSONS)}
    ids = sorted(done | {lesson_id}, key=lambda item: order.get(item, len(order)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"completed": ids}, indent=1) + "\n")
    except OSError as exc:
        return f"lesson progress not saved: {path}: {_reason(exc)}"
    return warning


# -- headless -------------------------------------------------------------------------------------

def lesson_config(lesson: Lesson, config: ExperimentConfig) -> ExperimentConfig:
    """``config`` trained for the lesson's epoch budget."""
    return replace(config, training=replace(config.training, epochs=lesson.epochs))


def check_lesson(lesson: Lesson, config: ExperimentConfig) -> Measured:
    """Train ``config`` for ``lesson.epochs`` through a ``Session`` (as the app does, at full speed)
    and run the lesson's check on the last snapshot."""
    from .session import Session

    session = Session(lesson_config(lesson, config), source="nn-tui learn")
    session.set_pace(None)
    last: list = []
    session.run(lambda snap: last.__setitem__(slice(None), [snap]))  # the latest one only
    snap = last[0] if last else session.snapshot()
    return lesson.check(snap, session.config)
