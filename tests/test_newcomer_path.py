"""A newcomer's path by keys, part two: the config one key away (c) and back to the field left,
focus kept through a refused change, and a footer that shows only the keys that work where focus is."""

import asyncio

import pytest

from tests.conftest import wait_for
from tests.test_app import SIZES, settings_ready, small_config
from tests.test_config_keys import focused_id, footer_text, go_to, left_field, screen_text, settle
from tui_trainer.tui.app import NNTuiApp


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize("size", SIZES)
def test_c_goes_to_the_config_and_back_to_the_field_left(size):
    """Focus starts on the heatmap: c is the key to the config (the footer says so), c again the
    key back to the plots; Escape from a text field and c again land on that same field."""
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            assert left_field(app)
            await wait_for(pilot, lambda: "c Config" in footer_text(app))
            await pilot.press("c")
            await wait_for(pilot, lambda: focused_id(app) == "dataset")
            await wait_for(pilot, lambda: "c Plots" in footer_text(app))  # c says it goes back
            await go_to(pilot, "optimizer")
            await pilot.press("c")  # back to the plots
            await wait_for(pilot, lambda: left_field(app))
            assert not app.screen.has_class("-config-open")
            await wait_for(pilot, lambda: "c Config" in footer_text(app))
            await pilot.press("c")  # and to the field left
            await wait_for(pilot, lambda: focused_id(app) == "optimizer")
            await go_to(pilot, "noise")  # a text field, far down the form
            await pilot.press("escape")
            await wait_for(pilot, lambda: left_field(app))
            await pilot.press("c")
            await wait_for(pilot, lambda: focused_id(app) == "noise")
            await pilot.press("escape")
            await wait_for(pilot, lambda: left_field(app))
            await pilot.press("shift+tab")  # the panes in turn reach the same field too
            if size[0] >= 110:
                await wait_for(pilot, lambda: focused_id(app) == "noise")

    run(scenario())


@pytest.mark.parametrize("size", SIZES)
def test_the_footer_in_a_text_field_shows_only_keys_that_work_there(size):
    """In a text field +, -, space and c type: the footer leaves them out and says how to leave."""
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("c")
            await wait_for(pilot, lambda: focused_id(app) == "dataset")
            await go_to(pilot, "lr")
            await wait_for(pilot, lambda: "esc Plots" in footer_text(app))
            shown = footer_text(app)
            for gone in ("LR+", "LR-", "Train/pause", " c Plots", " c Config"):
                assert gone not in shown, f"{gone!r} in the footer of a text field: {shown!r}"
            await pilot.press("end", "minus")  # - types
            assert app.screen.query_one("#lr").value == "0.01-"
            assert app.screen.session.config.optimizer.lr == 0.01
            await pilot.press("backspace", "up")  # a select: the keys are back
            await wait_for(pilot, lambda: focused_id(app) == "optimizer")
            await wait_for(pilot, lambda: "c Plots" in footer_text(app) and "esc Plots" not in footer_text(app))
            assert "Train/pause" in footer_text(app)

    run(scenario())


@pytest.mark.parametrize("leave,size", [("escape", SIZES[0]), ("escape", SIZES[1]), ("enter", SIZES[0])])
def test_a_kept_network_keeps_focus_on_the_field(size, leave):
    """A change that needs new weights asks (on Enter, or as Escape leaves the field); its buttons say
    what each does ("Keep" read as "keep my change" put the old value back silently). Undoing puts
    the old value back, says so with the field and its value, and focus goes back to the field
    changed (Escape's left it on the heatmap)."""
    from tests.test_app import notes
    from tui_trainer.tui.screens.dialogs import ConfirmDialog

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            await pilot.press("n")
            await wait_for(pilot, lambda: session.trained)
            await pilot.press("c")
            await wait_for(pilot, lambda: focused_id(app) == "dataset")
            await go_to(pilot, "noise")
            await pilot.press("ctrl+a", "ctrl+k", *"0.3", leave)
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await wait_for(pilot, lambda: "Undo the change" in screen_text(app))
            dialog = screen_text(app)
            assert "Undo the change" in dialog and "Reset and apply (y)" in dialog and "Keep" not in dialog, dialog
            old = session.config.data.noise
            await pilot.press("escape")  # undo
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            await settle(pilot)
            await wait_for(pilot, lambda: focused_id(app) == "noise")
            assert session.trained and app.screen.query_one("#noise").value != "0.3"
            back = "its default" if old is None else f"{old:g}"
            assert f"Change undone: noise back to {back}" in notes(app), notes(app)

    run(scenario())


def test_help_says_escape_closes_it_and_what_c_does():
    from tests.test_config_keys import screen_text
    from tui_trainer.tui.screens.help import HelpScreen, keys_table
    from tui_trainer.tui.screens.main import MainScreen

    assert "| `c` | to the config pane, at the field left there; from it, back to the plots |" in keys_table(MainScreen)

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            await wait_for(pilot, lambda: "Escape closes this help" in screen_text(app))  # in its first lines
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))

    run(scenario())


@pytest.mark.parametrize("size", SIZES)
def test_the_collapse_views_way_to_the_activations_is_true_at_every_width(size):
    """x's hint names the keys that reach the hidden activations from the main screen, wherever
    focus was when x was pressed: Escape, then ctrl+p Set activation."""
    from tests.test_config_keys import palette, screen_text
    from tui_trainer.tui.screens.inside_collapse import CollapseScreen

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("c")  # focus in the config (a list): x still opens the view
            await wait_for(pilot, lambda: focused_id(app) == "dataset")
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, CollapseScreen))
            await wait_for(pilot, lambda: "(Escape, then ctrl+p: Set activation)" in " ".join(screen_text(app).split()))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, CollapseScreen))
            await palette(pilot, "Set activation")
            await wait_for(pilot, lambda: app.focused is not None and "act-0" in (app.focused.id, app.focused.parent.id))
            assert app.screen.query_one("#act-0").region.width > 0

    run(scenario())


@pytest.mark.parametrize("dataset, synthetic", [("digits", False), ("sine", True)])
def test_settings_that_do_not_apply_to_the_data_are_hidden_and_their_command_says_why(dataset, synthetic):
    """On data without exactly 2 inputs the 2-D feature picker is not shown (it showed dimmed), nor
    noise and samples on data that is not synthetic; ctrl+p Set input features says why it goes to
    the dataset instead, naming the data's inputs."""
    from tests.test_app import notes
    from tests.test_config_keys import palette

    async def scenario():
        app = NNTuiApp(small_config(dataset=dataset) if synthetic else small_config(dataset=dataset, n_samples=None))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            shown = lambda field: app.screen.query_one(f"#{field}").region.width > 0  # noqa: E731
            assert not shown("features")
            assert shown("noise") == synthetic and shown("n_samples") == synthetic
            assert shown("lr")
            n_inputs = app.screen.session.experiment.dataset.X.shape[1]
            await palette(pilot, "Set input features")
            assert focused_id(app) == "dataset"
            assert (f"Input features are for data with exactly 2 inputs (x1, x2): {dataset} has {n_inputs}."
                    in notes(app))

    run(scenario())


def test_the_runs_table_shows_its_numbers_at_80_columns(tmp_path, monkeypatch):
    """At 80 columns the Runs table leaves out its least telling columns (lr, the optimizer, ...)
    rather than cutting val acc; at 120 columns they are back."""
    from textual.widgets import DataTable

    from tests.test_runs_screens import finished_run, open_runs
    from tui_trainer.experiments.runs import RUNS_ENV

    root = tmp_path / "runs"
    monkeypatch.setenv(RUNS_ENV, str(root))
    finished_run(root, None)  # unnamed: the id names it, 20 characters
    finished_run(root, "a-longer-run-name", lr=0.001)

    def headers(app) -> list[str]:
        return [str(column.label) for column in app.screen.query_one(DataTable).columns.values()]

    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_runs(pilot, app)
            table = screen.query_one(DataTable)
            await wait_for(pilot, lambda: "val acc" in headers(app))
            assert table.virtual_size.width <= table.size.width, (headers(app), table.virtual_size, table.size)
            assert "90.0%" in " ".join(str(c) for c in table.get_row_at(0))
            assert headers(app)[:3] == ["", "run", "status"]
            await pilot.resize_terminal(120, 36)
            await wait_for(pilot, lambda: {"lr", "opt", "train"} <= set(headers(app)))

    run(scenario())


@pytest.mark.parametrize("size", SIZES)
def test_the_race_plot_tells_its_curves_apart_at_80x24(size):
    """At 80x24 the race plot has 5 rows for 8 curves: each curve is drawn with its lane's letter
    (S sgd, A adam, ...), as without colour, and the legend names the letters; a taller plot keeps lines."""
    from tests.test_lab_screens import open_screen, tiny_config
    from tests.test_race_screen_texts import plot_text
    from tui_trainer.tui.screens.lab_race import RaceScreen

    async def scenario():
        app = NNTuiApp(tiny_config(epochs=5))
        async with app.run_test(size=size) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            await pilot.press("space")

            def drawn_as_wanted() -> bool:
                """The plot after the race: its first frames may still hold fewer curves."""
                if not screen.done:
                    return False
                legend, *plot = plot_text(screen).splitlines()
                drawn = "\n".join(plot)
                braille = any("\u2800" < c <= "\u28ff" for c in drawn)
                if size[1] < 30:  # close curves hide each other's letters: 3 of 8 show
                    return ("S sgd" in legend and "A adam" in legend
                            and len(set("SMNGRAWP") & set(drawn)) >= 3 and not braille)
                return "━ sgd" in legend and braille

            try:
                await wait_for(pilot, drawn_as_wanted)
            except AssertionError:
                raise AssertionError(plot_text(screen)) from None

    run(scenario())


def test_every_screen_shows_help_and_quit_in_its_footer_at_80x24():
    """Each view's footer at 80 columns keeps ? Help and ^q Quit (q goes back there), and ? opens the help."""
    from tui_trainer.tui.screens.help import HelpScreen
    from tui_trainer.tui.screens.main import MainScreen
    from tui_trainer.tui.screens.views import VIEWS

    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            missing = {}
            for view in VIEWS:
                await pilot.press(view.key)
                await wait_for(pilot, lambda: not isinstance(app.screen, MainScreen))
                screen = app.screen
                try:
                    await wait_for(pilot, lambda: "? Help" in footer_text(app) and "^q Quit" in footer_text(app),
                                   timeout=3)
                except AssertionError:
                    missing[view.key] = footer_text(app)
                if "help" not in view.name and "lesson" not in view.name:
                    app.set_focus(None)  # a field of a lab screen would take the ? as text
                    await pilot.press("question_mark")
                    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
                    await pilot.press("escape")
                    await wait_for(pilot, lambda: app.screen is screen)
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            assert not missing, missing

    run(scenario())


@pytest.mark.parametrize("key, keys_shown", [("b", "z Shading"), ("o", "u Use best"), ("f", "[ ] Surface")])
def test_the_boundary_race_and_surface_footers_show_z_u_and_the_surface_keys(key, keys_shown):
    from tests.test_lab_screens import tiny_config
    from tui_trainer.tui.screens.main import MainScreen

    async def scenario():
        app = NNTuiApp(tiny_config(epochs=3), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press(key)
            await wait_for(pilot, lambda: not isinstance(app.screen, MainScreen))
            if key == "o":
                await wait_for(pilot, lambda: "space Run/pause" in footer_text(app))
                assert keys_shown not in footer_text(app)  # only once a race has a best lane
                await pilot.press("space")
                await wait_for(pilot, lambda: app.screen.done)
            await wait_for(pilot, lambda: keys_shown in footer_text(app) and "? Help" in footer_text(app), timeout=5)

    run(scenario())


def test_undoing_an_init_change_names_init_and_its_value():
    """The init select (a registered setting the run store leaves out) is named too when undone."""
    from tests.test_app import notes
    from tests.test_config_keys import open_config
    from tui_trainer.experiments.presets import get_preset
    from tui_trainer.tui.screens.dialogs import ConfirmDialog

    async def scenario():
        app = NNTuiApp(get_preset("zero-init"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            await pilot.press("n")
            await wait_for(pilot, lambda: session.trained)
            await open_config(pilot)
            await go_to(pilot, "init")
            select = app.screen.query_one("#init")
            await pilot.press("enter")
            await wait_for(pilot, lambda: select.expanded)
            await pilot.press("down", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            await settle(pilot)
            assert session.config.network.init == "zeros"
            await wait_for(pilot, lambda: "Change undone: init back to zeros" in notes(app))

    run(scenario())
