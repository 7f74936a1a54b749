"""How the app looks: start, paused after a few steps, help and an invalid setting, at two sizes."""

import pytest

from tests.conftest import wait_for
from tests.test_app import settings_ready, small_config
from tui_trainer.experiments import compute
from tui_trainer.tui.app import NNTuiApp

SIZES = [(80, 24), (120, 36)]
COMPUTE = "CPU only (NumPy; no GPU is used): Example CPU, 4 cores · NumPy 2.0.0 · BLAS openblas 0.3.28, 4 threads"


def app():
    return NNTuiApp(small_config(epochs=50))


@pytest.mark.parametrize("size", SIZES)
def test_start_screen(snap_compare, size):
    async def ready(pilot):
        await settings_ready(pilot, pilot.app)

    assert snap_compare(app(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_paused_after_five_steps(snap_compare, size):
    async def five_steps(pilot):
        await settings_ready(pilot, pilot.app)
        session = pilot.app.screen.session
        for n in range(1, 6):
            await pilot.press("n")
            await wait_for(pilot, lambda: session.trainer.step_count == n)
        await wait_for(pilot, lambda: session.control.paused)
        await pilot.pause(0.3)

    assert snap_compare(app(), terminal_size=size, run_before=five_steps)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, size, monkeypatch):
    # The same picture on every machine: the compute line names this one's CPU and libraries.
    monkeypatch.setattr(compute, "describe_compute", lambda: COMPUTE)

    async def ready(pilot):
        await settings_ready(pilot, pilot.app)

    assert snap_compare(app(), press=["question_mark", "_"], terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_invalid_setting(snap_compare, size):
    async def bad_lr(pilot):
        pilot.app.animation_level = "none"  # focus scrolls the long form at once, not over a few frames
        await settings_ready(pilot, pilot.app)
        lr = pilot.app.screen.query_one("#lr")
        if pilot.app.screen.has_class("-narrow"):
            await pilot.press("c")
            # The pane laid out before lr takes focus: focus centres a field it cannot see whole.
            await wait_for(pilot, lambda: lr.region.height > 0)
            # c focuses the first field and scrolls it into view after the next refresh: let that
            # happen before lr takes focus, or it may scroll the form back to the top afterwards.
            pane = pilot.app.screen.query_one("ConfigPane")
            await wait_for(pilot, lambda: pilot.app.focused is not None and pane in pilot.app.focused.ancestors)
            for _ in range(3):
                await pilot.pause()
        lr.cursor_blink = False  # a blinking cursor would make the picture depend on timing
        lr.value = "-1"
        lr.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: not pilot.app.screen.query_one("ConfigPane").valid)
        lr.scroll_visible(animate=False)
        # The form is long: wait until the pane has stopped scrolling (focus and the error line move it).
        pane = pilot.app.screen.query_one("ConfigPane")
        offsets = []
        while len(offsets) < 3 or len(set(offsets[-3:])) > 1:
            await pilot.pause(0.1)
            offsets.append(tuple(s.scroll_offset for s in [pane, *pane.query("*")] if s.is_scrollable))

    assert snap_compare(app(), terminal_size=size, run_before=bad_lr)
