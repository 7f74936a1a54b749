"""The config pane: the experiment as a form, checked field by field.

Fields apply on Enter (or when focus leaves them) and selections at once. A bad value shows a
message under its field and the pane reports itself invalid, so training cannot start. The pane
posts ``ConfigPane.Changed`` with the new config and whether it needs new weights.

Keys (the pane is a form that the keyboard alone can fill):

- up / down (j / k outside text) move from field to field, through the hidden-layer rows too;
- enter opens a select's list (up / down / enter pick, escape closes), toggles a check box,
  presses a button and applies a text field; escape leaves the field;
- in the layer rows, a / insert add a layer after the focused one and d / delete remove it; a
  width field takes digits only, so a, d, j and k keep their meaning there;
- space is never taken by a select, a check box or a button: it stays the train / pause key.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, TypeVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ...experiments.config import (DataConfig, ExperimentConfig, NetworkConfig, OptimizerConfig, TrainingConfig,
                                  keeping_weights)
from ...engine.activations import ACTIVATIONS
from ...engine.datasets import DATASETS, Dataset
from ...engine.features import DEFAULT_FEATURES, FEATURES
from ...engine.optimizers import OPTIMIZERS
from ...engine.schedules import SCHEDULES
from ...engine.text import visible
from ...engine.trainer import batch_mode_of
from ...experiments.experiment import output_and_loss
from ...experiments.hparam_text import UnreadableText, hparam_text, parse_hparam, parse_number
from ...experiments.settings import SETTINGS, by_rank, settings_of_section
from ...experiments.wording import plural
from .safe_select import SafeSelect, SafeSelectOverlay

W = TypeVar("W", bound=Widget)
HIDDEN_ACTIVATIONS = [name for name, cls in ACTIVATIONS.items() if cls.hidden_ok]
BATCH_MODES = [("full batch (batch GD)", "full"), ("mini-batch", "mini"), ("single sample (SGD)", "single")]
CSV_CHOICE = "__csv__"
MAX_LAYERS = 12
NEW_LAYER = ("8", "relu")
"""Width and activation of a layer added to a network without hidden layers."""
MIXED = "__mixed__"
"""The "all layers" select's value while the hidden layers' activations differ."""
ALL_LAYERS_FROM = 2
"""Hidden layers from which the pane shows the "all layers" select (one activation for every layer)."""

_CONFIG_COMMANDS = (  # (key, action, description, help): the pane's own fields as palette commands
    ("a", "add_layer", "Add layer", "A hidden layer after the focused one, or at the end (a or insert in the layer list)"),
    ("d", "remove_layer", "Remove layer", "The focused hidden layer, or the last one (d or delete in the layer list)"),
    ("config pane", "config_field('dataset')", "Set dataset", "Choose the data to learn"),
    ("config pane", "config_field('width')", "Set layer width", "Nodes in the focused (or first) hidden layer"),
    ("config pane", "config_field('act')", "Set activation", "Activation of the focused (or first) hidden layer"),
    ("config pane", "config_field('act-all')", "Set all activations", "One activation for every hidden layer at once (all layers)"),
    ("config pane", "config_field('optimizer')", "Set optimizer", "The update rule; its settings follow in the pane"),
    ("config pane", "config_field('hp-momentum')", "Set momentum", "Momentum of SGD, its variants and RMSprop"),
    ("config pane", "config_field('hp-betas')", "Set betas", "Adam's two averaging rates"),
    ("config pane", "config_field('hp-weight_decay')", "Set weight decay", "Shrink the weights a little every update"),
    ("config pane", "config_field('batch_mode')", "Set batch mode", "Full batch, mini-batch or single sample"),
    ("config pane", "config_field('features')", "Set input features", "The network's inputs for 2-D data: x1, x2, x1², ... (enter toggles; new weights)"),
    ("config pane", "config_field('schedule')", "Set lr schedule", "none, step, exponential or cosine, and its main parameter (live)"),
)


class _ConfigCommands:
    """The pane's fields as palette commands, (key, action, description, help) each: its own,
    with every registered setting's (``experiments.settings``) after the field its declaration
    names (``Setting.after``), the others before the lr schedule's."""

    def __iter__(self):
        *own, schedule = _CONFIG_COMMANDS
        for command in own:
            yield command
            field = _field_of(command[1])
            yield from map(_setting_command, _settings_after(field) if field else ())
        yield from map(_setting_command, _settings_after(""))
        yield schedule

    def __len__(self) -> int:
        return len(_CONFIG_COMMANDS) + sum(1 for s in SETTINGS.values() if s.widget)


CONFIG_COMMANDS = _ConfigCommands()


def _field_of(action: str) -> str:
    """``config_field('seed')`` -> ``seed``; another action -> ``""``."""
    return action[len("config_field('"):-2] if action.startswith("config_field(") else ""


def _settings_after(name: str) -> list:
    """The registered settings placed after field ``name`` (in the pane's order), each followed by
    those placed after it; ``""``: those placed after no field, for the pane's last rows."""
    out = []
    for setting in by_rank():
        if setting.after == name and setting.widget:  # one without a field is set in the TOML file only
            out += [setting, *_settings_after(setting.name)]
    return out


def _setting_command(setting) -> tuple[str, str, str, str]:
    return ("config pane", f"config_field({setting.name!r})", setting.title, setting.command_help)


def _whole(text: str) -> int:
    """A whole number typed into a field (widths, epochs, seed, batch size)."""
    return parse_number(text, whole=True)


SHORT_NAMES = {"initial_accumulator_value": "init accum", "lr_decay": "lr decay", "weight_decay": "wt decay"}


OFF_WHEN_DISABLED = {
    "features": ("Input features are for data with exactly 2 inputs (x1, x2): {data} has {inputs}.", "dataset"),
    "sched_param": ("Choose an lr schedule first.", "schedule"),
}
"""Fields that are off for some data or settings: why (``{data}``: the data's name, ``{inputs}``: its
number of inputs), and the field to go to instead; a registered setting's say it themselves (``Setting.off``)."""

SCHEDULE_CHOICES = ("none", *(name for name, spec in SCHEDULES.items() if spec.main_param is not None))
"""The lr schedules the pane offers: those with a parameter to give (the config takes warmup and
the others too); each shows its main parameter (``ScheduleSpec.main_param``), starting from its
``suggested`` value."""


def _schedule_param(name: str):
    """The main parameter of schedule ``name`` (None: none, or no such schedule)."""
    spec = SCHEDULES.get(name)
    return None if spec is None else spec.main_param


def _schedule_name(cfg: ExperimentConfig) -> str:
    return (cfg.optimizer.schedule or {}).get("name") or "none"


def _label(name: str) -> str:
    """A hyperparameter's name as a field label that fits the pane."""
    return SHORT_NAMES.get(name, name.replace("_", " "))


def _row_of(field_id: str | None) -> int | None:
    """The layer row a field belongs to (``act-2`` -> 2), or None."""
    kind, _, index = (field_id or "").partition("-")
    return int(index) if kind in ("width", "act", "del") and index.isdigit() else None


# -- fields that leave space (and the field-to-field keys) to the screen -------------------------


class NumberInput(Input):
    """A text field for a number: the ``PASSED`` letters are not typed but keep the meaning they have
    elsewhere; L (back to the lesson) in every field, as no number has an L."""

    PASSED = frozenset("L")

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character not in self.PASSED and super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        if event.character in self.PASSED:
            event.prevent_default()  # not typed: it bubbles up to the pane's bindings


class WholeNumberInput(NumberInput):
    """A text field for a whole number: digits type; other letters are refused, except the
    ``PASSED`` ones, which keep the meaning they have elsewhere in the pane."""

    PASSED = frozenset("jkL")

    def __init__(self, value: str, **kwargs) -> None:
        super().__init__(value, restrict=r"\d*", **kwargs)


class LayerWidthInput(WholeNumberInput):
    """A hidden layer's width: a and d add and remove layers here as in the rest of the row."""

    PASSED = frozenset("jkadL")


class FieldSelectOverlay(SafeSelectOverlay):
    """A select's open list: j / k move like down / up; space is not typed into the search."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]
    PASSED = frozenset(" jk")

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        return character not in self.PASSED and super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        if event.character in self.PASSED:
            event.prevent_default()  # to the bindings: j / k here, space on the screen


class FieldSelect(SafeSelect, inherit_bindings=False):
    """A select that opens with Enter only: up / down move between fields, space trains."""

    BINDINGS = [Binding("enter", "show_overlay", "Open list")]

    def __init__(self, options: Iterable[tuple[str, Any]], **kwargs: Any) -> None:
        options = list(options)
        super().__init__(options, **kwargs)
        self._values = tuple(value for _, value in options)

    @property
    def values(self) -> tuple[Any, ...]:
        """The values offered, in list order (Textual's ``Select`` keeps its options to itself)."""
        return self._values

    def set_options(self, options: Iterable[tuple[str, Any]]) -> None:
        options = list(options)
        super().set_options(options)
        self._values = tuple(value for _, value in options)

    OVERLAY = FieldSelectOverlay


class FieldCheckbox(Checkbox, inherit_bindings=False):
    """A check box that toggles with Enter only: space trains. Its characters tell its state, ``[x]`` or
    ``[ ]``: Textual's ``▐X▌`` tells it by colour only, which ``--colors none`` and NO_COLOR take away."""

    BINDINGS = [Binding("enter", "toggle_button", "Toggle", show=False)]

    @property
    def _button(self):  # Textual's ToggleButton draws its box here
        from textual.content import Content

        return Content.assemble("[", ("x" if self.value else " ", self.get_visual_style("toggle--button")), "]")


class FeatureToggles(Widget, can_focus=True):
    """The network's inputs for 2-D data: the seven features in a row; left / right move along
    it and Enter turns the one under the cursor on or off (one at least stays on). Space trains."""

    DEFAULT_CSS = """
    FeatureToggles { width: 1fr; height: auto; }
    FeatureToggles:disabled { color: $text-disabled; }
    """

    BINDINGS = [
        Binding("left", "cursor(-1)", "Feature", show=False),
        Binding("right", "cursor(1)", "Next feature", show=False),
        Binding("h", "cursor(-1)", "Feature", show=False),
        Binding("l", "cursor(1)", "Next feature", show=False),
        Binding("enter", "toggle", "Toggle feature"),
    ]

    class Toggled(Message):
        """The selection changed."""

    def __init__(self, selected: Iterable[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.selected: list[str] = [n for n in FEATURES if n in set(selected)]
        self.cursor = 0

    def render(self) -> Text:
        text = Text()
        for i, name in enumerate(FEATURES):
            on_ = name in self.selected
            style = "bold green" if on_ else "dim"
            if i == self.cursor and self.has_focus:
                style += " reverse"
            text.append(("■" if on_ else "□") + FEATURES[name][0].replace(" ", ""), style=style)
            text.append(" ")
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        self.cursor = (self.cursor + delta) % len(FEATURES)
        self.refresh()

    def action_toggle(self) -> None:
        name = list(FEATURES)[self.cursor]
        if name in self.selected:
            if len(self.selected) == 1:
                self.notify("At least one input is needed.", timeout=3)
                return
            self.selected.remove(name)
        else:
            self.selected = [n for n in FEATURES if n in self.selected or n == name]
        self.refresh(layout=True)
        self.post_message(self.Toggled())


class ConfigPane(VerticalScroll, can_focus=False):
    """Data, network, optimizer and training settings."""

    BINDINGS = [
        Binding("down", "move(1)", "Field", key_display="↑↓"),
        Binding("up", "move(-1)", "Previous field", show=False),
        Binding("j", "move(1)", "Next field", show=False),
        Binding("k", "move(-1)", "Previous field", show=False),
        Binding("a", "add_layer", "Add layer"),
        Binding("insert", "add_layer", "Add layer", show=False),
        Binding("d", "remove_layer", "Remove layer"),
        Binding("delete", "remove_layer", "Remove layer", show=False),
    ]

    class Changed(Message):
        """The user changed the config (``session.change_kind`` tells whether it needs new weights)."""

        def __init__(self, pane: "ConfigPane", config: ExperimentConfig) -> None:
            super().__init__()
            self.pane, self.config = pane, config

        @property
        def control(self) -> "ConfigPane":
            return self.pane

    def __init__(self, config: ExperimentConfig, *, dataset: Dataset, id: str | None = None) -> None:
        super().__init__(id=id)
        self.config = config
        self.dataset = dataset
        self._layers = self._rows_of(config)
        """The hidden layers the rows show (or are about to show): (width as typed, activation)."""
        self._errors: dict[str, str] = {}
        self._filled = False
        """The fields are composed just after the first frame: they would delay start-up."""
        self._pending = 0
        """Recomposes asked for and not yet done; the form is read only when there are none."""
        self._apply_after = False
        """A change arrived while the rows were rebuilt: apply the form once they are."""
        self._want_focus: str | None = None
        """The field to focus once the fields are back (None: leave focus alone)."""
        self._want_open = False
        """Open that field's list too (a select)."""
        self._want_asked = False
        """The focus was asked for from outside the pane (a command): taken even from there."""
        self._moves = 0
        """Up / down pressed while the fields were rebuilt, done once they are back."""
        self._keep_typed: dict[str, str] = {}
        """Bad values typed into text fields, put back after a rebuild (with their messages)."""
        self._last_row: int | None = None
        """The layer row that last had focus (for the palette's layer commands)."""
        self._last_field = "dataset"
        """The field that last had focus: c and Tab come back to it."""

    @staticmethod
    def _rows_of(config: ExperimentConfig) -> list[tuple[str, str]]:
        return [(str(w), a) for w, a in zip(config.network.hidden, config.network.hidden_activations)]

    def on_mount(self) -> None:
        self._pending += 1  # busy until the fields are there

        def fill() -> None:
            self._pending -= 1
            self._filled = True
            self._recompose()

        self.call_after_refresh(fill)

    # -- public ----------------------------------------------------------------------------

    @property
    def valid(self) -> bool:
        """False while any field holds a bad value."""
        return not self._errors

    @property
    def problems(self) -> dict[str, str]:
        """The fields holding bad values (their ids) and what is wrong with each."""
        return dict(self._errors)

    @property
    def busy(self) -> bool:
        """True until the fields on screen show the pane's current state."""
        return self._pending > 0

    def load(self, config: ExperimentConfig, dataset: Dataset) -> None:
        """Show ``config`` (e.g. after a rebuild, a refused change or a load). The pane's own
        config coming back (the session took the change) keeps the form as it is, with its focus
        and anything typed since, and only brings the facts up to date."""
        same = config == self.config and not self._errors
        self.config, self.dataset = config, dataset
        if same:
            self._update_facts()
            return
        self._layers = self._rows_of(config)
        self._errors = {}
        self._keep_typed = {}
        self._recompose(keep_typed=False)

    def show_lr(self, lr: float) -> None:
        """Reflect a learning rate changed with + / -."""
        self.config = replace(self.config, optimizer=replace(self.config.optimizer, lr=lr))
        if (field := self._one("lr", Input)) is not None:
            field.value = hparam_text(lr)

    def focus_last(self) -> None:
        """Focus the field that had focus last (the first one at the start; the nearest one, or
        the first, when it is gone or off)."""
        self._want(self._last_field)
        if not self.busy:
            self.call_after_refresh(self._focus_wanted)  # after the pane is shown on a narrow screen

    def focus_field(self, field_id: str, open: bool = True) -> None:
        """Focus a field: a select opens its list (with ``open``), a text field's text is selected
        (typing replaces it). ``width`` and ``act`` mean the focused layer's (else the first's)."""
        if field_id == "act-all" and len(self._layers) < ALL_LAYERS_FROM:
            field_id = "act"  # one layer (or none): its own select
        if field_id in ("width", "act"):
            if not self._layers:
                self.notify("No hidden layers: Add layer makes one.", timeout=3)
                field_id, open = "add-layer", False
            else:
                row = self._current_row()
                field_id = f"{field_id}-{row if row is not None and row < len(self._layers) else 0}"
        elif field_id.startswith("hp-") and field_id[3:] not in {s.name for s in OPTIMIZERS[self.config.optimizer.name].hparam_specs}:
            self.notify(f"{self.config.optimizer.name} has no {_label(field_id[3:])} setting.", timeout=3)
            field_id = "optimizer"
        elif (off := self._off(field_id)) is not None:
            if field_id == "features" and self.config.data.path is not None:
                reason = "Input features are for the built-in datasets with 2 inputs: a data file's columns are its inputs."
            else:
                reason = off[0].format(data=visible(self.dataset.name), inputs=self.dataset.X.shape[1])
            field_id = off[1]
            self.notify(reason, timeout=3)
            open = False
        self._want(field_id, open)
        if not self.busy:
            self.call_after_refresh(self._focus_wanted)  # after the pane is shown on a narrow screen

    def _off(self, field_id: str) -> tuple[str, str] | None:
        """Why field ``field_id`` is off and where to go instead; None when it is on."""
        off = getattr(SETTINGS.get(field_id), "off", ()) or OFF_WHEN_DISABLED.get(field_id)
        return off if off and getattr(self._one(field_id), "disabled", False) else None

    def add_layer(self, after: int | None = None) -> None:
        """A hidden layer after row ``after`` (default: the focused layer, else at the end), like
        that layer; focus goes to its width."""
        rows = self._current_layers()
        if len(rows) >= MAX_LAYERS:
            self.notify(f"At most {MAX_LAYERS} hidden layers.", timeout=3)
            return
        if after is None:
            after = self._current_row()
        at = len(rows) if after is None or after >= len(rows) else after + 1
        rows.insert(at, rows[at - 1] if at > 0 else NEW_LAYER)
        self._edit_layers(rows, f"width-{at}")

    def remove_layer(self, index: int | None = None) -> None:
        """Remove hidden layer ``index`` (default: the focused layer, else the last); focus goes to
        the next layer's width (else the previous one's, else the add button)."""
        rows = self._current_layers()
        if not rows:
            self.notify("No hidden layers to remove.", timeout=3)
            return
        if index is None:
            index = self._current_row()
        if index is None or index >= len(rows):
            index = len(rows) - 1
        rows.pop(index)
        self._edit_layers(rows, f"width-{min(index, len(rows) - 1)}" if rows else "add-layer")

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if not self._filled:
            yield Label("loading settings...", classes="facts")
            return
        cfg = self.config
        yield Label("", id="err-general", classes="field-error")
        yield Static("Data", classes="section")
        yield from self._row("dataset", "dataset", FieldSelect(self._dataset_options(), value=self._dataset_value(), allow_blank=False, compact=True, id="dataset"),
                             placed=False)
        yield Label(self._data_facts(), classes="facts", id="data-facts")
        for setting in _settings_after("dataset"):  # below the data's facts
            yield from self._setting_row(setting)

        yield Static("Network", classes="section")
        if len(self._layers) >= ALL_LAYERS_FROM:
            yield from self._row("all layers", "act-all", FieldSelect(self._all_options(), value=self._common_act(),
                                                                     allow_blank=False, compact=True, id="act-all",
                                                                     tooltip="one activation for every hidden layer"))
        for i, (width, act) in enumerate(self._layers):
            with Horizontal(classes="layer-row"):
                yield Label(f"hidden {i + 1}", classes="field-label")
                yield LayerWidthInput(width, id=f"width-{i}", classes="layer-width", compact=True)
                yield FieldSelect([(a, a) for a in HIDDEN_ACTIVATIONS], value=act, allow_blank=False, compact=True, id=f"act-{i}", classes="layer-act")
                yield Button("x", id=f"del-{i}", classes="layer-del", tooltip="remove this layer (d)", compact=True)
            yield Label("", id=f"err-width-{i}", classes="field-error")
        yield Button("+ add layer", id="add-layer", classes="add-layer", disabled=len(self._layers) >= MAX_LAYERS, compact=True)
        yield Label(self._output_text(), classes="facts", id="output")
        for setting in _settings_after("act"):  # below the hidden layers and the output layer
            yield from self._setting_row(setting)
        yield Label(self._shape_text(), classes="facts", id="shape")

        yield Static("Optimizer", classes="section")
        yield from self._row("optimizer", "optimizer", FieldSelect([(n, n) for n in OPTIMIZERS], value=cfg.optimizer.name, allow_blank=False, compact=True, id="optimizer"),
                             placed=False)
        opt_cls = OPTIMIZERS[cfg.optimizer.name]
        yield Label(self._optimizer_text(), classes="facts", id="opt-rule")
        for setting in _settings_after("optimizer"):  # below the update rule: the learning rate
            yield from self._setting_row(setting)
        for spec in opt_cls.hparam_specs:
            if spec.name == "lr":
                continue
            value = cfg.optimizer.hparams.get(spec.name, spec.default)
            if spec.kind == "bool":
                widget: Widget = FieldCheckbox(_label(spec.name), value=bool(value), id=f"hp-{spec.name}", tooltip=spec.doc, compact=True)
                yield from self._row("", f"hp-{spec.name}", widget)
            else:
                widget = NumberInput(hparam_text(value), id=f"hp-{spec.name}", tooltip=spec.doc, compact=True)
                yield from self._row(_label(spec.name), f"hp-{spec.name}", widget)

        yield Static("Training", classes="section")
        yield from self._row("batch", "batch_mode", FieldSelect(BATCH_MODES, value=self._batch_mode(), allow_blank=False,
                                                                compact=True, id="batch_mode"))

        yield Static("Generalization", classes="section")
        info = DATASETS.get(cfg.data.dataset) if isinstance(cfg.data.dataset, str) else None
        two_inputs = cfg.data.path is None and (info.n_features if info is not None else self.dataset.X.shape[1]) == 2
        yield from self._row("inputs", "features", FeatureToggles(cfg.data.features or DEFAULT_FEATURES, id="features",
                                                                  disabled=not two_inputs), shown=two_inputs)
        sched = cfg.optimizer.schedule or {}
        for setting in _settings_after(""):  # the registered settings placed after no field
            yield from self._setting_row(setting)
        name = sched.get("name") or "none"
        yield from self._row("lr sched", "schedule", FieldSelect([(s_, s_) for s_ in SCHEDULE_CHOICES], value=name if name in SCHEDULE_CHOICES else "none",
                                                                 allow_blank=False, compact=True, id="schedule"))
        main = _schedule_param(name)
        param = None if main is None else main.name
        yield from self._row(param or "sched arg", "sched_param", NumberInput(hparam_text(sched[param]) if param and param in sched else "",
                                                                      id="sched_param", compact=True, disabled=param is None))

    def _common_act(self, layers: list[tuple[str, str]] | None = None) -> str:
        """The activation every hidden layer has, or ``MIXED``."""
        acts = {act for _, act in (self._layers if layers is None else layers)}
        return acts.pop() if len(acts) == 1 else MIXED

    def _all_options(self, layers: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
        """The "all layers" select's choices: every hidden activation, "mixed" first while they differ."""
        mixed = [("mixed", MIXED)] if self._common_act(layers) == MIXED else []
        return mixed + [(a, a) for a in HIDDEN_ACTIVATIONS]

    def _row(self, label: str, key: str, widget: Widget, placed: bool = True, shown: bool = True):
        """A field's row and its error line; then (``placed``) the rows of the registered settings
        placed after it. A row not ``shown`` is left out of sight (a setting the data does not have)."""
        with Horizontal(classes="field-row") as row:
            row.display = shown
            yield Label(label, classes="field-label")
            yield widget
        yield Label("", id=f"err-{key}", classes="field-error")
        for setting in _settings_after(key) if placed else ():
            yield from self._setting_row(setting)

    def _setting_row(self, setting):
        """A registered setting's row, as its declaration says (``experiments.settings``); out of
        sight and off where the setting does not apply (``Setting.applies``)."""
        section = getattr(self.config, setting.section)
        value = getattr(section, setting.name)
        applies = setting.applies is None or setting.applies(section)
        if setting.widget == "select":
            field: Widget = FieldSelect([(c, c) for c in setting.choices], value=value, allow_blank=False,
                                        compact=True, id=setting.name)
        else:
            kind = WholeNumberInput if setting.widget == "whole" else NumberInput
            field = kind(setting.format(value), id=setting.name, compact=True, placeholder=setting.placeholder,
                         tooltip=setting.tooltip or None)
        field.disabled = not applies
        with Horizontal(classes="field-row") as row:
            row.display = applies or setting.off_shown
            yield Label(setting.label, classes="field-label")
            yield field
        yield Label("", id=f"err-{setting.name}", classes="field-error")

    def _recompose(self, keep_typed: bool = True) -> None:
        """Compose the fields again (soon): from ``self.config`` and the layer rows in
        ``self._layers``. Focus stays on its field (or goes where ``_want_focus`` says); with
        ``keep_typed``, bad values typed into text fields stay, with their messages."""
        if keep_typed and self._pending == 0 and self._filled:
            self._keep_typed = {
                field.id: field.value for field in self.query(Input)
                if field.id in self._errors and _row_of(field.id) is None
            }
        self._pending += 1

        async def rebuild() -> None:
            if self._pending > 1:  # a later rebuild is on its way: it composes the latest state
                self._pending -= 1
                return
            try:
                if not self.is_attached:
                    return  # the app is closing
                focused = self.screen.focused
                if focused is not None and self in focused.ancestors:
                    if self._want_focus is None:
                        field = focused if isinstance(focused, (Input, Select, Button, Checkbox)) else focused.parent
                        self._want_focus = field.id
                    # Focus waits on the pane while its fields are replaced: keys pressed
                    # meanwhile come here, not to whatever Textual would focus instead.
                    self.can_focus = True
                    self.screen.set_focus(self, scroll_visible=False)
                await self.recompose()
                self._error_labels, self._invalid = None, set()
                for field_id, value in self._keep_typed.items():
                    if (field := self._one(field_id, Input)) is not None:
                        field.value = value
                self._keep_typed = {}
            finally:
                self._pending -= 1
            if self._apply_after:
                self._apply_after = False
                self._apply()
            else:
                self._show_errors(self._errors)
            self._focus_wanted()

        self.call_later(rebuild)

    def _want(self, field_id: str, open_list: bool = False) -> None:
        """Focus ``field_id`` next. Asked from outside the pane (a palette command), focus comes
        to the pane; asked from inside, it stays wherever the user has gone meanwhile."""
        focused = self.screen.focused
        inside = focused is not None and (focused is self or self in focused.ancestors)
        self._want_focus, self._want_open, self._want_asked = field_id, open_list, not inside

    def _focus_wanted(self) -> None:
        """Focus the field asked for (after a rebuild, a palette command), then make the moves
        pressed meanwhile."""
        if self.busy:
            return  # the rebuild under way calls again
        field_id, open_list, asked = self._want_focus, self._want_open, self._want_asked
        self._want_focus, self._want_open, self._want_asked = None, False, False
        moves, self._moves = self._moves, 0
        focused = self.screen.focused
        parked = focused is self
        self.can_focus = False
        elsewhere = focused is not None and not parked and self not in focused.ancestors
        if field_id is None or (elsewhere and not asked):
            if parked:  # nothing to go back to: the first field
                field_id = "dataset"
            else:
                return
        target = self._present(field_id) or next(iter(self._fields()), None)
        if target is None:
            self.screen.set_focus(None)
            return
        self.screen.set_focus(target)
        self.call_after_refresh(lambda: target.scroll_visible(animate=False) if target.is_attached else None)
        if moves:
            self.action_move(moves)
        elif isinstance(target, Input):
            target.select_all()
        elif isinstance(target, Select) and open_list:
            target.action_show_overlay()

    def _one(self, widget_id: str, kind: type[W] = Widget) -> W | None:
        """The pane's widget ``widget_id`` if it is there and a ``kind``. Textual finds an id by a
        cached search; a query (``self.query("#id")``) matches a selector against each of the
        pane's hundreds of widgets: 3 ms a call, ~40 ms a key with a dozen layers."""
        widget = self.query_one_optional(f"#{widget_id}")
        return widget if isinstance(widget, kind) else None

    def _fields(self) -> list[Widget]:
        """The fields that can take focus, top to bottom."""
        return [w for w in self.screen.focus_chain if self in w.ancestors]

    def _present(self, field_id: str) -> Widget | None:
        """The field ``field_id``, or the nearest one in the layer list when it is gone."""
        widget = self._one(field_id)
        if widget is not None and widget.focusable:
            return widget
        row = _row_of(field_id)
        if row is not None and self._layers:
            kind = field_id.partition("-")[0]
            return self._present(f"{kind}-{min(row, len(self._layers) - 1)}")
        if row is not None:
            return self._present("add-layer")
        if field_id == "add-layer" and self._layers:
            return self._present(f"width-{len(self._layers) - 1}")
        return None

    # -- facts -----------------------------------------------------------------------------

    def _update_facts(self) -> None:
        if self.busy or not self._filled:
            return  # the coming rebuild writes them
        for label_id, text in (
            ("data-facts", self._data_facts()),
            ("output", self._output_text()),
            ("shape", self._shape_text()),
            ("opt-rule", self._optimizer_text()),
        ):
            if (label := self._one(label_id, Label)) is not None:
                label.update(text)

    def _optimizer_text(self) -> Text:
        """What the optimizer does and its update rule, for its current settings (momentum, weight
        decay, amsgrad...: each shows in the rule)."""
        opt = self.config.optimizer
        opt_cls = OPTIMIZERS[opt.name]
        try:
            summary, rule = opt_cls.summary_for(opt.hparams), opt_cls.rule_for(opt.hparams)
        except (ValueError, TypeError, KeyError):  # settings being typed: the defaults' text meanwhile
            summary, rule = opt_cls.summary, opt_cls.rule
        return Text.assemble(f"{summary}\n", (rule, "bold"))

    def _dataset_options(self) -> list[tuple[str, str]]:
        options = [(f"{name} ({info.problem})", name) for name, info in DATASETS.items()]
        if self.config.data.dataset is None:  # a CSV, or inline data: the config's own
            what = "file" if self.config.data.path is not None else "config"
            options.insert(0, (f"{what}: {self.dataset.name}", CSV_CHOICE))
        return options

    def _dataset_value(self) -> str:
        return CSV_CHOICE if self.config.data.dataset is None else self.config.data.dataset

    def _data_facts(self) -> str:
        ds = self.dataset
        classes = f", {plural(ds.num_classes, 'class', 'classes')}" if ds.num_classes else ""
        return f"{plural(ds.X.shape[0], 'sample')} x {plural(ds.X.shape[1], 'feature')}, {ds.problem}{classes}"

    def _output_text(self) -> str:
        try:
            output, loss = output_and_loss(self.dataset.problem, self.config.network.output, self.config.network.loss)
        except ValueError as exc:
            return f"output: {exc}"
        return f"output: {self.dataset.n_outputs} x {output}, loss {loss}"

    def _shape_text(self) -> str:
        features = self.config.data.features
        n_in = len(features) if features is not None and self.dataset.X.shape[1] == 2 else self.dataset.X.shape[1]
        sizes = [n_in, *self.config.network.hidden, self.dataset.n_outputs]
        shapes = "  ".join(f"W{i + 1} {a}x{b}" for i, (a, b) in enumerate(zip(sizes, sizes[1:])))
        n_params = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
        return f"[b]{' -> '.join(map(str, sizes))}[/b]\n{shapes}\n{n_params:,} parameters (rows = inputs, columns = nodes)"

    def _batch_mode(self) -> str:
        """The batch mode the batch size makes: ``full``, ``single`` (1) or ``mini``."""
        return batch_mode_of(self.config.training.batch_size)

    # -- keys ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The layer keys belong to the layer list; elsewhere a and d keep the screen's meaning."""
        if action in ("add_layer", "remove_layer"):
            return self._in_layer_list()
        return True

    def _in_layer_list(self) -> bool:
        if self.busy and self.screen.focused is self:
            field_id = self._want_focus
        else:
            focused = self.screen.focused
            field_id = focused.id if focused is not None and self in focused.ancestors else None
        return _row_of(field_id) is not None or field_id == "add-layer"

    def _current_row(self) -> int | None:
        """The layer row with focus (or about to get it), else the one that had it last."""
        focused = self.screen.focused
        if focused is self or (self._want_focus is not None and _row_of(self._want_focus) is not None):
            return _row_of(self._want_focus)
        if focused is not None and self in focused.ancestors:
            return _row_of(focused.id)
        return self._last_row

    def watch_has_focus(self, _has_focus: bool) -> None:
        """The pane holds focus only while its fields are rebuilt, and no style depends on that:
        restyle the pane alone, not every field in it (Textual's default; 50-100 ms each way)."""
        self.app.stylesheet.update_nodes([self], animate=True)

    _marked: Label | None = None
    """The label marked as the focused row's (``-focused-row`` in app.tcss)."""

    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _mark_focused_row(self) -> None:
        """Mark the label of the row holding focus, and only that one: one label restyled per move
        (a ``:focus-within`` rule restyled both rows and every widget in them, 5-10 ms a move)."""
        focused = self.screen.focused
        label = None
        for node in () if focused is None else focused.ancestors_with_self:
            if node is self:
                break
            if node.has_class("field-row") or node.has_class("layer-row"):
                label = next(iter(node.query_children(".field-label")), None)
                break
        if label is not self._marked:
            if self._marked is not None:
                self._marked.remove_class("-focused-row")
            if label is not None:
                label.add_class("-focused-row")
            self._marked = label

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if not self.busy and event.widget.id is not None:
            self._last_row = _row_of(event.widget.id)
            self._last_field = event.widget.id

    def action_move(self, delta: int) -> None:
        if self.busy:
            self._moves += delta  # made once the fields are back
            return
        fields = self._fields()
        if not fields:
            return
        focused = self.screen.focused
        if focused in fields:
            index = fields.index(focused) + delta
            if index < 0:
                self.scroll_home(animate=False)  # the top's heading in view
            elif index >= len(fields):
                self.scroll_end(animate=False)
        else:
            index = 0 if delta > 0 else len(fields) - 1
        fields[max(0, min(index, len(fields) - 1))].focus()

    def action_add_layer(self) -> None:
        self.add_layer()

    def action_remove_layer(self) -> None:
        if not self._layers:
            self.notify("No hidden layers to remove; a adds one.", timeout=3)
        elif self._current_row() is None:
            self.notify("d removes the focused layer: move up to its row.", timeout=3)
        else:
            self.remove_layer()

    # -- events ----------------------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply()

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        self._apply()

    @on(Select.Changed)
    def _selected(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "batch_mode" and not self.busy:
            self.query_one("#batch_size", Input).disabled = event.value != "mini"
        if event.select.id == "act-all":
            value = event.select.value  # as it is now: showing the layers' common one posts changes too (set_options)
            if value != MIXED and not self.busy and value != self._common_act(self._current_layers()):
                rows = [(width, value) for width, _ in self._current_layers()]
                self._edit_layers(rows, "act-all")  # every layer's select shows it
            return
        if _row_of(event.select.id) is not None and not self.busy:
            self._show_common_act()
        self._apply()

    def _show_common_act(self) -> None:
        """The "all layers" select shows the layers' common activation, or "mixed"."""
        layers = self._current_layers()
        if (select := self._one("act-all", FieldSelect)) is not None:
            common = self._common_act(layers)
            if (MIXED in select.values) != (common == MIXED):
                select.set_options(self._all_options(layers))
            select.value = common

    @on(Checkbox.Changed)
    def _checked(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._apply()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        if button_id == "add-layer":
            self.add_layer(after=len(self._layers))
        elif _row_of(button_id) is not None:
            self.remove_layer(_row_of(button_id))

    # -- reading the form ------------------------------------------------------------------

    def _current_layers(self) -> list[tuple[str, str]]:
        """The hidden layers as the rows show them now (what is typed included), or as they are
        about to be shown while the rows are rebuilt."""
        if self.busy:
            return list(self._layers)
        rows = []
        for i, (width, act) in enumerate(self._layers):
            width = getattr(self._one(f"width-{i}", Input), "value", width)
            act = getattr(self._one(f"act-{i}", Select), "value", act)
            rows.append((width, act))
        return rows

    def _edit_layers(self, rows: list[tuple[str, str]], focus: str) -> None:
        """Show ``rows`` as the hidden layers, then apply the form and focus ``focus``."""
        self._layers = rows
        self._want(focus)
        self._moves = 0
        self._apply_after = True
        self._recompose()

    def _read(self) -> tuple[ExperimentConfig | None, dict[str, str]]:
        """The config the form describes, and the problems by field id."""
        errors: dict[str, str] = {}

        def get(field_id: str, parse, stand_in):
            """The field's value; ``stand_in`` (a valid value) when it cannot be read, so that
            the other fields are still checked."""
            try:
                return parse(self.query_one(f"#{field_id}", Input).value)
            except UnreadableText as exc:
                errors[field_id] = str(exc)
                return stand_in

        cfg = self.config

        def registered(section: str) -> dict[str, Any]:
            """The section's registered settings as their fields hold them."""
            values = {}
            for setting in settings_of_section(section):
                current = getattr(getattr(cfg, section), setting.name)
                if not setting.widget:
                    values[setting.name] = current  # no field: as the config has it
                elif setting.widget == "select":
                    values[setting.name] = self.query_one(f"#{setting.name}", Select).value
                elif self.query_one(f"#{setting.name}", Input).disabled:
                    values[setting.name] = current  # off (a batch size in full-batch mode): as it was
                else:
                    values[setting.name] = get(setting.name, setting.parse, current)
            return values

        dataset_choice = self.query_one("#dataset", Select).value
        if dataset_choice == CSV_CHOICE:
            data = replace(cfg.data, **registered("data"))
        else:
            keep_options = dataset_choice == cfg.data.dataset
            data = DataConfig(
                dataset=dataset_choice,
                options=copy.deepcopy(cfg.data.options) if keep_options else {},
                features=self._read_features() if keep_options else None,
                # new data starts from its own samples and noise (the settings that apply to some data only)
                **{name: value for name, value in registered("data").items()
                   if keep_options or SETTINGS[name].applies is None},
            )
        widths, acts = [], []
        for i in range(len(self._layers)):
            widths.append(get(f"width-{i}", _whole, 1))
            acts.append(self.query_one(f"#act-{i}", Select).value)
        same = len(set(acts)) <= 1  # one activation for every layer is written as `activation`
        network = NetworkConfig(
            hidden=widths,
            activations=None if same else acts,
            activation=(acts[0] if acts else cfg.network.activation) if same else NetworkConfig().activation,
            **{name: value if SETTINGS[name].fit is None else SETTINGS[name].fit(value, widths)
               for name, value in registered("network").items()},
        )
        name = self.query_one("#optimizer", Select).value
        hparams: dict[str, Any] = {}
        if name == cfg.optimizer.name:
            for spec in OPTIMIZERS[name].hparam_specs:
                if spec.name == "lr":
                    continue
                field_id = f"hp-{spec.name}"
                if spec.kind == "bool":
                    hparams[spec.name] = self.query_one(f"#{field_id}", Checkbox).value
                else:
                    parse = functools.partial(parse_hparam, kind=spec.kind)
                    hparams[spec.name] = get(field_id, parse, cfg.optimizer.hparams.get(spec.name, spec.default))
        own = registered("optimizer") if name == cfg.optimizer.name else {}  # a new optimizer: its own defaults
        optimizer = OptimizerConfig(name=name, hparams=hparams, schedule=self._read_schedule(get, cfg), **own)
        training = TrainingConfig(**registered("training"))  # in mini-batch mode, the batch size as typed
        mode = self.query_one("#batch_mode", Select).value
        if mode != "mini":
            training.batch_size = {"full": "full", "single": 1}[mode]
        new = keeping_weights(ExperimentConfig(data, network, optimizer, training), cfg.network.weights)
        for problem in new.validate():
            errors.setdefault(self._field_for(problem), problem.message)  # what could not be read first
        return (None if errors else new), errors

    def _read_features(self) -> list[str] | None:
        toggles = self.query_one("#features", FeatureToggles)
        if toggles.disabled:
            return list(self.config.data.features) if self.config.data.features is not None else None
        chosen = list(toggles.selected)
        return None if chosen == list(DEFAULT_FEATURES) else chosen

    @on(FeatureToggles.Toggled)
    def _toggled(self, event: FeatureToggles.Toggled) -> None:
        event.stop()
        self._apply()

    def _read_schedule(self, get, cfg: ExperimentConfig) -> dict | None:
        """The schedule the select and its main parameter describe (the other parameters kept)."""
        name = self.query_one("#schedule", Select).value
        if name == "none":
            return None
        old = cfg.optimizer.schedule or {}
        schedule = {k: v for k, v in old.items() if k != "name"} if old.get("name") == name else {}
        schedule = {"name": name, **schedule}
        main = _schedule_param(name)
        if main is not None:
            field = self.query_one("#sched_param", Input)
            if field.disabled or not field.value.strip():
                schedule.setdefault(main.name, main.suggested)
            else:
                schedule[main.name] = get("sched_param", functools.partial(parse_hparam, kind=main.kind), main.suggested)
        return schedule

    def _field_for(self, problem) -> str:
        key, section = problem.key or "", problem.section
        if section == "optimizer" and key.startswith("schedule"):
            return "schedule" if key in ("schedule", "schedule.name") else "sched_param"
        if problem.field_name in SETTINGS:
            return problem.field_name
        if section == "network" and key.startswith(("hidden[", "activations[")):
            return f"width-{key.split('[')[1].rstrip(']')}"
        if section == "optimizer" and key not in ("name", "lr"):
            return f"hp-{key}"
        return {"name": "optimizer", "path": "dataset"}.get(key, key)

    def _apply(self) -> None:
        """Read the form; post ``Changed`` when it describes a new, valid config."""
        if not self._filled:
            return
        if self.busy:
            self._apply_after = True  # the fields are being replaced: read them once they are back
            return
        new, errors = self._read()
        self._show_errors(errors)
        if new is None or new == self.config:
            return
        old = self.config
        self.config = new
        if (new.optimizer.name != old.optimizer.name or _schedule_name(new) != _schedule_name(old)
                or new.data.dataset != old.data.dataset):
            self._layers = self._current_layers()  # the rows as they read now, edits included
            self._recompose()  # the new optimizer's settings
        else:
            self._update_facts()
        self.post_message(self.Changed(self, new))

    _error_labels: dict[str, Label] | None = None
    """The error label under each field, by the field's id (None: not yet read from the composition)."""
    _invalid: set[Widget] = frozenset()
    """The fields marked ``-invalid``."""

    def _show_message_of(self, field: Widget, label: Widget) -> None:
        """The field typed in, with its message in sight too: where the message is out of sight,
        the field goes to the middle of the pane, as focus puts a field it cannot show whole (so
        that the two ways to get there end in the same place)."""
        if not (field.is_attached and label.is_attached):
            return
        if label.region.height == 0 or not self.region.contains_region(label.region):
            self.scroll_to_center(field, animate=False)

    def _show_errors(self, errors: dict[str, str]) -> None:
        self._errors = errors
        if self._error_labels is None:  # once per composition: this runs on every blur
            self._error_labels = {(label.id or "")[4:]: label for label in self.query(".field-error")}
        labels = self._error_labels
        unplaced = [f"{key}: {msg}" for key, msg in errors.items() if key not in labels]
        for key, label in labels.items():
            message = "\n".join(unplaced) if key == "general" else errors.get(key, "")
            if label.content != message:  # an update costs a layout pass, and this runs on every blur
                label.update(message)
            label.set_class(bool(message), "-shown")
        focused = self.screen.focused
        label = labels.get(getattr(focused, "id", None) or "")
        if label is not None and errors.get(focused.id):
            self.call_after_refresh(self._show_message_of, focused, label)
        invalid = {w for w in map(self._one, errors) if w is not None}
        for w in invalid - self._invalid:
            w.add_class("-invalid")
        for w in self._invalid - invalid:
            w.remove_class("-invalid")
        self._invalid = invalid
