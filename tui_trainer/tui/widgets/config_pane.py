"""The config pane: the experiment as a form, checked field by field.

Fields apply on Enter (or when focus leaves them) and selections at once. A bad value shows a
message under its field and the pane reports itself invalid, so training cannot start. The pane
posts ``ConfigPane.Changed`` with the new config and whether it needs new weights.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ...config import DataConfig, ExperimentConfig, NetworkConfig, OptimizerConfig, TrainingConfig
from ...engine.activations import ACTIVATIONS
from ...engine.datasets import DATASETS, Dataset
from ...engine.initializers import INIT_CHOICES
from ...engine.optimizers import OPTIMIZERS
from ...experiment import output_and_loss
from ...wording import plural

HIDDEN_ACTIVATIONS = [name for name, cls in ACTIVATIONS.items() if cls.hidden_ok]
BATCH_MODES = [("full batch (batch GD)", "full"), ("mini-batch", "mini"), ("single sample (SGD)", "single")]
CSV_CHOICE = "__csv__"
MAX_LAYERS = 12


class FieldError(ValueError):
    """A value that could not even be read (e.g. letters where a number goes)."""


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise FieldError(f"{text.strip()!r} is not a whole number") from None


def _float(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise FieldError(f"{text.strip()!r} is not a number") from None


def _betas(text: str) -> tuple[float, float]:
    parts = [p for p in text.replace(",", " ").split() if p]
    if len(parts) != 2:
        raise FieldError("two numbers, e.g. 0.9, 0.999")
    return (_float(parts[0]), _float(parts[1]))


SHORT_NAMES = {"initial_accumulator_value": "init accum", "lr_decay": "lr decay", "weight_decay": "wt decay"}


def _label(name: str) -> str:
    """A hyperparameter's name as a field label that fits the pane."""
    return SHORT_NAMES.get(name, name.replace("_", " "))


def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(f"{v:g}" for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class ConfigPane(VerticalScroll, can_focus=False):
    """Data, network, optimizer and training settings."""

    BINDINGS = [
        Binding("down", "move(1)", "Next field", show=False),
        Binding("up", "move(-1)", "Previous field", show=False),
    ]

    class Changed(Message):
        """The user changed the config; ``structural`` means the change needs new weights."""

        def __init__(self, pane: "ConfigPane", config: ExperimentConfig, structural: bool) -> None:
            super().__init__()
            self.pane, self.config, self.structural = pane, config, structural

        @property
        def control(self) -> "ConfigPane":
            return self.pane

    def __init__(self, config: ExperimentConfig, *, dataset: Dataset, id: str | None = None) -> None:
        super().__init__(id=id)
        self.config = config
        self.dataset = dataset
        self._layers = list(zip(config.network.hidden, config.network.hidden_activations))
        self._errors: dict[str, str] = {}
        self._filled = False
        """The fields are composed just after the first frame: they would delay start-up."""

    def on_mount(self) -> None:
        def fill() -> None:
            self._filled = True
            self._recompose()

        self.call_after_refresh(fill)

    # -- public ----------------------------------------------------------------------------

    @property
    def valid(self) -> bool:
        """False while any field holds a bad value."""
        return not self._errors

    def load(self, config: ExperimentConfig, dataset: Dataset) -> None:
        """Show ``config`` (e.g. after a rebuild, a refused change or a load)."""
        self.config, self.dataset = config, dataset
        self._layers = list(zip(config.network.hidden, config.network.hidden_activations))
        self._errors = {}
        self._recompose()

    def show_lr(self, lr: float) -> None:
        """Reflect a learning rate changed with + / -."""
        self.config = replace(self.config, optimizer=replace(self.config.optimizer, lr=lr))
        for field in self.query("#lr").results(Input):
            field.value = _text(lr)

    def focus_first(self) -> None:
        for field in self.query("#dataset").results(Select):
            field.focus()

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if not self._filled:
            yield Label("loading settings...", classes="facts")
            return
        cfg = self.config
        yield Label("", id="err-general", classes="field-error")
        yield Static("Data", classes="section")
        yield from self._row("dataset", "dataset", Select(self._dataset_options(), value=self._dataset_value(), allow_blank=False, compact=True, id="dataset"))
        yield Label(self._data_facts(), classes="facts", id="data-facts")
        yield from self._row("val split", "val_split", Input(_text(cfg.data.val_split), id="val_split", compact=True))

        yield Static("Network", classes="section")
        for i, (width, act) in enumerate(self._layers):
            with Horizontal(classes="layer-row"):
                yield Label(f"hidden {i + 1}", classes="field-label")
                yield Input(str(width), id=f"width-{i}", classes="layer-width", compact=True)
                yield Select([(a, a) for a in HIDDEN_ACTIVATIONS], value=act, allow_blank=False, compact=True, id=f"act-{i}", classes="layer-act")
                yield Button("x", id=f"del-{i}", classes="layer-del", tooltip="remove this layer", compact=True)
            yield Label("", id=f"err-width-{i}", classes="field-error")
        yield Button("+ add layer", id="add-layer", classes="add-layer", disabled=len(self._layers) >= MAX_LAYERS, compact=True)
        yield Label(self._output_text(), classes="facts", id="output")
        yield from self._row("init", "init", Select([(i, i) for i in INIT_CHOICES], value=cfg.network.init, allow_blank=False, compact=True, id="init"))
        yield Label(self._shape_text(), classes="facts", id="shape")

        yield Static("Optimizer", classes="section")
        yield from self._row("optimizer", "optimizer", Select([(n, n) for n in OPTIMIZERS], value=cfg.optimizer.name, allow_blank=False, compact=True, id="optimizer"))
        opt_cls = OPTIMIZERS[cfg.optimizer.name]
        yield Label(f"{opt_cls.summary}\n[b]{opt_cls.rule}[/b]", classes="facts", id="opt-rule")
        yield from self._row("lr", "lr", Input(_text(cfg.optimizer.lr), id="lr", compact=True))
        for spec in opt_cls.hparam_specs:
            if spec.name == "lr":
                continue
            value = cfg.optimizer.hparams.get(spec.name, spec.default)
            if spec.kind == "bool":
                widget: Widget = Checkbox(_label(spec.name), value=bool(value), id=f"hp-{spec.name}", tooltip=spec.doc, compact=True)
                yield from self._row("", f"hp-{spec.name}", widget)
            else:
                widget = Input(_text(value), id=f"hp-{spec.name}", tooltip=spec.doc, compact=True)
                yield from self._row(_label(spec.name), f"hp-{spec.name}", widget)

        yield Static("Training", classes="section")
        mode, size = self._batch_mode()
        with Horizontal(classes="field-row"):
            yield Label("batch", classes="field-label")
            yield Select(BATCH_MODES, value=mode, allow_blank=False, compact=True, id="batch_mode")
        yield Label("", id="err-batch_mode", classes="field-error")
        yield from self._row("batch size", "batch_size", Input(str(size), id="batch_size", disabled=mode != "mini", compact=True))
        yield from self._row("epochs", "epochs", Input(str(cfg.training.epochs), id="epochs", compact=True))
        yield from self._row("seed", "seed", Input(str(cfg.training.seed), id="seed", compact=True))

    def _row(self, label: str, key: str, widget: Widget):
        with Horizontal(classes="field-row"):
            yield Label(label, classes="field-label")
            yield widget
        yield Label("", id=f"err-{key}", classes="field-error")

    def _recompose(self) -> None:
        focused = self.screen.focused.id if self.screen.focused is not None else None

        async def rebuild() -> None:
            if not self.is_attached:
                return  # the app is closing
            await self.recompose()
            if focused and self.query(f"#{focused}"):
                self.query_one(f"#{focused}").focus()

        self.call_later(rebuild)

    # -- facts -----------------------------------------------------------------------------

    def _dataset_options(self) -> list[tuple[str, str]]:
        options = [(f"{name} ({info.problem})", name) for name, info in DATASETS.items()]
        if self.config.data.path is not None:
            options.insert(0, (f"file: {self.dataset.name}", CSV_CHOICE))
        return options

    def _dataset_value(self) -> str:
        return CSV_CHOICE if self.config.data.path is not None else self.config.data.dataset

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
        sizes = [self.dataset.X.shape[1], *(w for w, _ in self._layers), self.dataset.n_outputs]
        shapes = "  ".join(f"W{i + 1} {a}x{b}" for i, (a, b) in enumerate(zip(sizes, sizes[1:])))
        n_params = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
        return f"[b]{' -> '.join(map(str, sizes))}[/b]\n{shapes}\n{n_params:,} parameters (rows = inputs, columns = nodes)"

    def _batch_mode(self) -> tuple[str, int]:
        size = self.config.training.batch_size
        if size == "full":
            return "full", 32
        return ("single", 32) if size == 1 else ("mini", size)

    # -- events ----------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        if delta > 0:
            self.screen.focus_next()
        else:
            self.screen.focus_previous()

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
        if event.select.id == "batch_mode":
            self.query_one("#batch_size", Input).disabled = event.value != "mini"
        self._apply()

    @on(Checkbox.Changed)
    def _checked(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._apply()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        layers = self._read_layers()
        if button_id == "add-layer":
            width, act = layers[-1] if layers else (8, "relu")
            layers.append((width, act))
        elif button_id.startswith("del-"):
            layers.pop(int(button_id[4:]))
        self._layers = layers
        self._apply(force_recompose=True)

    # -- reading the form ------------------------------------------------------------------

    def _read_layers(self) -> list[tuple[int, str]]:
        layers = []
        for i, (width, act) in enumerate(self._layers):
            try:
                width = _int(self.query_one(f"#width-{i}", Input).value)
            except FieldError:
                pass
            layers.append((width, self.query_one(f"#act-{i}", Select).value))
        return layers

    def _read(self) -> tuple[ExperimentConfig | None, dict[str, str]]:
        """The config the form describes, and the problems by field id."""
        errors: dict[str, str] = {}

        def get(field_id: str, parse):
            try:
                return parse(self.query_one(f"#{field_id}", Input).value)
            except FieldError as exc:
                errors[field_id] = str(exc)
                return None

        cfg = self.config
        dataset_choice = self.query_one("#dataset", Select).value
        if dataset_choice == CSV_CHOICE:
            data = replace(cfg.data, val_split=get("val_split", _float))
        else:
            keep_options = dataset_choice == cfg.data.dataset
            data = DataConfig(
                dataset=dataset_choice,
                val_split=get("val_split", _float),
                n_samples=cfg.data.n_samples if keep_options else None,
                noise=cfg.data.noise if keep_options else None,
                options=copy.deepcopy(cfg.data.options) if keep_options else {},
            )
        widths, acts = [], []
        for i in range(len(self._layers)):
            widths.append(get(f"width-{i}", _int))
            acts.append(self.query_one(f"#act-{i}", Select).value)
        same = len(set(acts)) <= 1  # one activation for every layer is written as `activation`
        network = NetworkConfig(
            hidden=widths,
            activations=None if same else acts,
            activation=(acts[0] if acts else cfg.network.activation) if same else NetworkConfig().activation,
            init=self.query_one("#init", Select).value,
            output=cfg.network.output,
            loss=cfg.network.loss,
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
                    hparams[spec.name] = get(field_id, _betas if spec.kind == "betas" else _float)
            lr = get("lr", _float)
        else:
            lr = None  # a new optimizer starts from its own defaults
        optimizer = OptimizerConfig(name=name, lr=lr, hparams={k: v for k, v in hparams.items() if v is not None})
        mode = self.query_one("#batch_mode", Select).value
        batch = {"full": "full", "single": 1}.get(mode) or get("batch_size", _int)
        training = TrainingConfig(
            epochs=get("epochs", _int),
            batch_size=batch,
            seed=get("seed", _int),
            dtype=cfg.training.dtype,
        )
        if errors:
            return None, errors
        new = ExperimentConfig(data, network, optimizer, training)
        for problem in new.validate():
            errors[self._field_for(problem)] = problem.message
        return (None if errors else new), errors

    def _field_for(self, problem) -> str:
        key, section = problem.key or "", problem.section
        if section == "network" and key.startswith(("hidden[", "activations[")):
            return f"width-{key.split('[')[1].rstrip(']')}"
        if section == "optimizer" and key not in ("name", "lr"):
            return f"hp-{key}"
        if section == "training" and key == "batch_size":
            return "batch_size"
        return {"name": "optimizer", "path": "dataset"}.get(key, key)

    def _apply(self, force_recompose: bool = False) -> None:
        new, errors = self._read()
        self._show_errors(errors)
        if new is None:
            return
        old = self.config
        structural = (
            new.data != old.data
            or new.network != old.network
            or new.training.seed != old.training.seed
        )
        if new == old and not force_recompose:
            return
        optimizer_switched = new.optimizer.name != old.optimizer.name
        self.config = new
        if not structural:
            self.query_one("#shape", Label).update(self._shape_text())
            if optimizer_switched:
                self._recompose()
        self.post_message(self.Changed(self, new, structural))

    def _show_errors(self, errors: dict[str, str]) -> None:
        self._errors = errors
        labels = {(label.id or "")[4:]: label for label in self.query(".field-error")}
        unplaced = [f"{key}: {msg}" for key, msg in errors.items() if key not in labels]
        for key, label in labels.items():
            message = "\n".join(unplaced) if key == "general" else errors.get(key, "")
            label.update(message)
            label.set_class(bool(message), "-shown")
        for key in errors:
            widgets = self.query(f"#{key}")
            for w in widgets:
                w.add_class("-invalid")
        for w in self.query(".-invalid"):
            if w.id not in errors:
                w.remove_class("-invalid")
