"""The config pane driven with keys only, as a user would: every field reached and changed, layers
added and removed, selects opened with Enter, space training from anywhere but a text field."""

import asyncio

import pytest
from textual import events
from textual.command import CommandList, CommandPalette

from tests.conftest import wait_for
from tests.test_app import region_text, screen_lines, settings_ready, small_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.widgets.config_pane import CONFIG_COMMANDS, MAX_LAYERS, MIXED, ConfigPane
from tui_trainer.tui.widgets.layer_view import LayerView

WIDE, NARROW = (120, 36), (80, 24)
SIZES = [WIDE, NARROW]

FIELD_ORDER = [  # the default experiment (adam, mini-batch, two hidden layers), top to bottom
    "dataset", "val_split",
    "act-all", "width-0", "act-0", "del-0", "width-1", "act-1", "del-1", "add-layer", "init",
    "optimizer", "lr", "hp-betas", "hp-eps", "hp-weight_decay", "hp-amsgrad",
    "batch_mode", "batch_size", "epochs", "seed",
    "features", "noise", "n_samples", "l2", "l1", "dropout", "patience", "schedule",  # the schedule's parameter is off without one
]


def run(coro):
    return asyncio.run(coro)


def focused_id(app) -> str | None:
    return app.focused.id if app.focused is not None else None


def pane(app) -> ConfigPane:
    return app.screen.query_one(ConfigPane)


def screen_text(app) -> str:
    """Every line of the screen as plain text."""
    return "\n".join(strip.text for strip in screen_lines(app))


def footer_text(app) -> str:
    """The footer's line, as plain text."""
    return " ".join(region_text(app, app.screen.query_one("Footer")))


def left_field(app) -> bool:
    """Focus is out of the config pane, on the weights."""
    return app.focused is not None and app.screen.query_one(LayerView) in (app.focused, *app.focused.ancestors)


def expanded(app) -> bool:
    return any(select.expanded for select in app.screen.query("ConfigPane Select"))


async def settle(pilot):
    """Wait until the pane is composed and no change is on its way."""
    await wait_for(pilot, lambda: not pane(pilot.app).busy)
    await pilot.pause()


async def open_config(pilot):
    """Into the config pane with keys: Tab on a wide terminal, c on a narrow one."""
    app = pilot.app
    await settings_ready(pilot, app)
    if app.screen.has_class("-narrow"):
        await pilot.press("c")
    else:
        for _ in range(3):  # the panes in turn, as far as the config pane
            if focused_id(app) == "dataset":
                break
            before = app.focused
            await pilot.press("tab")
            await wait_for(pilot, lambda: app.focused is not before)  # the key handled, else a second tab overshoots
    await wait_for(pilot, lambda: focused_id(app) == "dataset")


async def go_to(pilot, field_id: str, limit: int = 60):
    """Press down or up, towards ``field_id`` where the pane's field order tells, until it has
    focus (then the other way, should it not be there)."""
    app = pilot.app
    order = [w.id for w in app.screen.focus_chain if pane(app) in w.ancestors]  # the pane's fields, top to bottom
    here = focused_id(app)
    keys = ("down", "up")
    if here in order and field_id in order and order.index(field_id) < order.index(here):
        keys = ("up", "down")
    for key in keys:
        for _ in range(limit):
            if focused_id(app) == field_id:
                return
            before = focused_id(app)
            await pilot.press(key)
            if before != (order[-1] if key == "down" else order[0]):  # not at the end: the key moves focus
                await wait_for(pilot, lambda: focused_id(app) != before)
            await settle(pilot)
            if focused_id(app) == before:
                break
    assert focused_id(app) == field_id, f"{field_id} not reached; focus on {focused_id(app)}"


async def type_into(pilot, field_id: str, text: str):
    """Go to a text field, replace its text and press Enter."""
    await go_to(pilot, field_id)
    await pilot.press("ctrl+a", "ctrl+k", *text, "enter")  # start of line, delete to the end
    await settle(pilot)


async def choose(pilot, field_id: str, value):
    """Go to a select, open it with Enter, move to ``value`` with up/down and pick it with Enter."""
    app = pilot.app
    await go_to(pilot, field_id)
    select = app.screen.query_one(f"#{field_id}")
    values = list(select.values)
    await pilot.press("enter")
    await wait_for(pilot, lambda: select.expanded)
    steps = values.index(value) - values.index(select.value)
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
    await wait_for(pilot, lambda: not select.expanded)
    await settle(pilot)
    assert app.screen.query_one(f"#{field_id}").value == value


@pytest.mark.parametrize("size", [NARROW])  # the fields and their order are the same at every size
def test_up_and_down_visit_every_field_without_opening_a_select(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await open_config(pilot)
            seen = [focused_id(app)]
            footers = {}
            for _ in range(len(FIELD_ORDER) + 2):  # two more: the last field keeps focus
                await pilot.press("down")
                assert not expanded(app)
                seen.append(focused_id(app))
                await pilot.pause()  # the footer's keys laid out anew, as before a frame is drawn
                footers[focused_id(app)] = footer_text(app)
            assert seen[: len(FIELD_ORDER)] == FIELD_ORDER
            # the footer follows focus: a select's Enter, the layer keys in the layer rows only,
            # and the keys a text field takes for typing left out
            assert "Open list" in footers["act-0"] and "Add layer" in footers["act-0"]
            assert "Open list" in footers["init"] and "Add layer" not in footers["init"]
            assert "Add layer" in footers["width-1"] and "Open list" not in footers["width-1"]
            assert "esc Plots" in footers["lr"] and "Open list" not in footers["lr"]
            assert all(typed not in footers["lr"] for typed in ("LR+", "LR-", "Train", " c "))
            assert "Train" in footers["hp-amsgrad"] and "Add layer" not in footers["hp-amsgrad"]
            assert all(line.rstrip().endswith("^p palette") for line in footers.values())
            assert seen[len(FIELD_ORDER):] == [FIELD_ORDER[-1]] * 3
            for _ in range(len(FIELD_ORDER) - 1):
                await pilot.press("up")
                assert not expanded(app)
            assert focused_id(app) == "dataset"
            await pilot.press("up")
            assert focused_id(app) == "dataset"
            # j and k move too, where they cannot be typed
            await pilot.press("j")
            assert focused_id(app) == "val_split"
            await pilot.press("down", "j", "j")  # all layers, then a width: it takes digits only, j moves on from there too
            assert focused_id(app) == "act-0"
            await pilot.press("k", "j", "j")
            assert focused_id(app) == "del-0"
            await pilot.press("q")

    run(scenario())


@pytest.mark.parametrize("size", [NARROW])  # at 120x36 the keys-only journey in test_journeys.py
def test_every_setting_changed_with_keys_only(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await open_config(pilot)
            config_pane = pane(app)

            # the data first: those fields are at the top, where the pane opens
            await type_into(pilot, "val_split", "0.25")
            assert config_pane.config.data.val_split == 0.25
            await choose(pilot, "dataset", "moons")
            assert config_pane.config.data.dataset == "moons"
            data = config_pane.config.data

            await type_into(pilot, "width-0", "8")
            assert config_pane.config.network.hidden == [8, 16]
            assert focused_id(app) == "width-0"

            await go_to(pilot, "act-0")
            await pilot.press("a")  # a layer after this one, like it
            await settle(pilot)
            assert config_pane.config.network.hidden == [8, 8, 16]
            assert focused_id(app) == "width-1"
            assert "2 -> 8 -> 8 -> 16 -> 1" in screen_text(app)

            await choose(pilot, "act-1", "relu")
            assert config_pane.config.network.hidden_activations == ["tanh", "relu", "tanh"]

            await pilot.press("d")  # remove the layer with focus
            await settle(pilot)
            assert config_pane.config.network.hidden == [8, 16]
            assert config_pane.config.network.hidden_activations == ["tanh", "tanh"]
            assert focused_id(app) == "width-1"

            await choose(pilot, "init", "he")
            assert config_pane.config.network.init == "he"
            await choose(pilot, "optimizer", "sgd")
            assert config_pane.config.optimizer.name == "sgd"
            await type_into(pilot, "lr", "0.05")
            assert config_pane.config.optimizer.lr == 0.05
            assert app.screen.session.trainer.opt.lr == 0.05
            assert "w <- w - lr * g" in screen_text(app)
            await type_into(pilot, "hp-momentum", "0.9")
            await type_into(pilot, "hp-weight_decay", "0.01")
            assert app.screen.session.trainer.opt.hparams["momentum"] == 0.9
            rule = str(app.screen.query_one("#opt-rule").render())
            assert "v <- momentum * v + d" in rule and "weight_decay * w" in rule  # the rule follows the settings

            await choose(pilot, "batch_mode", "full")
            assert config_pane.config.training.batch_size == "full"
            assert app.screen.query_one("#batch_size").disabled
            await choose(pilot, "batch_mode", "single")
            assert config_pane.config.training.batch_size == 1
            await choose(pilot, "batch_mode", "mini")
            await type_into(pilot, "batch_size", "64")
            assert config_pane.config.training.batch_size == 64

            await type_into(pilot, "epochs", "7")
            await type_into(pilot, "seed", "3")
            assert config_pane.config.training.epochs == 7
            assert config_pane.config.training.seed == 3
            assert config_pane.config.data == data  # the data fields, set first, kept
            assert config_pane.valid
            await pilot.press("q")

    run(scenario())


@pytest.mark.parametrize("size", [NARROW])  # the same select and key handling at every size
def test_space_trains_right_after_a_select_changes(size):
    async def scenario():
        app = NNTuiApp(small_config(epochs=100000))
        async with app.run_test(size=size) as pilot:
            await open_config(pilot)
            await choose(pilot, "batch_mode", "full")
            assert focused_id(app) == "batch_mode"
            await pilot.press("space")
            session = app.screen.session
            await wait_for(pilot, lambda: session.state == "training")
            assert not expanded(app)
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "paused")
            assert not expanded(app)
            await pilot.press("q")

    run(scenario())


def test_space_trains_from_a_button_and_a_checkbox_which_enter_toggles():
    async def scenario():
        app = NNTuiApp(small_config(epochs=100000))
        async with app.run_test(size=WIDE) as pilot:
            await open_config(pilot)
            session = app.screen.session
            await go_to(pilot, "hp-amsgrad")
            await pilot.press("enter")
            await settle(pilot)
            assert pane(app).config.optimizer.hparams["amsgrad"] is True
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "training")
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "paused")
            assert pane(app).config.optimizer.hparams["amsgrad"] is True  # space did not toggle it
            await go_to(pilot, "add-layer")
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "training")
            assert pane(app).config.network.hidden == [16, 16]  # space did not press it
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "paused")
            await pilot.press("q")

    run(scenario())


def test_space_types_in_a_text_field():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=WIDE) as pilot:
            await open_config(pilot)
            await go_to(pilot, "lr")
            await pilot.press("space")
            await pilot.pause()
            assert app.screen.session.state == "ready"
            await pilot.press("q")

    run(scenario())


def test_escape_closes_a_dropdown_then_leaves_the_field():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=WIDE) as pilot:
            await open_config(pilot)
            await go_to(pilot, "optimizer")
            await pilot.press("enter")
            await wait_for(pilot, lambda: expanded(app))
            await pilot.press("down", "escape")
            await wait_for(pilot, lambda: not expanded(app))
            assert focused_id(app) == "optimizer"
            assert pane(app).config.optimizer.name == "adam"  # escape picked nothing
            await pilot.press("escape")
            assert left_field(app)
            await pilot.press("q")

    run(scenario())


def test_enter_twice_on_a_select_keeps_its_value():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=WIDE) as pilot:
            await open_config(pilot)
            await go_to(pilot, "init")
            await pilot.press("enter", "enter")
            await settle(pilot)
            assert not expanded(app)
            assert focused_id(app) == "init"
            assert pane(app).config.network.init == "auto"
            await pilot.press("q")

    run(scenario())


@pytest.mark.parametrize("size", [NARROW])  # the layer list is the same at every size
def test_adding_and_removing_layers_repeatedly_never_breaks(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await open_config(pilot)
            config_pane = pane(app)
            await go_to(pilot, "act-1")
            # a, a, d, a without waiting in between
            await pilot.press("a")
            await pilot.press("right")  # any key while the rows are rebuilt
            await pilot.press("a")
            await pilot.press("d")
            await pilot.press("a")
            await settle(pilot)
            assert len(config_pane.config.network.hidden) == 4
            assert app.is_running
            # remove every layer with d (from four: each removal rebuilds the rows, and more rows
            # only make that slower)
            await go_to(pilot, "act-0")
            for _ in range(4 + 2):
                await pilot.press("d")
                await settle(pilot)
                if focused_id(app) and focused_id(app).startswith("width-"):
                    await pilot.press("down")  # from the width field to its row's select
            assert config_pane.config.network.hidden == []
            assert focused_id(app) == "add-layer"
            assert "2 -> 1" in screen_text(app)
            await pilot.press("a")  # back to one layer, from the add button
            await settle(pilot)
            assert len(config_pane.config.network.hidden) == 1
            assert focused_id(app) == "width-0"
            # up to the limit, and one more does nothing
            for _ in range(MAX_LAYERS):
                await pilot.press("insert")
            await settle(pilot)
            assert len(config_pane.config.network.hidden) == MAX_LAYERS
            assert app.screen.query_one("#add-layer").disabled
            await pilot.press("q")

    run(scenario())


def test_keys_typed_faster_than_the_rows_are_rebuilt_all_land_in_the_pane():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=NARROW) as pilot:
            await open_config(pilot)
            await go_to(pilot, "act-1")
            for key in ("a", "a", "down", "a"):  # no waiting in between, as from a fast typist
                app.post_message(events.Key(key, key if len(key) == 1 else None))
            await settle(pilot)
            await wait_for(pilot, lambda: focused_id(app) == "width-4")
            assert app.screen is app.screen_stack[0]  # a did not reach the screen (a view's key)
            assert pane(app).config.network.hidden == [16] * 5
            await pilot.press("q")

    run(scenario())


def test_escape_while_the_rows_are_rebuilt_leaves_the_pane_for_good():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=NARROW) as pilot:
            await open_config(pilot)
            await go_to(pilot, "add-layer")
            for key in ("a", "a", "escape"):
                app.post_message(events.Key(key, key if len(key) == 1 else None))
            await settle(pilot)
            await pilot.pause(0.2)
            assert pane(app).config.network.hidden == [16] * 4
            assert not app.screen.has_class("-config-open")
            assert left_field(app)  # the rebuilt rows did not take focus back
            await pilot.press("q")

    run(scenario())


def test_an_open_list_moves_with_j_and_k_and_leaves_space_to_training():
    async def scenario():
        app = NNTuiApp(small_config(epochs=100000))
        async with app.run_test(size=WIDE) as pilot:
            await open_config(pilot)
            await go_to(pilot, "act-0")
            await pilot.press("enter", "j", "j", "k")  # tanh -> leaky_relu -> relu
            await pilot.press("space")
            session = app.screen.session
            await wait_for(pilot, lambda: session.state == "training")
            assert expanded(app)
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "paused")
            await pilot.press("escape")
            await wait_for(pilot, lambda: not expanded(app))
            assert pane(app).config.network.hidden_activations == ["tanh", "tanh"]
            await pilot.press("q")

    run(scenario())


def test_add_layer_button_and_remove_buttons_with_enter():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=WIDE) as pilot:
            await open_config(pilot)
            config_pane = pane(app)
            await go_to(pilot, "add-layer")
            await pilot.press("enter")
            await settle(pilot)
            assert config_pane.config.network.hidden == [16, 16, 16]
            assert focused_id(app) == "width-2"
            await pilot.press("1", "2", "enter")  # the new width is selected: typing replaces it
            await settle(pilot)
            assert config_pane.config.network.hidden == [16, 16, 12]
            await go_to(pilot, "del-0")
            await pilot.press("enter")
            await settle(pilot)
            assert config_pane.config.network.hidden == [16, 12]
            assert focused_id(app) == "width-0"
            await pilot.press("q")

    run(scenario())


def test_letters_do_not_type_into_a_width():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=NARROW) as pilot:
            await open_config(pilot)
            await go_to(pilot, "width-0")
            await pilot.press("x", "y", "z", "space", "minus")
            assert app.screen.query_one("#width-0").value == "16"
            assert app.screen.session.state == "ready"
            await pilot.press("ctrl+a", "ctrl+k", "0", "enter")
            await settle(pilot)
            assert not pane(app).valid
            assert "integers >= 1" in " ".join(region_text(app, app.screen.query_one("#err-width-0")))
            await pilot.press("ctrl+a", "ctrl+k", "4", "enter")
            await settle(pilot)
            assert pane(app).valid and pane(app).config.network.hidden == [4, 16]
            await pilot.press("q")

    run(scenario())


@pytest.mark.parametrize("size", [WIDE])  # the narrowest pane: 40 columns beside the plots
def test_error_messages_wrap_inside_the_pane(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await open_config(pilot)
            await type_into(pilot, "width-0", "")  # top to bottom: the fewest moves
            await type_into(pilot, "lr", "abcdefghijk")  # over ten letters: shortened in the message
            await type_into(pilot, "epochs", "0")
            assert not pane(app).valid
            messages = {
                "lr": "'abcdefghi…' is not a number",
                "width-0": "needs a whole number",
                "epochs": "must be an integer >= 1",
            }
            for field_id, message in messages.items():
                label = app.screen.query_one(f"#err-{field_id}")
                label.scroll_visible(animate=False)
                await pilot.pause()
                shown = " ".join(" ".join(region_text(app, label)).split())
                assert shown == message
            await pilot.press("q")

    run(scenario())


def test_narrow_escape_closes_the_pane_after_a_change():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=NARROW) as pilot:
            await open_config(pilot)
            await type_into(pilot, "epochs", "9")
            assert pane(app).config.training.epochs == 9
            await pilot.press("escape")
            await pilot.pause()
            assert not app.screen.has_class("-config-open")
            assert left_field(app)
            await pilot.press("q")

    run(scenario())


def palette_choice(app) -> str:
    """The command the open palette's Enter would run, as plain text ("" while none is shown)."""
    commands = app.screen.query(CommandList)
    if not commands or commands.first().highlighted is None:
        return ""
    command_list = commands.first()
    return str(command_list.get_option_at_index(command_list.highlighted).prompt)


async def palette(pilot, text: str):
    """Open the command palette, type ``text`` and run the command it names."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*text)
    await wait_for(pilot, lambda: palette_choice(app).startswith(text))
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette))
    await settle(pilot)


def test_config_commands_cover_every_field():
    names = {description for _, _, description, _ in CONFIG_COMMANDS}
    assert {
        "Add layer", "Remove layer", "Set dataset", "Set validation split", "Set layer width",
        "Set activation", "Set init", "Set optimizer", "Set learning rate", "Set batch mode",
        "Set batch size", "Set epochs", "Set seed",
    } <= names


@pytest.mark.parametrize("size", [NARROW])  # where the pane must first be opened
def test_palette_commands_reach_config_fields(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            await palette(pilot, "Set learning rate")
            assert focused_id(app) == "lr"
            assert app.screen.query_one("#lr").region.width > 0  # shown, also on a narrow terminal
            await pilot.press("escape")
            await palette(pilot, "Set optimizer")
            assert focused_id(app) == "optimizer" or expanded(app)
            assert expanded(app)
            await pilot.press("escape", "escape")
            await palette(pilot, "Add layer")
            assert pane(app).config.network.hidden == [16, 16, 16]
            assert focused_id(app) == "width-2"
            await palette(pilot, "Remove layer")
            assert pane(app).config.network.hidden == [16, 16]
            await pilot.press("q")

    run(scenario())


def test_generalization_fields_apply_live_by_keys_and_bad_values_say_why():
    async def scenario():
        app = NNTuiApp(small_config(epochs=100000))
        async with app.run_test(size=WIDE) as pilot:
            await open_config(pilot)
            session = app.screen.session
            app.screen.action_config_field("l2")
            await settle(pilot)
            field = app.screen.query_one("#l2")
            field.value = ""
            await pilot.press(*"0.01", "enter")
            await settle(pilot)
            assert session.config.network.l2 == 0.01 and session.trainer.l2 == 0.01
            app.screen.action_config_field("dropout")
            await settle(pilot)
            app.screen.query_one("#dropout").value = ""
            await pilot.press(*"1.5", "enter")
            await settle(pilot)
            assert "must be in [0, 1)" in str(app.screen.query_one("#err-dropout").content)
            assert session.config.network.dropout == 0.0
            app.screen.query_one("#dropout").value = ""
            await pilot.press(*"0.2", "enter")
            await settle(pilot)
            assert session.trainer.dropout == (0.2, 0.2)
            app.screen.action_config_field("patience")
            await settle(pilot)
            await pilot.press(*"7", "enter")
            await settle(pilot)
            assert session.config.training.patience == 7 and session.trainer.patience == 7

    run(scenario())


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_all_layers_sets_every_hidden_activation_in_a_few_keys(size):
    """The vanishing-gradient lesson changes 6 hidden layers' activation: ~42 keys one row at a time.
    The "all layers" select above the rows shows their common activation (or "mixed") and sets all."""
    from tui_trainer.experiments.presets import get_preset

    async def scenario():
        app = NNTuiApp(get_preset("deep-sigmoid"))
        async with app.run_test(size=size) as pilot:
            await open_config(pilot)
            await settle(pilot)
            order = [w.id for w in app.screen.focus_chain if pane(app) in w.ancestors]
            assert order.index("act-all") < order.index("width-0")
            assert pane(app).query_one("#act-all").value == "sigmoid"
            await choose(pilot, "act-all", "relu")
            await wait_for(pilot, lambda: app.screen.session.config.network.hidden_activations == ["relu"] * 6)
            assert [pane(app).query_one(f"#act-{i}").value for i in range(6)] == ["relu"] * 6
            assert focused_id(app) == "act-all"
            # one layer back to tanh: the select reads "mixed"
            await choose(pilot, "act-2", "tanh")
            await wait_for(pilot, lambda: pane(app).query_one("#act-all").value == MIXED)
            assert "mixed" in screen_text(app)
            # back to relu: the select shows relu again and the layers keep theirs (its list losing
            # "mixed" once set every layer to the list's first, linear)
            await choose(pilot, "act-2", "relu")
            await wait_for(pilot, lambda: pane(app).query_one("#act-all").value == "relu")
            await settle(pilot)
            assert app.screen.session.config.network.hidden_activations == ["relu"] * 6
            assert app.unexpected_errors == 0

    run(scenario())


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_the_focused_stop_of_a_layer_row_shows_without_colour(size, monkeypatch):
    """A layer row has three stops (width, activation, x); the row marker alone cannot tell which has
    focus, and without colour (NO_COLOR) a grey shade barely did: the focused field is drawn reversed."""
    from tests.test_app import screen_lines

    monkeypatch.setenv("NO_COLOR", "1")

    def reversed_in(app, widget_id: str) -> bool:
        x, y, width, height = pane(app).query_one(f"#{widget_id}").region
        strip = screen_lines(app)[y].crop(x, x + width)
        return any(seg.style is not None and seg.style.reverse and seg.text.strip() for seg in strip)

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            assert app.no_color
            await open_config(pilot)
            for stop in ("width-0", "act-0", "del-0"):
                await go_to(pilot, stop)
                await pilot.pause()
                await wait_for(pilot, lambda: reversed_in(app, stop))
                others = {"width-0", "act-0", "del-0"} - {stop}
                assert not any(reversed_in(app, other) for other in others), stop

    run(scenario())


def test_the_palette_reaches_all_layers_and_weight_decay():
    """Set all activations opens the "all layers" list; Set weight decay (14 downs away in the adamw
    lesson's pane) is one palette command, as that lesson's hint says."""
    from tui_trainer.experiments.lessons import LESSONS
    from tui_trainer.experiments.presets import get_preset

    [lesson] = [lesson for lesson in LESSONS if lesson.preset == "overfit-adamw"]
    assert any("ctrl+p, Set weight decay" in hint for hint in lesson.hints), lesson.hints

    async def scenario():
        app = NNTuiApp(get_preset("overfit-adamw"))
        async with app.run_test(size=NARROW) as pilot:
            await settings_ready(pilot, app)
            await palette(pilot, "Set all activations")
            await wait_for(pilot, lambda: pane(app).query_one("#act-all").expanded)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not expanded(app))
            await palette(pilot, "Set weight decay")
            await wait_for(pilot, lambda: focused_id(app) == "hp-weight_decay")
            assert app.unexpected_errors == 0

    run(scenario())
