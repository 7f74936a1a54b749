"""Lessons (L): the course in order, and one lesson beside the live experiment.

The list (``LessonListScreen``) shows the lessons of ``experiments.lessons`` in course order, each
completed one marked ``[x]`` (the others ``[ ]``); Enter opens one (``LessonScreen``): its text
with the key of the view that shows it, its experiment (Enter loads the lesson's preset the way the
presets view does, asking first when the network has been trained), its task, its check measured
live on the session's snapshots, hints one at a time (h) and the misconception card (m). The
session trains from here (space) as from any view; c goes to the main screen's config pane to
change what the task asks, and L there comes back to the lesson.

One ``LessonTracker`` per session link keeps the open lesson and runs its check on every snapshot
the session publishes, whichever screen is on top: a check that passes while the learner watches a
view or the main screen still completes the lesson (``lessons.mark_completed``). A warning from the
progress file is a notification, never a crash.
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from typing import TYPE_CHECKING, Iterable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...engine.text import visible
from ...experiments.files import describe_error
from ...experiments.lessons import (LESSONS, Lesson, Measured, lesson_config, load_progress, mark_completed,
                                      progress_path)
from ...experiments.config import ExperimentConfig
from ...experiments.presets import PRESETS, get_preset
from ...experiments.session import Snapshot
from ..keys import key, keys_markdown, screen_bindings
from ..training import SessionLink
from ..widgets.safe_select import SafeOptionList
from .help_box import MarkdownHelp
from .inside_base import InsideScreen
from .inside_presets import load_preset

if TYPE_CHECKING:
    from .views import View


class LessonTracker:
    """The open lesson of one session link: what the learner has seen of it, and its live check.

    Subscribed to the link for as long as the app runs, so that the check runs on each snapshot the
    session publishes (``evaluate``), once the lesson's experiment has been loaded (``loaded``)."""

    def __init__(self, training: SessionLink) -> None:
        self._training = weakref.ref(training)  # the link keeps its tracker, not the other way round
        self.lesson: Lesson | None = None
        """The lesson opened last."""
        self.loaded = False
        """Whether the open lesson's experiment was loaded (Enter) since the lesson was opened: the
        check measures only that (the experiment before it is not the lesson's)."""
        self.reopen = False
        """L on the main screen opens the lesson again (it was left with c, for the config pane)."""
        self.hints: dict[str, int] = {}
        """Hints shown so far, per lesson id."""
        self.cards: set[str] = set()
        """Lessons whose misconception card is shown."""
        self.measured: Measured | None = None
        """The open lesson's check on the latest snapshot (None before it was loaded)."""
        self.done: frozenset[str] = frozenset()
        """Completed lesson ids: the progress file's, with those completed in this app."""
        self.warning = ""
        """The progress file's latest warning ("" when none)."""
        self.passed: dict[str, tuple[Measured, Snapshot]] = {}
        """Per lesson completed in this app: the measurement that passed, and on which snapshot."""
        self.start_config = training.session.config
        """The experiment the app started with (a preset's or a file's): loading a lesson over it
        loses nothing."""
        self._completed_here: set[str] = set()
        self._snapshot: Snapshot | None = None
        training.subscribe(training.owner, self.evaluate)

    @property
    def training(self) -> SessionLink:
        return self._training()

    def read_progress(self) -> str:
        """Read the progress file again (``nn-tui learn`` may have changed it); the warning when it
        is a new one, else ""."""
        done, warning = load_progress()
        self.done = done | self._completed_here
        news = warning if warning != self.warning else ""
        self.warning = warning
        return news

    def open(self, lesson: Lesson) -> None:
        """``lesson`` is the open one now; opening another one again leaves it to be loaded."""
        if self.lesson is None or self.lesson.id != lesson.id:
            self.lesson, self.loaded, self.measured, self._snapshot = lesson, False, None, None

    def mark_loaded(self) -> None:
        """The open lesson's experiment was just loaded: the check measures from now on."""
        self.loaded, self.measured, self._snapshot = True, None, None

    def holds(self, lesson: Lesson) -> bool:
        """Whether ``lesson`` is open and its experiment the one loaded."""
        return self.loaded and self.lesson is lesson

    def evaluate(self, snap: Snapshot) -> Measured | None:
        """The open lesson's check on ``snap`` (computed once per snapshot); completes the lesson
        when it passes. None while no lesson is open or its experiment is not loaded."""
        lesson = self.lesson
        if lesson is None or not self.loaded:
            return None
        if snap is not self._snapshot:
            self._snapshot = snap
            try:
                self.measured = lesson.check(snap, self.training.session.config)
            except Exception as exc:  # noqa: BLE001 - a check that cannot measure is a line, not a crash
                self.measured = Measured(False, f"the check could not measure: {describe_error(exc)}")
            if self.measured.passed and lesson.id not in self.passed:
                self.passed[lesson.id] = (self.measured, snap)
            if self.measured.passed and lesson.id not in self._completed_here:
                self._complete(lesson)
        return self.measured

    def _complete(self, lesson: Lesson) -> None:
        self._completed_here.add(lesson.id)
        shown = self.warning  # the list said it already
        warning = mark_completed(lesson.id)
        self.read_progress()  # the file as it is now (a broken one is written anew)
        owner = self.training.owner
        owner.notify(f"Lesson completed: {lesson.title}", timeout=5)
        if warning and warning != shown:
            owner.notify(visible(warning), severity="warning", timeout=10)


_TRACKERS: "weakref.WeakKeyDictionary[SessionLink, LessonTracker]" = weakref.WeakKeyDictionary()


def tracker_of(training: SessionLink) -> LessonTracker:
    """The link's lesson tracker (made, and subscribed, the first time)."""
    tracker = _TRACKERS.get(training)
    if tracker is None:
        tracker = _TRACKERS[training] = LessonTracker(training)
    return tracker


def paragraphs(text: str) -> str:
    """A lesson's text for wrapping at any width: its lines joined into paragraphs (a blank line
    and an indented line, e.g. a formula, stay lines of their own)."""
    out: list[str] = []
    for line in text.split("\n"):
        if out and line.strip() and out[-1].strip() and not line[:1].isspace() and not out[-1][:1].isspace():
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line.rstrip())
    return "\n".join(out)


def mark(done: bool) -> str:
    """``[x]`` for a completed lesson, ``[ ]`` for one to do: readable without colour."""
    return "[x]" if done else "[ ]"


class LessonHelpScreen(MarkdownHelp):
    """The keys of a lessons screen (its bindings, ``keys_of``) and how a lesson goes. (The main
    screen's ``HelpScreen`` lists the views, whose table lists this module: not that one.)"""

    ABOUT = ("A lesson poses a task on a ready experiment and checks it by measuring the live "
             "network. Open a lesson with Enter in the list, press Enter in it to load its "
             "experiment, change what the task asks (c: the config pane; L comes back), train with "
             "space and watch the check: when it passes, the lesson is marked [x] completed. A run is "
             "judged within the lesson's epochs: space after a finished run starts over from fresh "
             "weights with the settings as they are, and r does so at any time. The main "
             "screen's view keys (g, x, ...) open their views from a lesson too, except the keys a lesson "
             "uses itself (those below).")

    def markdown(self) -> str:
        kept = f"Progress is kept in `{visible(progress_path())}` (`XDG_STATE_HOME` moves it)."
        return f"# Lessons\n\n{self.ABOUT} {kept}\n\n{keys_markdown(self.keys_of)}"


class LessonListScreen(InsideScreen):
    """The lessons in course order, ``[x]`` before each completed one; Enter opens one."""

    VIEW_TITLE = "Lessons"

    DEFAULT_CSS = """
    LessonListScreen #lessons-note { height: auto; padding: 0 1; color: $text-muted; }
    LessonListScreen OptionList { height: 1fr; margin: 0 1; }
    LessonListScreen #lessons-about { height: auto; padding: 0 1; }
    """

    BINDINGS = [
        Binding("enter", "open", "Open", priority=True),  # over the list's own (hidden) Enter: shown in the footer
        Binding("space", "toggle_training", "Train/pause", show=False),
        Binding("n", "single_step", "Step", show=False),
        key("question_mark", "help", "Help", key_display="?", help="How lessons go, and their keys"),
    ]
    HELP_ROWS = (("up/down", "the previous / next lesson"), ("space/n", "nothing: a lesson trains once it is open"))
    """Keys of the list itself, for the help."""

    def __init__(self, training: SessionLink, views: Iterable["View"] = ()) -> None:
        super().__init__(training)
        self.views = tuple(views)
        """The app's views (``screens.views.VIEWS``, handed in: this module cannot import that table,
        which imports it): a lesson names the key of one."""
        self.tracker = tracker_of(training)

    def compose_view(self) -> ComposeResult:
        yield Static("", id="lessons-note")
        yield SafeOptionList(id="lessons-list")
        yield Static("", id="lessons-about")

    def on_mount(self) -> None:
        super().on_mount()
        self._fill()
        self.query_one(OptionList).focus()
        if self.tracker.reopen and self.tracker.lesson is not None:
            self.open_lesson(self.tracker.lesson)  # left with c for the config pane: straight back

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if not self._leaving:
            self._fill()

    def _fill(self) -> None:
        """The list and its note from the progress file as it is now."""
        warning = self.tracker.read_progress()
        if warning:
            self.notify(visible(warning), severity="warning", timeout=10)
        done = self.tracker.done
        count = sum(1 for lesson in LESSONS if lesson.id in done)
        note = f"The course in order, {count} of {len(LESSONS)} completed ([x]). Enter opens a lesson."
        if self.tracker.warning:
            note += f"\n{visible(self.tracker.warning)} (a lesson completed now writes it anew)"
        self.query_one("#lessons-note", Static).update(Text(note))
        listing = self.query_one(OptionList)
        highlighted = listing.highlighted
        listing.clear_options()
        listing.add_options(self._option(i, lesson, lesson.id in done) for i, lesson in enumerate(LESSONS, 1))
        if highlighted is None:  # first shown: the lesson opened last, else the first one to do
            current = self.tracker.lesson
            highlighted = next((i for i, lesson in enumerate(LESSONS)
                                if (lesson.id == current.id if current else lesson.id not in done)), 0)
        listing.highlighted = highlighted

    @staticmethod
    def _option(number: int, lesson: Lesson, done: bool) -> Option:
        return Option(Text(f"{mark(done)} {number:2}. {lesson.title}"), id=lesson.id)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Under the list: the highlighted lesson's topics and task."""
        lesson = next((lesson for lesson in LESSONS if lesson.id == event.option_id), None)
        about = Text()
        if lesson is not None:
            about.append("Topics: ", style="bold")
            about.append(", ".join(lesson.topics) + "\n")
            about.append("Task: ", style="bold")
            about.append(lesson.task)
        self.query_one("#lessons-about", Static).update(about)

    def draw(self, snap: Snapshot) -> None:
        pass  # only the title line follows training

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        lesson = next((lesson for lesson in LESSONS if lesson.id == event.option_id), None)
        if lesson is not None:
            self.open_lesson(lesson)

    def action_open(self) -> None:
        listing = self.query_one(OptionList)
        if listing.highlighted is not None:
            self.open_lesson(LESSONS[listing.highlighted])

    def action_toggle_training(self) -> None:
        """Space and n in the list: no lesson is open to train, so they say what Enter does."""
        self.notify("Enter opens the highlighted lesson; there, Enter loads its experiment and space trains it.",
                    timeout=5)

    def action_single_step(self) -> None:
        self.action_toggle_training()

    def open_lesson(self, lesson: Lesson) -> None:
        if self.shown:
            self.app.push_screen(LessonScreen(self.training, lesson, self.views))

    def action_help(self) -> None:
        self.app.push_screen(LessonHelpScreen(type(self)))


class LessonScreen(InsideScreen):
    """One lesson: its text, experiment, task, live check, hints and misconception card."""

    DEFAULT_CSS = """
    LessonScreen #lesson-body { height: auto; }
    """

    BINDINGS = [
        Binding("space", "toggle_training", "Train"),
        Binding("n", "single_step", "Step", show=False),
        key("r", "retry", "Retry", help="Retry: fresh weights, same settings, for the lesson's epochs "
                                        "(space after a finished run does it too)"),
        key("enter", "load", "Load", help="Load the lesson's experiment: its preset for the task's epochs, "
                                          "fresh weights (asks first when the network has been trained)"),
        key("h", "hint", "Hint", help="Show the lesson's next hint"),
        key("m", "card", "Card", title="Misconception card",
            help="Show or hide where the usual course notes go wrong on this lesson's idea"),
        key("v", "view", "View", show=False, help="Open the view that shows the lesson's idea (Escape comes back)"),
        key("c", "settings", "Config", help="The main screen's config pane, to change what the task "
                                            "asks; L there comes back to the lesson"),
        key("plus,equals_sign", "lr(1)", "LR+", show=False, key_display="+", title="Learning rate up",
            help="The learning rate up a notch, at once, as + on the main screen"),
        key("minus", "lr(-1)", "LR-", show=False, key_display="-", title="Learning rate down",
            help="The learning rate down a notch, at once, as - on the main screen"),
        key("question_mark", "help", "Help", key_display="?", help="How lessons go, and their keys"),
    ]
    FOOTER_LEFT_OUT_FIRST = ("card", "hint", "single_step", "toggle_training", "load")
    """A narrow footer leaves out m and h first (the lesson's text says them), then space (the help)."""
    HELP_ROWS = (("up/down/pgup/pgdn", "scroll the lesson"),
                 ("a view's key", "open that view, as on the main screen (except the keys above)"))
    """Keys that are no binding of the screen's, for the help."""

    def __init__(self, training: SessionLink, lesson: Lesson, views: Iterable["View"] = ()) -> None:
        super().__init__(training)
        self.lesson = lesson
        self.views = tuple(views)
        self.number = next(i for i, item in enumerate(LESSONS, 1) if item.id == lesson.id)
        self.VIEW_TITLE = f"Lesson {self.number} of {len(LESSONS)}"
        self.tracker = tracker_of(training)
        self.tracker.open(lesson)

    def compose_view(self) -> ComposeResult:
        yield from self.scrolling_text("lesson")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#lesson-scroll").focus()

    @property
    def view(self) -> "View | None":
        """The view that shows the lesson's idea (None: the main screen, or a key no view has)."""
        return next((v for v in self.views if v.key == self.lesson.view_key), None) if self.lesson.view_key else None

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "card":
            return bool(self.lesson.misconception)
        if action == "view":
            return self.view is not None
        return True

    # -- drawing -------------------------------------------------------------------------------

    def draw(self, snap: Snapshot) -> None:
        self.update_text("#lesson-body", self.body(snap))

    def body(self, snap: Snapshot) -> Text:
        """Everything the lesson shows, as wrapped text."""
        lesson, tracker = self.lesson, self.tracker
        measured = tracker.evaluate(snap) if tracker.lesson is lesson else None
        done = lesson.id in tracker.done
        text = Text()
        text.append(f"{mark(done)} ")
        text.append(lesson.title, style="bold")
        text.append(" (completed)\n\n" if done else "\n\n")
        text.append(paragraphs(lesson.text) + "\n")
        text.append(self._where() + "\n\n")

        text.append("Experiment: ", style="bold")
        if tracker.holds(lesson):
            text.append(f"{lesson.preset} loaded, {lesson.epochs} epochs. Do the task, then space trains "
                        "(c: the config pane; r: fresh weights, same settings; Enter loads it afresh).\n")
        else:
            text.append(f"{lesson.preset}, {lesson.epochs} epochs. Enter loads it (fresh weights).\n")
        text.append("Task: ", style="bold")
        text.append(f"{lesson.task}\n")
        text.append("Check: ", style="bold")
        if done:  # what passed, kept; the run on now is another one, said apart
            kept = tracker.passed.get(lesson.id)
            if kept is None:
                text.append("passed earlier (completed).\n", style="bold green")
            else:
                passed, at = kept
                text.append(f"passed: {visible(passed.text)} (epoch {at.epoch}, step {at.step}): completed.\n",
                            style="bold green")
            if measured is not None:
                text.append("This run: ", style="bold")
        if measured is None and not done:
            text.append("measured live once the lesson's experiment is loaded (Enter).\n")
        elif measured is not None:
            text.append(visible(measured.text) + "\n")
            unmet = measured.unmet if measured.unmet != measured.text else ""  # else the line above is all unmet
            verdict = "passes" if measured.passed else "not yet" + (f": {visible(unmet)}" if unmet else "")
            again = "; space starts over" if not measured.passed and snap.state in ("finished", "diverged") else ""
            text.append(f"  -> {verdict} (epoch {snap.epoch}, step {snap.step}, {snap.state}){again}\n",
                        style="bold green" if measured.passed else "")
        text.append("\n")

        shown = tracker.hints.get(lesson.id, 0)
        for i, hint in enumerate(lesson.hints[:shown], 1):
            text.append(f"Hint {i} of {len(lesson.hints)}: ", style="bold")
            text.append(f"{hint}\n")
        if not lesson.hints:
            text.append("This lesson has no hints.\n")
        elif shown < len(lesson.hints):
            left = len(lesson.hints) - shown
            text.append(f"h: {'a' if shown == 0 else 'the next'} hint ({left} left).\n", style="dim")
        if lesson.misconception:
            if lesson.id in tracker.cards:
                text.append("Misconception: ", style="bold")
                text.append(f"{lesson.misconception}\n")
            else:
                text.append("m: the misconception card (where course notes often go wrong).\n", style="dim")
        return text

    def _where(self) -> str:
        """Where the idea shows: the view's name and key."""
        view = self.view
        if view is not None and self._view_key_free():
            return f"See it in {view.description}: {view.key} (or v) opens it from here."
        if view is not None:
            return f"See it in {view.description} ({view.key} on the main screen): v opens it from here."
        if not self.lesson.view_key:
            return "See it on the main screen: c goes there, L comes back."
        return f"See it with {self.lesson.view_key} on the main screen."

    # -- keys ------------------------------------------------------------------------------------

    def action_close(self) -> None:
        """Back to the list (the lesson is no longer reopened by L)."""
        self.tracker.reopen = False
        super().action_close()

    @work(exclusive=True, group="lesson")
    async def action_load(self) -> None:
        """The lesson's experiment: its preset with the task's epoch budget, through the presets' path."""
        lesson = self.lesson
        try:
            config = lesson_config(lesson, get_preset(lesson.preset))
        except ValueError as exc:
            self.notify(f"Lesson {lesson.id}: {describe_error(exc)}", severity="error", timeout=8)
            return
        self.tracker.open(lesson)
        if not await load_preset(self, lesson.preset, config, edited=self._edited()):
            return
        self.tracker.mark_loaded()
        self.notify(f"{lesson.preset} loaded ({lesson.epochs} epochs).", timeout=3)  # short: the lesson's text says the rest
        if self.shown:
            self.show_snapshot(self.training.current())

    def _edited(self) -> bool:
        """Whether the session's config holds changes that loading would lose: it is neither the
        app's first experiment nor a preset as it comes (the epochs aside, which lessons set)."""
        def plain(config: ExperimentConfig) -> ExperimentConfig:
            return replace(config, training=replace(config.training, epochs=1))

        current = plain(self.session.config)
        return current != plain(self.tracker.start_config) and all(
            current != plain(get_preset(name)) for name in PRESETS)

    def _loaded_here(self) -> bool:
        """Whether this lesson's experiment is the one loaded; else a notice that Enter loads it."""
        if self.tracker.holds(self.lesson):
            return True
        self.notify(f"Enter loads the lesson's experiment ({self.lesson.preset}) first; then space trains it.",
                    timeout=5)
        return False

    def action_toggle_training(self) -> None:
        """Space: train, pause or go on, always within the lesson's epoch budget: after a finished run
        (or one past the budget) it starts over from fresh weights with the settings as they are."""
        self._train(single_step=False)

    def action_single_step(self) -> None:
        self._train(single_step=True)

    def _train(self, *, single_step: bool) -> None:
        if not self._loaded_here():
            return
        session, budget, training = self.session, self.lesson.epochs, self.training
        if not (training.running and session.state == "training"):  # not training now: within the budget
            if session.state in ("finished", "diverged") or session.trainer.epoch >= budget:
                self._start_over(train=True, single_step=single_step)
                return
            if session.config.training.epochs != budget:  # e.g. trained on past it on the main screen
                training.apply_live(lesson_config(self.lesson, session.config))
        training.single_step() if single_step else training.toggle()

    def action_retry(self) -> None:
        """r: fresh weights, the settings as they are, the lesson's epochs (the check measures anew)."""
        if self._loaded_here():
            self._start_over(train=False)

    @work(exclusive=True, group="lesson")
    async def _start_over(self, *, train: bool, single_step: bool = False) -> None:
        lesson = self.lesson
        if not await self.training.rebuild(lesson_config(lesson, self.session.config)):
            return
        seed = self.session.config.training.seed
        self.notify(f"The run starts over: fresh weights (seed {seed}), same settings, {lesson.epochs} epochs.",
                    timeout=4)
        if train:
            self.training.single_step() if single_step else self.training.toggle()
        if self.shown:
            self.show_snapshot(self.training.current())

    def action_hint(self) -> None:
        lesson = self.lesson
        shown = self.tracker.hints.get(lesson.id, 0)
        if shown >= len(lesson.hints):
            self.notify("No more hints: all are shown." if lesson.hints else "This lesson has no hints.",
                        timeout=3)
            return
        self.tracker.hints[lesson.id] = shown + 1
        self.redraw_now()
        self._scroll_to_news()

    def action_card(self) -> None:
        self.tracker.cards ^= {self.lesson.id}
        self.redraw_now()
        if self.lesson.id in self.tracker.cards:
            self._scroll_to_news()

    def _scroll_to_news(self) -> None:
        """The hint or card just shown is at the lesson's end: scroll there once it is laid out."""
        scroll = self.query_one("#lesson-scroll")
        self.call_after_refresh(lambda: scroll.scroll_end(animate=False))

    def redraw_now(self) -> None:
        """Draw at once (a key changed what the lesson shows), with the latest snapshot."""
        if self.snapshot is None:
            self.snapshot = self.training.current()
        self.redraw()

    def _view_key_free(self, view_key: str | None = None) -> bool:
        """Whether a view's key (the lesson's when None) is no key of this screen's own: then it opens
        that view here too, as a lesson's text may say "press x"."""
        bound = {k.strip() for b in screen_bindings(self) for k in b.key.split(",")}
        return (self.lesson.view_key if view_key is None else view_key) not in bound

    def on_key(self, event) -> None:
        """A view's key opens the view here as on the main screen, where no key of the lesson has it
        (L, the lessons themselves, is no view from here)."""
        if self.app.screen is not self:  # a key queued here before a view just opened came on top
            return
        view = next((v for v in self.views if v.key == event.key and v.name != "lessons"), None)
        if view is not None and self._view_key_free(view.key):
            event.stop()
            self._open(view)

    def action_view(self) -> None:
        self._open(self.view)

    def _open(self, view: "View | None") -> None:
        """Open ``view`` over the lesson (Escape there comes back); before Enter it says that the
        network it shows is not the lesson's."""
        if view is not None and self.shown and self.app.screen is self:
            if not self.tracker.holds(self.lesson):
                self.notify(f"{view.description} shows the experiment as it is, not the lesson's yet: Enter in the "
                            f"lesson loads {self.lesson.preset}.", timeout=5)
            self.app.push_screen(view.factory(self.training))

    async def action_settings(self) -> None:
        """The main screen with its config pane open; L there comes back here."""
        if not self.start_leaving():
            return
        self.tracker.reopen = True
        app = self.app
        main = app.screen_stack[0]
        while app.screen is not main and isinstance(app.screen, (LessonScreen, LessonListScreen)):
            app.screen.start_leaving()  # this one already is; the list under it from now on
            await app.pop_screen()
        if app.screen is main:
            main.open_config()

    async def action_lr(self, direction: int) -> None:
        """+ / -: the main screen's own keys (the config pane shows the new rate), from the lesson."""
        await self.app.screen_stack[0].run_action("lr_up" if direction > 0 else "lr_down")

    def action_help(self) -> None:
        self.app.push_screen(LessonHelpScreen(type(self)))
