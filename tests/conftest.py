"""Test-wide settings.

Nothing here imports Textual at module level: the engine's tests (``tests/engine/``) run with only
numpy and pytest installed. The settings for the app's tests import Textual when a test outside
``tests/engine/`` starts.
"""

import asyncio
import os
import time
from pathlib import Path

import pytest

ENGINE_TESTS = Path(__file__).resolve().parent / "engine"

IDLE_WAIT_CAP = 0.02
"""Seconds Pilot waits, at most, for the process to go idle after a key press or a pause.

Textual waits up to 1 s for the CPU to go quiet; while a training thread runs it never does,
so every key press in a training test cost 2 s. The tests wait for the effects they check
(``wait_for``) instead. Textual looks in 20 ms slices, so 0.02 is one slice: a key press still
waits until the app has handled the messages queued so far, and 20 ms twice over, but no longer
for the app to go quiet (0.05 made the suite ~15% slower for nothing it checks).

Pilot offers no setting for this wait, so the cap replaces Textual's ``wait_for_idle`` where
``textual.app`` and ``textual.pilot`` imported it (a private helper: if Textual moves it, the
patch fails loudly rather than the suite slowing down unseen)."""


HURRIED = os.environ.get("NN_TUI_TEST_HURRIED") == "1"
"""``NN_TUI_TEST_HURRIED=1``: a key press or a pause waits 1 ms instead of ``IDLE_WAIT_CAP``, as on
a machine too busy to handle a key in 20 ms. A test that reads state before its effect has come
fails at once there instead of once in a while under load (a tool for finding such reads)."""

WAIT_TIMEOUT = 30.0
"""Seconds ``wait_for`` waits before it fails: a deadline for a hang, never a measurement. A test
waits only as long as its effect takes; on a loaded machine that can be many times the idle time."""


async def wait_for(pilot, condition, timeout: float = WAIT_TIMEOUT) -> None:
    """Let the app run until ``condition()`` is true: the one way a pilot test waits for an effect
    that a message, a timer or a worker brings (a key press's own wait is 20 ms, see
    ``IDLE_WAIT_CAP``: on a busy machine the effect may come later)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            code = getattr(condition, "__code__", None)
            where = f" ({Path(code.co_filename).name}:{code.co_firstlineno})" if code else ""
            raise AssertionError(f"condition not met in {timeout:g} s{where}")
        await pilot.pause(0.02)


def import_torch():
    """PyTorch, for the parity tests. Where it is not installed they skip and say why; CI
    (``.ci/run``) installs it and sets ``NN_TUI_REQUIRE_TORCH=1``, and there a missing torch fails."""
    if os.environ.get("NN_TUI_REQUIRE_TORCH") == "1":
        import torch  # CI: the parity tests must run

        return torch
    return pytest.importorskip(
        "torch", reason="PyTorch is not installed, so the parity checks against torch do not run "
                        "(pip install -e '.[parity]'; CI installs it)")


def _is_engine_test(request) -> bool:
    return ENGINE_TESTS in Path(request.path).resolve().parents


@pytest.fixture(autouse=True)
def _runs_in_a_temporary_folder(tmp_path_factory, monkeypatch):
    """Runs that the app or ``nn-tui train`` record go to a folder of each test's own, never to
    ``./runs`` of the checkout (child processes inherit the variable)."""
    monkeypatch.setenv("NN_TUI_RUNS", str(tmp_path_factory.mktemp("runs")))


@pytest.fixture(autouse=True)
def _lesson_progress_in_a_temporary_folder(tmp_path_factory, monkeypatch):
    """Lesson progress (``experiments.lessons.progress_path``) goes to a state folder of each test's
    own, never to the user's ``~/.local/state``."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(autouse=True)
def _quick_idle_wait(request, monkeypatch):
    if _is_engine_test(request):
        return
    import textual.app
    import textual.pilot
    from textual._wait import wait_for_idle

    async def capped_wait_for_idle(min_sleep: float = 1 / 50, max_sleep: float = 1) -> None:
        if HURRIED:
            await asyncio.sleep(0.001)
            return
        await wait_for_idle(min_sleep, min(max_sleep, IDLE_WAIT_CAP))

    monkeypatch.setattr(textual.app, "wait_for_idle", capped_wait_for_idle)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", capped_wait_for_idle)


@pytest.fixture(autouse=True)
def _errors_fail_tests(request, monkeypatch):
    """The app's last-resort guard reports unexpected errors and goes on; in tests they must fail
    the test instead (the guard's own tests turn it back on)."""
    if _is_engine_test(request):
        return
    from tui_trainer.tui.app import NNTuiApp

    monkeypatch.setattr(NNTuiApp, "GUARD_ERRORS", False)


@pytest.fixture(autouse=True)
def _notifications_recorded(request, monkeypatch):
    """Every notification an app shows is kept, as text, in the list ``app.notes_shown`` (read it
    with ``tests.test_app.notes``). ``App.notify`` is where every screen's and widget's ``notify``
    ends; tests run without toasts on screen, and Textual keeps its own list private."""
    if _is_engine_test(request):
        return
    from tui_trainer.tui.app import NNTuiApp

    notify = NNTuiApp.notify

    def recording_notify(app, message, *args, **kwargs):
        app.__dict__.setdefault("notes_shown", []).append(str(message))
        return notify(app, message, *args, **kwargs)

    monkeypatch.setattr(NNTuiApp, "notify", recording_notify)


@pytest.fixture
def no_idle_wait(monkeypatch):
    """Keys follow one another at once, for the storms (they are about survival, not about each effect):
    Pilot does not wait for the app to go idle between keys, so keys and resizes queue up as a fast typist's do."""
    import textual.app
    import textual.pilot

    async def tiny(min_sleep: float = 0, max_sleep: float = 0) -> None:
        await asyncio.sleep(0.001)

    monkeypatch.setattr(textual.app, "wait_for_idle", tiny, raising=False)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", tiny, raising=False)
