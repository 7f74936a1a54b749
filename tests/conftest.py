"""Test-wide settings."""

import pytest
import textual.app
import textual.pilot
from textual._wait import wait_for_idle

IDLE_WAIT_CAP = 0.02
"""Seconds Pilot waits, at most, for the process to go idle after a key press or a pause.

Textual waits up to 1 s for the CPU to go quiet; while a training thread runs it never does,
so every key press in a training test cost 2 s. The tests wait for the effects they check
(``wait_for``) instead. Textual looks in 20 ms slices, so 0.02 is one slice: a key press still
waits until the app has handled the messages queued so far, and 20 ms twice over, but no longer
for the app to go quiet (0.05 made the suite ~15% slower for nothing it checks)."""


async def _capped_wait_for_idle(min_sleep: float = 1 / 50, max_sleep: float = 1) -> None:
    await wait_for_idle(min_sleep, min(max_sleep, IDLE_WAIT_CAP))


@pytest.fixture(autouse=True)
def _quick_idle_wait(monkeypatch):
    monkeypatch.setattr(textual.app, "wait_for_idle", _capped_wait_for_idle, raising=False)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _capped_wait_for_idle, raising=False)


@pytest.fixture(autouse=True)
def _errors_fail_tests(monkeypatch):
    """The app's last-resort guard reports unexpected errors and goes on; in tests they must fail
    the test instead (the guard's own tests turn it back on)."""
    from tui_trainer.tui.app import NNTuiApp

    monkeypatch.setattr(NNTuiApp, "GUARD_ERRORS", False)
