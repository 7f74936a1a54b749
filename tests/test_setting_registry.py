"""A setting declared in one place goes everywhere a setting shows: the TOML file (load, write, checks
with "did you mean"), ``with_overrides``, the command line's option and help, the config pane's row, the
palette, the help, a live change through the trainer's command queue, and the run store's settings.

``nudge`` is registered only here, as a lesson would add one: nothing else in the product names it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tomllib

import pytest
from click.testing import CliRunner

from tests.conftest import wait_for
from tests.test_app import settings_ready, small_config
from tui_trainer.cli import main
from tui_trainer.experiments.config import ConfigError, dumps_config, loads_config, with_overrides
from tui_trainer.experiments.experiment import Experiment
from tui_trainer.experiments.hparam_text import parse_number
from tui_trainer.experiments.recording import Recorder
from tui_trainer.experiments.runs import differing, final_settings, list_runs, read_metrics, settings_of
from tui_trainer.experiments.session import Session, change_kind
from tui_trainer.experiments.settings import SETTINGS, Setting, register, unregister


def _check(value, training):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return [("nudge", "must be a whole number >= 0, the test's nudge", value)]
    return []


def _non_negative(value: int) -> int:
    if value < 0:
        raise ValueError(f"must be >= 0, got {value}")
    return value


NUDGE = Setting(
    section="training", name="nudge", default=0, parse=lambda text: parse_number(text, whole=True),
    format=str, check=_check, flag="--nudge", cli_type=int, cli_parse=_non_negative,
    cli_help="Nudges of the test setting (0: none).", label="nudge",
    tooltip="the test's nudge", title="Set test nudge", command_help="How hard the test nudges (live)",
    help="*Nudge* is the test's own setting.", live=True,
    apply=lambda trainer, value: setattr(trainer, "nudged", value),
)


@pytest.fixture(autouse=True)
def nudge_registered():
    """``NUDGE`` in the registry for the test, and out of it afterwards."""
    register(NUDGE)
    yield
    unregister(NUDGE.name)


def test_toml_loads_writes_and_checks_it():
    cfg = loads_config("[training]\nnudge = 3\n")
    assert cfg.training.nudge == 3
    text = dumps_config(cfg)
    assert "nudge = 3" in text.split("[training]")[1]
    assert loads_config(text) == cfg
    assert "nudge" not in dumps_config(with_overrides(cfg, nudge=0))  # the default is left out
    with pytest.raises(ConfigError) as err:
        loads_config("[training]\nnuge = 3\n")
    assert "did you mean 'nudge'?" in str(err.value)
    with pytest.raises(ConfigError) as err:
        loads_config("[training]\nnudge = -1\n")
    assert "[training] nudge = -1: must be a whole number >= 0, the test's nudge" in str(err.value)
    with pytest.raises(ConfigError) as err:
        loads_config("nudge = 2\n")
    assert "put it under [training]" in str(err.value)
    assert with_overrides(cfg, nudge=5).training.nudge == 5


def test_the_command_line_takes_it(tmp_path):
    runner = CliRunner()
    help_text = runner.invoke(main, ["train", "--help"]).output
    assert "--nudge INTEGER" in help_text and "Nudges of the test setting (0: none)." in help_text
    assert help_text.index("--features") < help_text.index("--nudge") < help_text.index("--schedule")
    out = tmp_path / "out"
    result = runner.invoke(main, ["train", "--dataset", "xor", "--epochs", "1", "--nudge", "2", "--no-record",
                                  "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "nudge = 2" in (out / "config.toml").read_text()
    bad = runner.invoke(main, ["train", "--nudge", "-3", "--no-record"])
    assert bad.exit_code == 2 and "Invalid value for '--nudge': must be >= 0, got -3" in bad.output


def test_a_change_is_live_and_reaches_the_trainer_through_its_queue():
    cfg = small_config(nudge=1)
    assert Experiment.from_config(cfg).trainer.nudged == 1  # a new experiment starts with it
    session = Session(cfg)
    assert change_kind(cfg, with_overrides(cfg, nudge=4)) == "live"
    submitted = []
    real_submit = session.control.submit
    session.control.submit = lambda fn: (submitted.append(fn), real_submit(fn))[1]
    experiment = session.experiment
    session.apply_live(with_overrides(cfg, nudge=4))
    assert submitted and session.trainer.nudged == 4 and session.config.training.nudge == 4
    assert session.experiment is experiment  # weights kept


def test_the_run_store_lists_it_and_records_its_live_change(tmp_path):
    one, other = small_config(), small_config(nudge=2)
    assert "nudge" not in settings_of(one) and settings_of(other)["nudge"] == 2
    assert differing([settings_of(one), settings_of(other)]) == ["nudge"]
    session = Session(small_config(epochs=1), recorder=Recorder(tmp_path))
    session.set_pace(None)
    session.prepare_run()
    session.run(lambda snap: None)
    session.apply_live(with_overrides(session.config, nudge=5, epochs=2))
    session.prepare_run()
    session.run(lambda snap: None)
    session.end_run()
    [run] = list_runs(tmp_path)
    metrics = read_metrics(run.path)
    assert [e["value"] for e in metrics.events if e.get("what") == "nudge"] == [5]
    assert "nudge" not in run.settings and final_settings(run, metrics)["nudge"] == 5


def test_the_pane_palette_and_help_show_it_and_the_pane_changes_it_live():
    from tui_trainer.tui.app import NNTuiApp
    from tui_trainer.tui.keys import palette_entries
    from tui_trainer.tui.screens.help import panes_text
    from tui_trainer.tui.screens.main import MainScreen
    from textual.widgets import Input, Label

    assert "*Nudge* is the test's own setting." in panes_text()
    titles = [entry.title for entry in palette_entries(MainScreen)]
    assert "Set test nudge" in titles
    assert titles.index("Set early-stopping patience") < titles.index("Set test nudge") < titles.index("Set lr schedule")

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            field = app.screen.query_one("#nudge", Input)
            assert field.value == "0" and field.parent.query_one(Label).content == "nudge"
            session = app.training.session
            experiment = session.experiment
            app.screen.action_config_field("nudge")
            await wait_for(pilot, lambda: app.focused is field)
            field.value = ""
            await pilot.press("3", "enter")
            await wait_for(pilot, lambda: getattr(session.trainer, "nudged", None) == 3)
            assert session.config.training.nudge == 3 and session.experiment is experiment
            field.value = ""
            await pilot.press("minus", "1", "enter")  # refused, with the declaration's reason
            await wait_for(pilot, lambda: "the test's nudge" in str(app.screen.query_one("#err-nudge").content))
            assert session.trainer.nudged == 3

    asyncio.run(scenario())


def test_a_setting_cannot_take_a_name_or_option_in_use():
    import dataclasses

    for name in ("nudge", "epochs", "hidden", "optimizer", "settings"):
        with pytest.raises(ValueError):
            register(dataclasses.replace(NUDGE, name=name, flag="--other"))
    with pytest.raises(ValueError, match="--l2 is taken"):
        register(dataclasses.replace(NUDGE, name="other", flag="--l2"))
    assert "other" not in SETTINGS


PLACED = Setting(
    section="training", name="knock", default=0, parse=lambda text: parse_number(text, whole=True),
    format=str, check=_check, flag="--knock", cli_type=int, cli_min=0,
    cli_help="Knocks of the test setting.", label="knock", tooltip="", title="Set test knock",
    command_help="How often the test knocks", help="", live=False,
    widget="whole", after="seed", always=True,
)


def test_a_declaration_places_its_setting_among_the_fields_and_shows_it_always(tmp_path):
    """A setting placed after another field (here after the seed, itself placed after the epochs) is
    listed in that place everywhere, and one shown ``always`` is written and listed at its default."""
    register(PLACED)
    try:
        cfg = small_config()
        table = dumps_config(cfg).split("[training]")[1]
        keys = [line.split(" =")[0] for line in table.strip().splitlines()]
        assert keys[:5] == ["epochs", "batch_size", "seed", "knock", "dtype"]
        assert loads_config(dumps_config(cfg)) == cfg
        listed = list(settings_of(cfg))
        assert listed[listed.index("epochs"):listed.index("epochs") + 3] == ["epochs", "seed", "knock"]
        assert settings_of(cfg)["knock"] == 0
        assert change_kind(cfg, with_overrides(cfg, knock=2)) == "structural"

        help_text = CliRunner().invoke(main, ["train", "--help"]).output
        assert help_text.index("--epochs") < help_text.index("--seed") < help_text.index("--knock") < help_text.index("--n-samples")
        assert "--knock INTEGER RANGE" in help_text
        bad = CliRunner().invoke(main, ["train", "--knock", "-1", "--no-record"])
        assert bad.exit_code == 2 and "-1 is not in the range x>=0" in bad.output

        from tui_trainer.tui.keys import palette_entries
        from tui_trainer.tui.screens.help import panes_text
        from tui_trainer.tui.screens.main import MainScreen
        from tui_trainer.tui.widgets.config_pane import WholeNumberInput

        titles = [entry.title for entry in palette_entries(MainScreen)]
        assert titles.index("Set epochs") + 2 == titles.index("Set seed") + 1 == titles.index("Set test knock")
        assert "knock" not in panes_text().lower()

        async def scenario():
            from tui_trainer.tui.app import NNTuiApp

            app = NNTuiApp(small_config())
            async with app.run_test(size=(120, 36)) as pilot:
                await settings_ready(pilot, app)
                ids = [w.id for w in app.screen.query("Input") if w.id in ("epochs", "seed", "knock", "features")]
                assert ids[:3] == ["epochs", "seed", "knock"]
                assert isinstance(app.screen.query_one("#knock"), WholeNumberInput)

        asyncio.run(scenario())
    finally:
        unregister(PLACED.name)


PICKED = Setting(
    section="network", name="pick", default="auto", parse=str, format=str,
    check=lambda value, network: [] if value in ("auto", "left", "right") else [
        ("pick", "unknown pick; allowed: auto, left, right", value)],
    flag="", cli_help="", label="pick", tooltip="", title="Set test pick", command_help="Which way the test picks",
    help="", live=False, widget="select", choices=("auto", "left", "right"), after="act", toml_after="activations",
    always=True, stored=False,
)


def test_a_declaration_with_choices_and_no_option_is_a_list_in_the_pane_and_left_out_of_the_options_and_the_store():
    """A ``select`` setting is a list of its choices in the pane (below the layers, as ``after="act"``
    says); one without a flag has no option; one not ``stored`` is left out of the run store's settings."""
    register(PICKED)
    try:
        cfg = small_config()
        keys = list(tomllib.loads(dumps_config(cfg))["network"])
        # after the activations, and after the settings placed there before it: the init, then the
        # output layer and the loss (placed after the init)
        assert keys == ["hidden", "activation", "init", "output", "loss", "pick"]
        assert loads_config(dumps_config(with_overrides(cfg, pick="left"))).network.pick == "left"
        with pytest.raises(ConfigError, match="unknown pick"):
            with_overrides(cfg, pick="up")
        assert "pick" not in settings_of(with_overrides(cfg, pick="left"))
        assert "init" not in settings_of(with_overrides(cfg, init="he"))
        assert change_kind(cfg, with_overrides(cfg, pick="left")) == "structural"
        help_text = CliRunner().invoke(main, ["train", "--help"]).output
        assert "pick" not in help_text and "--init" not in help_text

        from textual.widgets import Select

        from tui_trainer.tui.keys import palette_entries
        from tui_trainer.tui.screens.main import MainScreen

        titles = [entry.title for entry in palette_entries(MainScreen)]
        assert titles.index("Set activation") + 2 == titles.index("Set init") + 1 == titles.index("Set test pick")

        async def scenario():
            from tui_trainer.tui.app import NNTuiApp

            app = NNTuiApp(small_config())
            async with app.run_test(size=(120, 36)) as pilot:
                await settings_ready(pilot, app)
                ids = [w.id for w in app.screen.query("Select")]
                assert ids.index("init") + 1 == ids.index("pick") and ids.index("pick") < ids.index("optimizer")
                field = app.screen.query_one("#pick", Select)
                assert field.value == "auto"
                field.value = "right"
                await wait_for(pilot, lambda: app.training.session.config.network.pick == "right")

        asyncio.run(scenario())
    finally:
        unregister(PICKED.name)


def test_a_declaration_without_a_field_is_set_in_the_toml_file_only():
    """A setting with no widget and no flag (as the dtype) has no pane row, no palette command and no
    option; the TOML file holds it, and the pane keeps its value through an edit."""
    from tui_trainer.tui.keys import palette_entries
    from tui_trainer.tui.screens.main import MainScreen

    titles = [entry.title for entry in palette_entries(MainScreen)]
    register(dataclasses.replace(PICKED, name="quiet", section="training", widget="", title="", toml_after="",
                                 after="", check=lambda value, training: []))
    try:
        assert [entry.title for entry in palette_entries(MainScreen)] == titles
        cfg = with_overrides(small_config(), quiet="left")
        assert loads_config(dumps_config(cfg)).training.quiet == "left"
        assert "quiet" not in CliRunner().invoke(main, ["train", "--help"]).output

        async def scenario():
            from tui_trainer.tui.app import NNTuiApp

            app = NNTuiApp(cfg)
            async with app.run_test(size=(120, 36)) as pilot:
                await settings_ready(pilot, app)
                assert not app.screen.query("#quiet")
                field = app.screen.query_one("#l2")
                app.screen.action_config_field("l2")
                await wait_for(pilot, lambda: app.focused is field)
                field.value = ""
                await pilot.press("0", ".", "5", "enter")
                await wait_for(pilot, lambda: app.training.session.config.network.l2 == 0.5)
                assert app.training.session.config.training.quiet == "left"

        asyncio.run(scenario())
    finally:
        unregister("quiet")


@pytest.mark.parametrize("name", ["patience", "dropout", "l2"])
def test_a_setting_is_named_in_code_by_at_most_five_modules(name):
    # Each setting is declared once (settings.py); beyond that only the engine that implements it
    # and a few places that must name it (a preset's value, a view that writes it out) do. Prose in
    # docstrings, comments and messages does not count: it is what the user reads.
    import io
    import tokenize
    from pathlib import Path

    import tui_trainer

    naming = []
    for path in sorted(Path(tui_trainer.__file__).parent.rglob("*.py")):
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            literal = token.type == tokenize.STRING and token.string.strip("'\"") == name
            if (token.type == tokenize.NAME and token.string == name) or literal:
                naming.append(path.name)
                break
    assert len(naming) <= 5, naming


def test_every_setting_of_one_value_is_declared_in_the_registry():
    """The config sections keep as fields of their own only structures, each with its own editor (the
    data's source and features, the layers, the weights, the optimizer with its hyperparameters, the
    schedule); every setting that is one value is a registered one."""
    from tui_trainer.experiments.config import DataConfig, NetworkConfig, OptimizerConfig, TrainingConfig

    own = {cls.__name__: {f.name for f in dataclasses.fields(cls)} - {"settings"}
           for cls in (DataConfig, NetworkConfig, OptimizerConfig, TrainingConfig)}
    assert own == {
        "DataConfig": {"dataset", "path", "target", "problem", "features", "inputs", "targets", "options"},
        "NetworkConfig": {"hidden", "activations", "activation", "weights"},
        "OptimizerConfig": {"name", "hparams", "schedule"},
        "TrainingConfig": set(),
    }
    core = {"epochs": "training", "batch_size": "training", "seed": "training", "dtype": "training",
            "val_split": "data", "n_samples": "data", "noise": "data", "init": "network", "output": "network",
            "loss": "network", "lr": "optimizer"}
    assert {name: SETTINGS[name].section for name in core} == core


JITTER = Setting(
    section="data", name="jitter", default=None, parse=lambda text: None if not text.strip() else parse_number(text),
    format=lambda value: "" if value is None else str(value), check=lambda value, data: [], flag="--jitter",
    cli_type=float, cli_help="The test's jitter of synthetic data.", label="jitter", tooltip="",
    placeholder="default", title="Set test jitter", command_help="The test's jitter (synthetic data)", help="",
    live=False, applies=lambda data: data.dataset in ("spiral", "moons"),
    off=("Jitter is the test's setting of spiral and moons only.", "dataset"),
)


def test_a_setting_that_applies_to_some_data_only_is_out_of_sight_elsewhere_and_new_data_resets_it():
    """``applies``: where the setting means nothing its row is hidden and off, its palette command says
    why (``off``) and goes to the field named there; new data it does not apply to starts from the
    default (in the pane, any other dataset does); ``off_shown`` keeps the row in sight, greyed."""
    register(JITTER)
    try:
        cfg = small_config(jitter=0.5)
        assert with_overrides(cfg, dataset="moons").data.jitter == 0.5  # it still applies: kept
        assert with_overrides(cfg, dataset="iris").data.jitter is None

        async def scenario(off_shown: bool):
            from textual.widgets import Input, Select

            from tui_trainer.tui.app import NNTuiApp
            from tui_trainer.tui.widgets.config_pane import ConfigPane

            app = NNTuiApp(cfg)
            async with app.run_test(size=(120, 36)) as pilot:
                await settings_ready(pilot, app)
                field = app.screen.query_one("#jitter", Input)
                assert field.value == "0.5" and field.parent.display and not field.disabled
                app.screen.query_one("#dataset", Select).value = "iris"
                await wait_for(pilot, lambda: app.training.session.config.data.dataset == "iris")
                await wait_for(pilot, lambda: not app.screen.query_one(ConfigPane).busy)
                session_data = app.training.session.config.data
                assert session_data.jitter is None
                field = app.screen.query_one("#jitter", Input)
                assert field.disabled and field.parent.display == off_shown
                app.screen.action_config_field("jitter")
                await wait_for(pilot, lambda: app.focused is app.screen.query_one("#dataset"))
                assert "Jitter is the test's setting of spiral and moons only." in "\n".join(app.notes_shown)

        asyncio.run(scenario(False))
        unregister(JITTER.name)
        register(dataclasses.replace(JITTER, off_shown=True))
        asyncio.run(scenario(True))
    finally:
        unregister(JITTER.name)


def test_the_lab_commands_take_the_seed_and_the_batch_size_as_declared():
    runner = CliRunner()
    for command in ("compare", "sweep"):
        help_text = " ".join(runner.invoke(main, [command, "--help"]).output.split())
        assert "--seed INTEGER RANGE Seed for the data, the weights and the batches. [x>=0]" in help_text
        assert f"--batch-size TEXT {' '.join(SETTINGS['batch_size'].cli_help.split())}" in help_text
    bad = runner.invoke(main, ["sweep", "--optimizer", "sgd", "--batch-size", "0"])
    assert bad.exit_code == 2 and "expected an integer >= 1 or 'full', got '0'" in bad.output
