"""Lessons in the app (L): the list in course order with completed ones marked, a lesson beside the
live experiment (Enter loads it, the check runs live, hints and the misconception card by keys),
lessons completed by keys only, and a broken progress file as a warning.

Every test keeps the progress file in a temporary ``XDG_STATE_HOME``: none touches the real one.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from textual import events

from tests.conftest import wait_for
from tests.test_app import notes, screen_lines, settings_ready, small_config
from tests.test_config_keys import choose, go_to, settle, type_into
from tests.test_inside_screens import text_of
from tui_trainer.experiments.lessons import LESSONS, lesson_named, load_progress, mark_completed, progress_path
from tui_trainer.experiments.presets import get_preset
from tui_trainer.experiments.session import lr_notch
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.keys import keys_markdown, palette_entries
from tui_trainer.tui.screens.dialogs import ConfirmDialog
from tui_trainer.tui.screens.help import keys_table
from tui_trainer.tui.screens.lessons_screen import (LessonHelpScreen, LessonListScreen, LessonScreen,
                                                    paragraphs)
from tui_trainer.tui.screens.main import MainScreen
from tui_trainer.tui.widgets.config_pane import ConfigPane


@pytest.fixture(autouse=True)
def full_speed(monkeypatch):
    """The lessons' trainings at full speed (pace "max"): a test waits for the check, not the pace."""
    monkeypatch.setattr("tui_trainer.experiments.session.DEFAULT_PACE", None)

SCREENS = [("L", LessonListScreen)]
"""The views of VIEWS these tests drive (see tests/test_inside_screens.py)."""

TASKS = {
    # lesson id -> what does its task: the config pane's changes, (field, value) chosen or (button, None)
    # pressed, after c; or keys pressed on the lesson screen itself
    "shapes-and-features": [("add-layer", None)],
    "linear-collapse": [(f"act-{i}", "relu") for i in range(3)],
    "learning-rate": ["plus"] * 12,  # 1e-4 up the 1-2-5 ladder to 1
}


@pytest.fixture(autouse=True)
def _progress_in_a_temporary_state_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def run(coro):
    return asyncio.run(coro)


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in screen_lines(app))


def body(app) -> str:
    """The lesson's text, as plain text (all of it, however far it is scrolled)."""
    return text_of(app.screen.query_one("#lesson-body"))


def options(app) -> list[str]:
    """Every line of the lesson list, as plain text (those scrolled out of sight too)."""
    listing = app.screen.query_one("#lessons-list")
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def open_list(pilot, app) -> LessonListScreen:
    await pilot.press("L")
    await wait_for(pilot, lambda: isinstance(app.screen, LessonListScreen))
    await pilot.pause()
    return app.screen


async def lesson_help(pilot, app) -> str:
    """? on a lessons screen: its help, as the Markdown it shows."""
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(app.screen, LessonHelpScreen))
    return app.screen.query_one("Markdown").source


async def open_lesson(pilot, app, lesson_id: str) -> LessonScreen:
    """From the list: down or up to the lesson, Enter."""
    listing = app.screen.query_one("#lessons-list")
    target = next(i for i, lesson in enumerate(LESSONS) if lesson.id == lesson_id)
    await wait_for(pilot, lambda: listing.highlighted is not None)
    moves = target - listing.highlighted
    await pilot.press(*(["down"] * moves if moves > 0 else ["up"] * -moves))
    await wait_for(pilot, lambda: listing.highlighted == target)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.draw_count >= 1)
    assert app.screen.lesson.id == lesson_id
    return app.screen


async def load(pilot, app, screen: LessonScreen) -> None:
    """Enter loads the lesson's experiment (y when it asks, the network being trained)."""
    lesson = screen.lesson
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog) or screen.tracker.loaded)
    if isinstance(app.screen, ConfirmDialog):  # the presets' question: the network was trained
        await pilot.press("y")
    await wait_for(pilot, lambda: screen.tracker.loaded and app.screen is screen)
    await wait_for(pilot, lambda: "Check: " in body(app) and "not yet" in body(app))


async def loaded_lesson(pilot, app, lesson_id: str) -> LessonScreen:
    """From the app's start: L, the lesson, Enter loads its experiment."""
    await settings_ready(pilot, app)
    await open_list(pilot, app)
    screen = await open_lesson(pilot, app, lesson_id)
    await load(pilot, app, screen)
    return screen


def lr_after(lr: float, keys: list[str]) -> float:
    """The learning rate after ``keys`` (plus and minus) on the 1-2-5 ladder."""
    for key in keys:
        lr = lr_notch(lr, 1 if key == "plus" else -1)
    return lr


async def do_lesson(pilot, app, lesson_id: str) -> None:
    """A lesson by keys: L, choose it, Enter loads it, the task's keys (or c to the config pane, the
    task's changes there, L back to it), space trains, the check passes and says so, Escape to the
    list: marked [x]."""
    lesson = lesson_named(lesson_id)
    await open_list(pilot, app)
    screen = await open_lesson(pilot, app, lesson_id)
    await load(pilot, app, screen)
    want = get_preset(lesson.preset)
    session = app.training.session
    assert (session.config.data.dataset, session.config.training.epochs) == (want.data.dataset, lesson.epochs)
    assert "Experiment: " + lesson.preset + " loaded" in body(app)

    task = TASKS[lesson_id]
    if all(isinstance(step, str) for step in task):  # keys of the lesson screen's own
        lr = session.config.optimizer.lr
        await pilot.press(*task)
        await wait_for(pilot, lambda: session.config.optimizer.lr == lr_after(lr, task))
    else:
        await pilot.press("c")  # the main screen with its config pane, to change what the task asks
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.has_class("-config-open"))
        main = app.screen
        await wait_for(pilot, lambda: app.focused is not None and main.query_one(ConfigPane) in app.focused.ancestors)
        await settle(pilot)
        for field, value in task:
            if value is None:
                await go_to(pilot, field)
                await pilot.press("enter")
                await settle(pilot)
            else:
                await choose(pilot, field, value)
        await pilot.press("escape")  # out of the pane (closes it at 80 columns)
        await pilot.press("L")  # straight back to the lesson
    await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.lesson.id == lesson_id)
    screen = app.screen
    await wait_for(pilot, lambda: screen.draw_count >= 1 and "not yet" in body(app))
    assert lesson_id not in screen.tracker.done

    await pilot.press("space")  # train from the lesson
    await wait_for(pilot, lambda: lesson_id in screen.tracker.done, timeout=60)
    await wait_for(pilot, lambda: "(completed)" in body(app) and "-> passes" in body(app))
    assert f"[x] {lesson.title} (completed)" in body(app)
    assert f"Lesson completed: {lesson.title}" in notes(app)
    await wait_for(pilot, lambda: not app.training.running)  # the epoch budget ends the run
    assert session.trainer.epoch <= lesson.epochs

    await pilot.press("escape")  # back to the list: marked
    await wait_for(pilot, lambda: isinstance(app.screen, LessonListScreen))
    await pilot.pause()
    number = [lesson.id for lesson in LESSONS].index(lesson_id) + 1
    assert f"[x] {number:2}. {lesson.title}" in screen_text(app)  # the list shows it, highlighted
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))


def test_lessons_are_completed_by_keys_and_marked_in_the_list_and_the_progress_file():
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            listing = await open_list(pilot, app)
            text = screen_text(app)
            assert f"0 of {len(LESSONS)} completed" in text
            assert f"[ ]  1. {LESSONS[0].title}" in text
            for number, lesson in enumerate(LESSONS, 1):  # further down, as the list scrolls
                assert f"[ ] {number:2}. {lesson.title}" == options(app)[number - 1]
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and not listing.is_attached)
            for lesson_id in TASKS:
                await do_lesson(pilot, app, lesson_id)
            done, warning = load_progress()
            assert done == set(TASKS) and warning == ""
            await open_list(pilot, app)
            assert f"{len(TASKS)} of {len(LESSONS)} completed" in screen_text(app)

    run(scenario())


def test_a_lesson_shows_its_view_key_hints_one_at_a_time_and_its_card():
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await open_list(pilot, app)
            screen = await open_lesson(pilot, app, "vanishing-gradient")
            lesson = screen.lesson
            text = body(app)
            assert "See it in Gradient flow: g (or v) opens it from here." in text
            assert "measured live once the lesson's experiment is loaded (Enter)" in text
            assert "Hint 1" not in text and f"h: a hint ({len(lesson.hints)} left)" in text
            await pilot.press("h")
            await wait_for(pilot, lambda: f"Hint 1 of {len(lesson.hints)}: {lesson.hints[0]}" in body(app))
            assert "Hint 2" not in body(app)
            for _ in lesson.hints[1:]:
                await pilot.press("h")
            await wait_for(pilot, lambda: f"Hint {len(lesson.hints)} of {len(lesson.hints)}" in body(app))
            await pilot.press("h")
            await wait_for(pilot, lambda: "No more hints" in notes(app))
            assert lesson.misconception[:30] not in body(app)
            await pilot.press("m")
            await wait_for(pilot, lambda: "Misconception: " + lesson.misconception[:30] in body(app))
            await pilot.press("g")  # the view's own key, as on the main screen
            await wait_for(pilot, lambda: type(app.screen).__name__ == "GradientFlowScreen")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)
            await pilot.press("x")  # another view's key, as the lessons' texts say "press x"
            await wait_for(pilot, lambda: type(app.screen).__name__ == "CollapseScreen")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)
            source = await lesson_help(pilot, app)
            await pilot.pause()
            assert str(progress_path()) in source
            assert "lessons.json" in screen_text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)

    run(scenario())


def test_the_live_check_says_what_it_measured_before_the_task_is_done():
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await loaded_lesson(pilot, app, "vanishing-gradient")
            for _ in range(3):
                await pilot.press("n")
            await wait_for(pilot, lambda: app.training.session.trainer.step_count >= 3)
            await wait_for(pilot, lambda: "first-layer gradient ratio" in body(app) and "step 3" in body(app))
            measured = screen.tracker.measured
            assert not measured.passed and measured.text in body(app)
            assert "vanishing-gradient" not in screen.tracker.done and not progress_path().exists()

    run(scenario())


def test_a_broken_progress_file_is_a_warning_and_the_list_opens():
    async def scenario():
        path = progress_path()
        path.parent.mkdir(parents=True)
        path.write_text("{not json", encoding="utf-8")
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await open_list(pilot, app)
            assert "lesson progress not read" in notes(app) and str(path) in notes(app)
            text = screen_text(app)
            assert f"[ ]  1. {LESSONS[0].title}" in text and "(a lesson completed now writes it anew)" in text
            assert text.count("lesson progress not read") == 1  # on the list (the note is gone in tests)
            await open_lesson(pilot, app, LESSONS[0].id)
            assert app.is_running

    run(scenario())
    mark_completed(LESSONS[0].id)  # what completing a lesson does: the broken file written anew
    assert load_progress() == ({LESSONS[0].id}, "")


def test_l_is_a_key_of_the_main_screen_in_the_palette_and_the_help():
    entries = {entry.key: entry for entry in palette_entries(MainScreen)}
    assert entries["L"].title == "Lessons" and entries["L"].action == "open_view('lessons')"
    assert "| `L` | Lessons: " in keys_table(MainScreen)
    table = keys_markdown(LessonScreen)
    for shown in ("| `enter` | Load the lesson's experiment", "| `h` | Show the lesson's next hint",
                  "| `m` | Show or hide where", "| `c` | The main screen's config pane", "| `esc/q` | Back",
                  "| `r` | Retry: fresh weights, same settings"):
        assert shown in table, shown


def test_a_lessons_text_wraps_as_paragraphs():
    assert paragraphs("one\ntwo\n\nthree\n  z = aW + b\nfour") == "one two\n\nthree\n  z = aW + b\nfour"


def test_the_lesson_screens_footer_shows_the_lesson_keys_at_80_columns():
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await open_list(pilot, app)
            carded = next(lesson for lesson in LESSONS if lesson.misconception)
            await open_lesson(pilot, app, carded.id)
            footer = screen_lines(app)[-1].text
            for shown in ("esc Back", "r Retry", "Load", "c Config", "? Help", "^q Quit"):  # space: in help
                assert shown in footer, (shown, footer)
            assert "h: a hint" in body(app) and "m: the misconception card" in body(app)  # h and m: in the text
            await pilot.resize_terminal(120, 36)
            await wait_for(pilot, lambda: "m Card" in screen_lines(app)[-1].text)
            footer = screen_lines(app)[-1].text
            for shown in ("esc Back", "space Train", "r Retry", "Load", "h Hint", "m Card", "c Config", "? Help"):
                assert shown in footer, (shown, footer)
            await pilot.resize_terminal(80, 24)
            plain = next((lesson for lesson in LESSONS if not lesson.misconception), None)
            if plain is not None:  # no card: no m in the footer, and m does nothing
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, LessonListScreen))
                await open_lesson(pilot, app, plain.id)
                assert "m Card" not in screen_lines(app)[-1].text
                await pilot.press("m")
                assert "Misconception" not in body(app)

    run(scenario())


LESSON_KEYS = ["L", "L", "enter", "enter", "h", "m", "v", "c", "escape", "space", "n", "up", "down",
               "question_mark", "q", "g", "x", "pagedown", "tab", "a", "d", "plus", "minus"]
"""The storm's keys: the lessons' own, those that open and close what a lesson opens, and a few of the
config pane's (c lands there)."""


def test_a_seeded_storm_of_lesson_keys_and_resizes_leaves_the_app_alive(no_idle_wait, seed=1):
    import random

    rng = random.Random(seed)

    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        quits = []

        async def count_quit() -> None:
            quits.append(True)  # q on the main screen: the storm goes on

        app.action_quit = count_quit
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            for i in range(300):
                await pilot.press(rng.choice(LESSON_KEYS))
                if i % 37 == 0:
                    await pilot.resize_terminal(*rng.choice([(80, 24), (120, 36), (60, 20), (200, 50)]))
                if i % 25 == 0:
                    await pilot.pause()
            await pilot.resize_terminal(80, 24)
            for _ in range(10):  # close whatever is open
                if isinstance(app.screen, MainScreen):
                    break
                await pilot.press("escape")
                await pilot.pause()
            assert isinstance(app.screen, MainScreen), f"stuck on {app.screen_stack!r}"
            await pilot.press("L")
            await wait_for(pilot, lambda: isinstance(app.screen, (LessonListScreen, LessonScreen)))
            assert app.is_running

    run(scenario())


@pytest.mark.parametrize("state", ["blocked", "broken"])
def test_the_check_completes_a_lesson_trained_on_the_main_screen_whatever_the_progress_file(state, tmp_path,
                                                                                             monkeypatch):
    """The check runs on every snapshot whichever screen is on top: here the main screen trains.
    blocked: the state folder is a file (nothing can be written there): a warning, and the lesson is
    still marked completed in the app. broken: the list warns once, and the completion writes the
    file anew (no second warning, and the list's note has gone)."""
    folder = tmp_path / state
    folder.mkdir()
    if state == "blocked":
        (folder / "nn-tui").write_text("a file where the folder goes", encoding="utf-8")
    else:
        (folder / "nn-tui").mkdir()
        (folder / "nn-tui" / "lessons.json").write_text("[1, 2", encoding="utf-8")
    monkeypatch.setenv("XDG_STATE_HOME", str(folder))
    lesson = LESSONS[0]
    assert lesson.id == "shapes-and-features"

    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await open_list(pilot, app)
            assert notes(app).count("lesson progress not read") == (state == "broken")
            screen = await open_lesson(pilot, app, lesson.id)
            await load(pilot, app, screen)
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.has_class("-config-open"))
            await settle(pilot)
            await go_to(pilot, "add-layer")
            await pilot.press("enter")
            await settle(pilot)
            assert app.training.session.net.layer_sizes[1:-1]  # a hidden layer now
            await pilot.press("escape", "space")  # train on the main screen
            await wait_for(pilot, lambda: "Lesson completed: " + lesson.title in notes(app), timeout=60)
            assert isinstance(app.screen, MainScreen)
            assert ("lesson progress not saved" in notes(app)) == (state == "blocked")
            assert notes(app).count("lesson progress not read") == (state == "broken")
            await pilot.press("L")
            await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.draw_count >= 1)
            await wait_for(pilot, lambda: f"[x] {lesson.title} (completed)" in body(app))
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LessonListScreen))
            await pilot.pause()
            assert f"[x]  1. {lesson.title}" in screen_text(app)
            assert "writes it anew" not in screen_text(app)

    run(scenario())
    if state == "broken":
        assert load_progress() == ({lesson.id}, "")


def test_the_lessons_taken_off_before_they_have_mounted_do_not_fail():
    # A palette command opens the list and the palette's double dismiss pops it at once; with a
    # lesson to reopen, the list would open it from its mount handler: not once it is going away.
    async def scenario():
        from tui_trainer.tui.screens.lessons_screen import tracker_of
        from tui_trainer.tui.screens.views import view_named

        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settings_ready(pilot, app)
            main = app.screen
            tracker = tracker_of(app.training)
            tracker.open(LESSONS[1])
            tracker.reopen = True
            for _ in range(2):
                app.push_screen(view_named("lessons").factory(app.training))
                app.pop_screen()
                await pilot.pause(0.3)
                assert app.screen is main and len(app.screen_stack) == 1
            await pilot.press("L")  # and it opens as ever: the list, the lesson over it
            await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.lesson is LESSONS[1])

    run(scenario())


def test_the_list_opens_on_the_first_lesson_to_do():
    mark_completed(LESSONS[0].id)

    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await open_list(pilot, app)
            assert app.screen.query_one("#lessons-list").highlighted == 1
            assert f"[x]  1. {LESSONS[0].title}" in screen_text(app)
            assert f"Task: {LESSONS[1].task[:40]}" in screen_text(app).replace("\n ", " ")

    run(scenario())


# -- the retry loop, c and L, and Enter over edits (a newcomer's review) ---------------------------------


async def back_to_lesson(pilot, app, lesson_id: str) -> LessonScreen:
    await pilot.press("L")
    await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.lesson.id == lesson_id)
    screen = app.screen
    await wait_for(pilot, lambda: screen.draw_count >= 1)
    return screen


async def to_config(pilot, app) -> MainScreen:
    """c from a lesson: the main screen with focus in its config pane."""
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.has_class("-config-open"))
    main = app.screen
    await wait_for(pilot, lambda: app.focused is not None and main.query_one(ConfigPane) in app.focused.ancestors)
    await settle(pilot)
    return main


def test_a_failed_run_is_fixed_and_trained_again_within_the_lessons_budget():
    """Train, fail, fix, retrain: space after a finished run starts over from fresh weights with the
    settings as they are, for the lesson's epochs, so the check can pass; r retries at any time; the
    completion mark and the check never contradict each other."""
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await loaded_lesson(pilot, app, "learning-rate")
            lesson = screen.lesson
            session = app.training.session
            await pilot.press("space")  # lr 1e-4: the budget ends the run, the check not passed
            await wait_for(pilot, lambda: not app.training.running and session.trainer.epoch == lesson.epochs,
                           timeout=60)
            await wait_for(pilot, lambda: "val acc" in body(app)
                           and "-> not yet (epoch 30, step 300, finished); space starts over" in body(app))
            await to_config(pilot, app)
            await type_into(pilot, "lr", "1")
            await pilot.press("escape")
            screen = await back_to_lesson(pilot, app, lesson.id)
            await pilot.press("space")  # starts over: fresh weights, lr 1, the lesson's 30 epochs
            await wait_for(pilot, lambda: "The run starts over: fresh weights" in notes(app))
            await wait_for(pilot, lambda: lesson.id in screen.tracker.done, timeout=60)
            await wait_for(pilot, lambda: not app.training.running)
            assert session.trainer.epoch <= lesson.epochs and session.config.training.epochs == lesson.epochs
            assert session.config.optimizer.lr == 1
            await wait_for(pilot, lambda: f"[x] {lesson.title} (completed)" in body(app))  # the redraw after it
            text = body(app)
            assert f"[x] {lesson.title} (completed)" in text and "past the budget" not in text
            assert "Check: passed: val acc" in text and "This run: " in text and "-> passes" in text
            assert "r Retry" in screen_lines(app)[-1].text
            await pilot.press("r")  # retry: fresh weights, same settings
            await wait_for(pilot, lambda: session.trainer.step_count == 0 and "This run: " in body(app)
                           and "-> not yet (epoch 0," in body(app))
            text = body(app)
            assert f"[x] {lesson.title} (completed)" in text and "Check: passed: val acc" in text
            assert session.config.optimizer.lr == 1 and session.config.training.epochs == lesson.epochs
            assert "Retry: fresh weights, same settings" in await lesson_help(pilot, app)

    run(scenario())


def test_a_budget_doubled_on_the_main_screen_is_the_lessons_again_when_the_lesson_trains():
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await loaded_lesson(pilot, app, "initialization")
            lesson = screen.lesson
            session = app.training.session
            await to_config(pilot, app)
            await pilot.press("escape", "space")  # trains on the main screen: to 30, then on to 60
            await wait_for(pilot, lambda: not app.training.running and session.trainer.epoch == lesson.epochs,
                           timeout=60)
            await pilot.press("space")
            await wait_for(pilot, lambda: not app.training.running and session.trainer.epoch == 2 * lesson.epochs,
                           timeout=60)
            await pilot.press("c")
            await settle(pilot)
            await go_to(pilot, "init")
            select = app.screen.query_one("#init")
            values = list(select.values)
            await pilot.press("enter")
            await wait_for(pilot, lambda: select.expanded)
            steps = values.index("he") - values.index(select.value)
            await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")  # reset: fresh weights, but the config's epochs are 60 now
            await wait_for(pilot, lambda: session.config.network.init == "he" and session.trainer.step_count == 0)
            screen = await back_to_lesson(pilot, app, lesson.id)
            await pilot.press("space")
            await wait_for(pilot, lambda: lesson.id in screen.tracker.done, timeout=60)
            await wait_for(pilot, lambda: not app.training.running)
            assert session.trainer.epoch <= lesson.epochs and "past the budget" not in body(app)

    run(scenario())


@pytest.mark.parametrize("out", ["escape", "L"])
def test_c_from_a_lesson_always_opens_the_config_pane(out):
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await open_list(pilot, app)
            await open_lesson(pilot, app, "learning-rate")
            for _ in range(2):
                await to_config(pilot, app)
                if out == "escape":
                    await pilot.press("escape")
                await back_to_lesson(pilot, app, "learning-rate")
            await to_config(pilot, app)

    run(scenario())


@pytest.mark.parametrize("enter", [True, False])
def test_l_comes_back_to_the_lesson_from_a_config_text_field_without_typing_into_it(enter):
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await loaded_lesson(pilot, app, "learning-rate")
            main = await to_config(pilot, app)
            await go_to(pilot, "lr")
            await pilot.press("ctrl+a", "ctrl+k", "1", *(["enter"] if enter else []))
            await back_to_lesson(pilot, app, "learning-rate")
            await wait_for(pilot, lambda: app.training.session.config.optimizer.lr == 1)
            assert main.query_one("#lr").value == "1" and main.query_one(ConfigPane).valid

    run(scenario())


def test_training_with_a_bad_setting_names_the_field():
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await loaded_lesson(pilot, app, "learning-rate")
            await to_config(pilot, app)
            await type_into(pilot, "lr", "x")
            await back_to_lesson(pilot, app, "learning-rate")
            await pilot.press("space")
            await wait_for(pilot, lambda: "Fix the settings first: lr:" in notes(app) or app.training.running)
            assert "Fix the settings first: lr: 'x' is not a number" in notes(app), notes(app)
            assert not app.training.running

    run(scenario())


def test_enter_in_a_lesson_asks_before_throwing_away_config_edits():
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await loaded_lesson(pilot, app, "backprop")
            session = app.training.session
            await to_config(pilot, app)
            await go_to(pilot, "width-5")
            await pilot.press("d", "d", "d")  # 6 hidden layers to 3
            await wait_for(pilot, lambda: len(session.config.network.hidden) == 3)
            await pilot.press("escape")
            screen = await back_to_lesson(pilot, app, "backprop")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "edited" in screen_text(app)
            await pilot.press("escape")  # kept
            await wait_for(pilot, lambda: app.screen is screen)
            assert len(session.config.network.hidden) == 3
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: len(session.config.network.hidden) == 6 and app.screen is screen)

    run(scenario())


def test_the_list_opens_with_enter_and_space_trains_only_a_loaded_lesson():
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await open_list(pilot, app)
            footer = screen_lines(app)[-1].text
            assert "⏎ Open" in footer and "Train" not in footer, footer
            await pilot.press("space", "n")  # nothing to train in the list: it says what Enter does
            await wait_for(pilot, lambda: "Enter opens the highlighted lesson" in notes(app))
            assert not app.training.running and app.training.session.trainer.step_count == 0
            source = await lesson_help(pilot, app)
            assert "except" in source and "but for" not in source and "| `esc/q` |" in source
            await pilot.press("escape")
            screen = await open_lesson(pilot, app, "momentum")
            await pilot.press("space")  # before Enter: the network is not the lesson's
            await wait_for(pilot, lambda: "Enter loads the lesson's experiment (spiral-sgd) first" in notes(app))
            await pilot.press("n")
            assert not app.training.running and app.training.session.trainer.step_count == 0
            await pilot.press("o")  # the lesson's view, before Enter: it says whose network it shows
            await wait_for(pilot, lambda: app.screen is not screen
                           and "not the lesson's yet: Enter in the lesson loads spiral-sgd" in notes(app))
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)
            for row in (await lesson_help(pilot, app)).splitlines():
                if row.startswith("| `"):
                    assert " / " not in row.split("|")[1], row  # keys as one word: the column does not wrap
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)

    run(scenario())


def test_a_new_optimizer_that_brings_its_own_learning_rate_says_so():
    """Lesson 16's task speaks of lr 0.01; adam chosen in the config pane comes with its own 0.001."""
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await loaded_lesson(pilot, app, "choosing-an-optimizer")
            session = app.training.session
            assert session.config.optimizer.lr == 0.01
            await to_config(pilot, app)
            await choose(pilot, "optimizer", "adam")
            await wait_for(pilot, lambda: session.config.optimizer.name == "adam")
            lr = session.config.optimizer.lr
            assert lr != 0.01
            await wait_for(pilot, lambda: f"lr 0.01 -> {lr:g}: adam's default" in notes(app))

    run(scenario())


def test_a_new_hint_and_the_card_scroll_into_sight_at_80x24():
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await loaded_lesson(pilot, app, "vanishing-gradient")
            lesson = screen.lesson
            for n in range(1, len(lesson.hints) + 1):
                await pilot.press("h")
                await wait_for(pilot, lambda: f"Hint {n} of {len(lesson.hints)}: {lesson.hints[n - 1][:20]}"
                               in screen_text(app).replace("\n", " "))
            await pilot.press("m")
            await wait_for(pilot, lambda: "Misconception: " + lesson.misconception[:20] in screen_text(app))

    run(scenario())


def test_two_view_keys_at_once_in_a_lesson_open_one_view_not_one_over_the_other():
    # The second key was queued to the lesson before the first view came on top, and opened its
    # view over that one: a storm of keys piled views deeper than Escape presses unwound.
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await loaded_lesson(pilot, app, "vanishing-gradient")
            depth = len(app.screen_stack)
            app.post_message(events.Key("s", "s"))
            app.post_message(events.Key("g", "g"))
            await wait_for(pilot, lambda: len(app.screen_stack) > depth)
            await pilot.pause()
            await pilot.pause()
            assert len(app.screen_stack) == depth + 1, app.screen_stack
            for _ in range(3):  # a lab screen's first Escape may leave its field
                if app.screen is screen:
                    break
                await pilot.press("escape")
                await pilot.pause()
            assert app.screen is screen, app.screen_stack

    run(scenario())
