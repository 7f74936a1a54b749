"""The experiment's registered settings, each declared once.

A ``Setting`` holds everything about one setting that any place showing it needs: its config
section and TOML key, default, how text is read into it and written from it, its checks, the
command-line option and help, the config pane's row, the palette command, the help's paragraph,
whether a change applies while training (and how it reaches the trainer) and how the run store
lists it. ``register`` adds one; from ``SETTINGS`` come the TOML keys, loading, writing and
validation (``config``), ``with_overrides``, the click options (``cli.common``), the pane's rows,
the palette and the help (``tui``), live vs structural and the live change itself (``session``)
and the run store's settings and "differs" (``runs``).

The config sections keep a registered setting's value in their ``settings`` table (only values
that differ from the default) and show it as an attribute: ``cfg.network.l2``. A setting
registered later (a test's, a lesson's) is part of every config from then on, default until set.

Textual-free and click-free: the layers above turn these declarations into widgets and options.
"""

from __future__ import annotations

import difflib
import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..engine.activations import ACTIVATIONS
from ..engine.datasets import DATASETS, MAX_NOISE, MAX_SAMPLES, MIN_SAMPLES
from ..engine.initializers import INIT_CHOICES
from ..engine.losses import LOSSES
from ..engine.network import check_dropout, check_penalty
from ..engine.optimizers import OPTIMIZERS
from ..engine.trainer import batch_mode_of
from .hparam_text import UnreadableText, hparam_text, parse_number
from .limits import MAX_BATCH_SIZE, MAX_EPOCHS, MAX_SEED
from .shown import show as _show

if TYPE_CHECKING:
    from .config import ExperimentConfig

__all__ = ["SETTINGS", "Setting", "register", "unregister", "settings_of_section", "live_names", "placed", "listed",
           "DTYPES", "allowed", "data_named", "positive_number",
           "stored_value", "is_set", "apply_to_trainer", "problems_of", "OVERFIT_ADVICE"]


@dataclass(frozen=True)
class Setting:
    """One experiment setting, as every place that shows or uses it needs it."""

    section: str
    """The config section (TOML table) it belongs to: ``data``, ``network``, ``optimizer``, ``training``."""
    name: str
    """Its TOML key, config attribute, override key and run-store key; unique across sections."""
    default: Any
    """The value when not given; a config file leaves the key out while it has this value."""
    parse: Callable[[str], Any]
    """Text typed into the pane or given on the command line -> the value (``ValueError``,
    e.g. ``UnreadableText``, for text that is no such value; range checks are ``check``'s)."""
    format: Callable[[Any], str]
    """The value as the pane shows it (``parse`` reads it back)."""
    check: Callable[[Any, Any], list[tuple[str, str, Any]]]
    """``check(value, section)``: the problems of a value as (key, message, offending value);
    ``section`` is the config section holding it, for settings that depend on its other fields."""
    flag: str
    """The command-line option, e.g. ``--l2``; empty: none (the setting is set in the TOML file
    and the pane only)."""
    cli_help: str
    """The option's help text."""
    label: str
    """The config pane's row label."""
    tooltip: str
    """The pane field's tooltip."""
    title: str
    """The palette command that goes to the pane's field, e.g. ``Set L2 penalty``."""
    command_help: str
    """The palette command's help line."""
    help: str
    """The help screen's paragraph about it (Markdown)."""
    live: bool
    """True: a change applies while training, weights kept; False: it needs new weights."""
    engine: Callable[[Any, "ExperimentConfig"], Any] | None = None
    """``engine(value, config)``: the value the trainer takes (``ValueError`` for a bad one); None:
    the value as it is."""
    apply: Callable[[Any, Any], None] | None = None
    """``apply(trainer, engine_value)`` on the training thread, at a step boundary; None: set the
    trainer's attribute of the setting's name."""
    cli_type: type | None = None
    """The option's Python type (``float``, ``int``); None: text, read with ``cli_parse``."""
    cli_parse: Callable[[Any], Any] | None = None
    """The option's value (of ``cli_type``) -> the setting's value, ``ValueError`` with the
    message to show for a bad one; None: as given."""
    placeholder: str = ""
    """What an empty pane field shows."""
    rank: int = 100
    """Its place among the pane's rows, the palette's commands and the help's paragraphs."""
    fit: Callable[[Any, list], Any] | None = None
    """``fit(value, hidden)``: the value kept across an edit of the hidden layers; None: as it is."""
    normalize: Callable[[Any], Any] | None = None
    """The value as the config keeps it (e.g. a tuple as a list, so a TOML round trip stays equal)."""
    after: str = ""
    """The field (a section's own, or another setting) it follows wherever fields are listed in
    turn: the command's options, the pane's rows, the palette's commands, the TOML table and the
    run store's settings; ``FIRST``: before them all; empty: after them all (the pane's last rows,
    before the lr schedule)."""
    toml_after: str = ""
    """Where the TOML table has it, when not after ``after``."""
    cli_after: str = ""
    """The option it follows in the command's options, when not after ``after``."""
    store_after: str = ""
    """Where the run store lists it, when not after ``after``."""
    always: bool = False
    """True: a setting every experiment shows, written to the TOML file and listed by the run
    store at its default too; False: left out while it has its default."""
    widget: str = "text"
    """The pane's field: ``text``, ``whole`` (a whole number) or ``select`` (a list of ``choices``);
    empty: none (no pane row and no palette command: the setting is set in the TOML file only)."""
    choices: tuple[str, ...] = ()
    """The values a ``select`` field lists."""
    stored: bool = True
    """False: the run store's settings leave it out."""
    cli_min: int | float | None = None
    """The option's least value, which the option checks itself (its help shows ``[x>=...]``)."""
    applies: Callable[[Any], bool] | None = None
    """``applies(section)``: whether the setting means something for the section's other values
    (the noise: for a synthetic dataset only). Where it does not, the pane's row is off and out
    of sight (unless ``off_shown``). New data that it does not apply to resets it to its default
    (``with_overrides``); in the pane, any other dataset does (each starts from its own). None: always."""
    off_shown: bool = False
    """True: where it does not apply, its row stays in sight, greyed (the batch size below the
    batch mode that turns it off)."""
    off: tuple[str, str] = ()
    """Where its field is off: (what the palette's command says, the pane's field it goes to instead)."""


SETTINGS: dict[str, Setting] = {}
"""Every registered setting by name, in the order the TOML file, the options and the run store list them."""

DTYPES = ("float64", "float32")
"""The precisions the weights and the data may have (``training.dtype``)."""

OVERFIT_ADVICE = "try L2, dropout, fewer units, more data, or early stopping"
"""What the status suggests when the validation loss rises: the settings against overfitting first."""


FIRST = "<first>"
"""A place (``Setting.after`` and the like) before every other field."""

_RESERVED: set[str] = set()
"""Names the config sections use for their own fields (``reserve``): no setting may take one."""


def reserve(*names: str) -> None:
    """Keep ``names`` (a config section's own fields and override keys) from settings."""
    _RESERVED.update(names)


def register(setting: Setting) -> Setting:
    """Add ``setting`` to ``SETTINGS``; a name or flag already used is a ``ValueError``."""
    if setting.name in SETTINGS:
        raise ValueError(f"setting {setting.name!r} is registered already")
    if setting.name in _RESERVED or not setting.name.isidentifier() or setting.name.startswith("_"):
        raise ValueError(f"{setting.name!r} cannot name a setting: a config field's name, or no name")
    if setting.flag and any(s.flag == setting.flag for s in SETTINGS.values()):
        raise ValueError(f"option {setting.flag} is taken already")
    if setting.section not in ("data", "network", "optimizer", "training"):
        raise ValueError(f"unknown config section {setting.section!r}")
    SETTINGS[setting.name] = setting
    return setting


def unregister(name: str) -> None:
    """Take a setting out of the registry (a test's, afterwards)."""
    SETTINGS.pop(name, None)


def settings_of_section(section: str) -> list[Setting]:
    """The registered settings of one config section, in registry order."""
    return [s for s in SETTINGS.values() if s.section == section]


def by_rank() -> list[Setting]:
    """The registered settings in the pane's, the palette's and the help's order."""
    return sorted(SETTINGS.values(), key=lambda s: s.rank)


def place(setting: Setting, where: str = "") -> str:
    """The field ``setting`` follows: in the pane and the palette (``where`` empty), or in the
    ``toml`` table, the ``cli`` options or the run ``store``'s list; empty: none."""
    return (getattr(setting, f"{where}_after") if where else "") or setting.after


def placed(own, settings, *, where: str = "", fields=()) -> list:
    """``own`` field names with every one of ``settings`` put after the field it follows there
    (``place``), which may be another setting; the settings placed nowhere come last, in
    registry order. A setting placed after one of ``fields`` (every field, in order) that is not
    in ``own`` goes after the last of ``fields`` before it that is (first, if none is)."""
    settings, own, fields = list(settings), list(own), list(fields)
    after_of = {s.name: place(s, where) for s in settings}
    for name, after in after_of.items():
        if after == FIRST:
            after_of[name] = None
        elif after in fields and after not in own:
            before = [f for f in fields[:fields.index(after)] if f in own]
            after_of[name] = before[-1] if before else None
    out: list = []

    def add(item) -> None:
        out.append(item)
        name = item if isinstance(item, str) else item.name
        for s in settings:
            if after_of[s.name] == name and s not in out:
                add(s)

    for s in settings:
        if after_of[s.name] is None:
            add(s)
    for name in own:
        add(name)
    for s in settings:
        if s not in out:
            add(s)
    return out


def listed(own: dict[str, Any], config: "ExperimentConfig") -> dict[str, Any]:
    """``own`` (field -> value, as the run store lists a config's fields) with the settings shown
    ``always`` that are placed among those fields, each in its place, with its value in ``config``."""
    out: dict[str, Any] = {}
    shown = [s for s in SETTINGS.values() if s.always and s.stored and place(s, "store")]
    for item in placed(own, shown, where="store"):
        if isinstance(item, str):
            out[item] = own[item]
        else:
            out[item.name] = stored_value(item, getattr(getattr(config, item.section), item.name))
    return out


def live_names() -> tuple[str, ...]:
    """The settings whose change applies while training."""
    return tuple(name for name, s in SETTINGS.items() if s.live)


def is_set(setting: Setting, value: Any) -> bool:
    """False when ``value`` is the default (a config file and the run store leave it out, unless
    the setting is shown ``always``: then the run store lists it, and a config file writes it when
    it is not None, which TOML cannot hold)."""
    return setting.always or differs(setting, value)


def differs(setting: Setting, value: Any) -> bool:
    """False when ``value`` is the default (the config keeps it out of its ``settings`` table)."""
    default = setting.default
    if default is None:
        return value is not None
    return isinstance(value, bool) or value != default


def stored_value(setting: Setting, value: Any) -> Any:
    """The value as the run store keeps it (JSON-friendly); None when it is the default or the
    store leaves the setting out."""
    if not setting.stored or not is_set(setting, value):
        return None
    return list(value) if isinstance(value, (list, tuple)) else value


def problems_of(section: str, obj: Any) -> list[tuple[str, str, Any]]:
    """Every registered setting's problems in the config section ``obj``."""
    out: list[tuple[str, str, Any]] = []
    for s in settings_of_section(section):
        out += s.check(getattr(obj, s.name), obj)
    return out


def engine_value(setting: Setting, config: "ExperimentConfig") -> Any:
    """The setting's value in ``config`` as the trainer takes it (``ValueError`` for a bad one)."""
    value = getattr(getattr(config, setting.section), setting.name)
    return value if setting.engine is None else setting.engine(value, config)


def apply_to_trainer(setting: Setting, trainer: Any, value: Any) -> None:
    """Hand an engine value to the trainer (call where no step runs)."""
    if setting.apply is None:
        setattr(trainer, setting.name, value)
    else:
        setting.apply(trainer, value)


# --- the sections' side: registered settings as attributes ------------------------------------


class HoldsSettings:
    """Mixin for a config section dataclass with a ``settings`` field: its registered settings
    read and set as attributes, given as keyword arguments, and kept in ``settings`` only where
    they differ from the default (so equal configs compare equal however they were made)."""

    SECTION = ""

    def _settled(self) -> None:
        """Called once the constructor's registered settings are set: what depends on them (a
        default taken from another field)."""

    def __getattr__(self, name: str) -> Any:
        setting = SETTINGS.get(name) if not name.startswith("__") else None
        if setting is None or setting.section != self.SECTION:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.__dict__.get("settings", {}).get(name, setting.default)

    def __setattr__(self, name: str, value: Any) -> None:
        setting = SETTINGS.get(name)
        if setting is None or setting.section != self.SECTION:
            object.__setattr__(self, name, value)
            return
        if setting.normalize is not None:
            value = setting.normalize(value)
        values = dict(self.__dict__.get("settings", {}))
        if differs(setting, value):
            values[name] = value
        else:
            values.pop(name, None)
        object.__setattr__(self, "settings", values)


def holds_settings(section: str):
    """Class decorator (outside ``@dataclass``): the section's registered settings as keyword
    arguments of its constructor (and of ``dataclasses.replace``)."""

    def wrap(cls):
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            own = {k: kwargs.pop(k) for k in [k for k in kwargs if getattr(SETTINGS.get(k), "section", None) == section]}
            init(self, *args, **kwargs)
            given = self.__dict__.get("settings")
            object.__setattr__(self, "settings", {})  # its own table: ``replace`` passes the old one
            for key, value in (dict(given) if isinstance(given, dict) else {}).items():
                setattr(self, key, value)
            for key, value in own.items():
                setattr(self, key, value)
            self._settled()

        cls.__init__ = __init__
        cls.SECTION = section
        return cls

    return wrap


# --- reading, writing and checking the values ---------------------------------------------------


def allowed(word: Any, choices) -> str:
    """``allowed: a, b, c`` plus the closest choice to ``word`` when one is close enough."""
    choices = list(choices)
    text = "allowed: " + ", ".join(choices)
    close = difflib.get_close_matches(word, choices, n=1) if isinstance(word, str) else []
    return text + (f"; did you mean {close[0]!r}?" if close else "")


def _choice_check(what: str, choices):
    """A check that the value is one of ``choices``: ``unknown <what>; allowed: ...`` if not."""

    def check(value: Any, section: Any) -> list[tuple[str, str, Any]]:
        if isinstance(value, str) and value in choices:
            return []
        return [("", f"unknown {what}; " + allowed(value, choices), value)]

    return check


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _penalty_check(what: str):
    def check(value: Any, section: Any) -> list[tuple[str, str, Any]]:
        if not _is_number(value):
            return [("", f"must be a number >= 0 ({what}; 0: none)", value)]
        if value < 0:
            return [("", f"must be >= 0 ({what}; 0: none)", value)]
        return []

    return check


def _keyed(name: str, check):
    """``check`` with problems at ``name`` where it left the key empty."""

    @functools.wraps(check)
    def keyed(value: Any, section: Any) -> list[tuple[str, str, Any]]:
        return [(key or name, message, bad) for key, message, bad in check(value, section)]

    return keyed


def _non_negative(value: float) -> float:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"must be a finite number >= 0, got {value}")
    return value


def _positive(value: int) -> int:
    if not value > 0:
        raise ValueError(f"must be greater than 0, got {value}")
    return value


def parse_rates(text: str) -> float | list[float]:
    """``0.3`` (every hidden layer) or ``0.3, 0.1`` / ``0.3,0.1`` / ``0.3 0.1`` (one rate a hidden
    layer); ``UnreadableText`` for what is not a number."""
    parts = text.replace(",", " ").split()
    if len(parts) <= 1 and "," not in text:
        return parse_number(text)
    return [parse_number(part) for part in parts]


def _rates_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(hparam_text(v) for v in value)
    return hparam_text(value)


def _cli_rates(text: str) -> float | list[float]:
    try:
        rates = parse_rates(text)
    except UnreadableText:
        raise ValueError(f"expected a rate in [0, 1) such as 0.3, or one per hidden layer "
                         f"such as 0.3,0.1, got {text!r}") from None
    for rate in rates if isinstance(rates, list) else [rates]:
        if not (math.isfinite(rate) and 0 <= rate < 1):
            raise ValueError(f"rates must be in [0, 1), got {text!r}")
    return rates


_RATE_RULE = "must be in [0, 1), the fraction of a hidden layer's nodes dropped in training"


def _rates_check(value: Any, network: Any) -> list[tuple[str, str, Any]]:
    hidden = getattr(network, "hidden", None)
    if isinstance(value, list):
        out = []
        if isinstance(hidden, list) and len(value) != len(hidden):
            out.append(("", f"needs one rate per hidden layer: {len(hidden)} for hidden = "
                            f"{_show(hidden)} (or one number for every layer)", value))
        for i, rate in enumerate(value):
            if not (_is_number(rate) and 0 <= rate < 1):
                out.append((f"[{i}]", _RATE_RULE, rate))
        return out
    if not (_is_number(value) and 0 <= value < 1):
        return [("", _RATE_RULE + " (or a list, one per hidden layer)", value)]
    if value and hidden == []:
        return [("", "there is no hidden layer to drop nodes of: leave dropout at 0", value)]
    return []


def _rates_keyed(value: Any, network: Any) -> list[tuple[str, str, Any]]:
    return [(f"dropout{key}", message, bad) for key, message, bad in _rates_check(value, network)]


def _rates_fit(value: Any, hidden: list) -> Any:
    """A per-layer list that no longer fits the number of hidden layers becomes one rate for
    all (the largest); with no hidden layer left, 0 (nothing to drop)."""
    if not hidden:
        return 0.0
    if isinstance(value, (list, tuple)):
        return list(value) if len(value) == len(hidden) else max(value, default=0.0)
    return value


def _as_list(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _whole_check(value: Any, rule: str, least: int, most: int) -> list[tuple[str, str, Any]]:
    """A whole number in [least, most]: ``rule`` for one that is not."""
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= least):
        return [("", rule, value)]
    if value > most:
        return [("", f"at most {most:,}", value)]
    return []


def _whole(text: str) -> int:
    """A whole number typed in (``UnreadableText`` for other text)."""
    return parse_number(text, whole=True)


def _optional_epochs(text: str) -> int | None:
    """Empty, ``off`` or ``none``: off; else a whole number of epochs."""
    if text.strip().lower() in ("", "off", "none"):
        return None
    return _whole(text)


def _train_until(trainer: Any, epochs: int) -> None:
    """A run's new length: the loop trains until ``epochs`` in all (the session wakes a paused
    loop that is there already, to end)."""
    trainer.run_to = epochs


register(Setting(
    section="training", name="epochs", default=100, parse=_whole, format=str,
    check=_keyed("epochs", lambda value, training: _whole_check(value, "must be an integer >= 1", 1, MAX_EPOCHS)),
    flag="--epochs", cli_type=int, cli_parse=_positive, cli_help="Epochs to train (more epochs with --resume).",
    label="epochs", tooltip="", widget="whole", after="batch_size", toml_after=FIRST, always=True,
    title="Set epochs", command_help="How many passes over the data a run makes", help="",
    live=True, apply=_train_until,
))


def parse_batch_size(text: str) -> int | str:
    """``full`` or a whole number of samples >= 1, as the command line gives it (``ValueError`` says
    what is allowed)."""
    if text == "full":
        return text
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise ValueError(f"expected an integer >= 1 or 'full', got {text!r}")
    if size > MAX_BATCH_SIZE:
        raise ValueError(f"at most {MAX_BATCH_SIZE:,} (or 'full'), got {text!r}")
    return size


def _batch_check(value: Any, training: Any) -> list[tuple[str, str, Any]]:
    if not (value == "full" or isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return [("", 'must be an integer >= 1 or "full" (the whole training set at once)', value)]
    if value != "full" and value > MAX_BATCH_SIZE:
        return [("", f'at most {MAX_BATCH_SIZE:,} (or "full")', value)]
    return []


MINI_BATCH = 32
"""The batch size unless one is given, and the one a mini-batch field shows in the other modes."""


def _mini_batches(training: Any) -> bool:
    """Whether the updates are mini-batches (their size can be chosen): not the full batch, not
    single samples."""
    return batch_mode_of(training.batch_size) == "mini"


register(Setting(
    section="training", name="batch_size", default=MINI_BATCH, parse=_whole,
    format=lambda value: str(value if isinstance(value, int) and value > 1 else MINI_BATCH),
    check=_keyed("batch_size", _batch_check),
    flag="--batch-size", cli_parse=parse_batch_size,
    cli_help="Samples per update: an integer, or 'full' for batch gradient descent.",
    label="batch size", tooltip="", widget="whole", after="batch_mode", toml_after="epochs", cli_after="lr",
    store_after="lr", always=True, applies=_mini_batches, off_shown=True,
    off=("The batch size is for mini-batch mode: choose it first.", "batch_mode"),
    title="Set batch size", command_help="Samples per update in mini-batch mode", help="",
    live=True, apply=lambda trainer, value: trainer.set_batch_size(value),
))


def _patience_check(value: Any, training: Any) -> list[tuple[str, str, Any]]:
    if value is None:
        return []
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return [("", "must be an integer >= 1, the epochs without a better validation loss "
                     "before stopping", value)]
    if value > MAX_EPOCHS:
        return [("", f"at most {MAX_EPOCHS:,}", value)]
    return []


def _patience_engine(value: Any, config: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"patience must be a whole number >= 1 or none, got {value!r}")
    return value



register(Setting(
    section="network", name="l1", default=0.0, parse=parse_number, format=hparam_text,
    check=_keyed("l1", _penalty_check("the L1 weight penalty")),
    engine=lambda value, cfg: (check_penalty(value, 0.0), float(value))[1],
    flag="--l1", cli_type=float, cli_parse=_non_negative, cli_help="L1 weight penalty (0: none).",
    label="L1", tooltip="L1 penalty: loss + l1 * sum |W| (0: off)", rank=20,
    title="Set L1 penalty", command_help="Adds l1 x the sum of |weights| to the loss (live)",
    help="*L1* adds `l1 x sum |W|`: its gradient `l1 x sign(W)` pulls every weight toward zero by the "
         "same amount whatever its size, so the weights the data does not need end near zero (with "
         "gradient steps, not exactly zero).",
    live=True,
))
register(Setting(
    section="network", name="l2", default=0.0, parse=parse_number, format=hparam_text,
    check=_keyed("l2", _penalty_check("the L2 weight penalty")),
    engine=lambda value, cfg: (check_penalty(0.0, value), float(value))[1],
    flag="--l2", cli_type=float, cli_parse=_non_negative, cli_help="L2 weight penalty (0: none).",
    label="L2", tooltip="L2 penalty: loss + l2/2 * sum W^2 (0: off)", rank=10,
    title="Set L2 penalty", command_help="Adds l2/2 x the sum of squared weights to the loss (live)",
    help="*L2* adds `l2/2 x sum W^2` to the loss, so its gradient `l2 x W` passes through the "
         "optimizer (Adam rescales it); AdamW's *weight decay* instead shrinks the weights directly "
         "each update, outside the gradient (decoupled).",
    live=True,
))
register(Setting(
    section="network", name="dropout", default=0.0, parse=parse_rates, format=_rates_text,
    check=_rates_keyed, normalize=_as_list, fit=_rates_fit,
    engine=lambda value, cfg: check_dropout(value, len(cfg.network.hidden)),
    flag="--dropout", cli_parse=_cli_rates,
    cli_help="Dropout rate of the hidden layers in training: 0.3 for every one, or 0.3,0.1 one per layer.",
    label="dropout", tooltip="share of hidden units dropped each step, in [0, 1)", rank=30,
    title="Set dropout", command_help="Share of hidden units dropped each training step (live)",
    help="*Dropout* drops that share of hidden units each training step (never when evaluating).",
    live=True,
))
register(Setting(
    section="training", name="patience", default=None, parse=_optional_epochs,
    format=lambda value: "" if value is None else str(value),
    check=_keyed("patience", _patience_check), engine=_patience_engine,
    flag="--patience", cli_type=int, cli_parse=_positive,
    cli_help="Early stopping: stop after N epochs without a lower validation loss, "
             "and keep the best epoch's weights.",
    label="patience", tooltip="early stopping: epochs without a better val loss", placeholder="off", rank=40,
    title="Set early-stopping patience", command_help="Stop after this many epochs without a better val loss (live)",
    help="*Patience* stops training after that many epochs without a lower validation loss and puts "
         "the best epoch's weights back (empty: off).",
    live=True,
))
register(Setting(
    section="data", name="val_split", default=0.2, parse=parse_number, format=hparam_text,
    check=_keyed("val_split", lambda value, data: [] if _is_number(value) and 0 <= value < 1 else [
        ("", "must be a number in [0, 1), the fraction held out for validation", value)]),
    flag="--val-split", cli_type=float, cli_help="Fraction of the data held out for validation, in [0, 1).",
    label="val split", tooltip="", after="dataset", toml_after="target", cli_after="seed", store_after="noise",
    always=True, title="Set validation split", command_help="The share of samples held out to validate",
    help="", live=False,
))
register(Setting(
    section="data", name="standardize", default=None, parse=str, format=str,
    check=_keyed("standardize", lambda value, data: [] if value is None or isinstance(value, bool) else [
        ("", "must be true or false: scale each input to mean 0 and std 1 on the training set "
             "(leave it out: true for a dataset or CSV, false for inline data)", value)]),
    flag="", cli_help="", label="", tooltip="", widget="", toml_after="target",
    title="", command_help="", help="", live=False,
))
register(Setting(
    section="training", name="seed", default=0, parse=_whole, format=str,
    check=_keyed("seed", lambda value, training: _whole_check(value, "must be an integer >= 0", 0, MAX_SEED)),
    flag="--seed", cli_type=int, cli_min=0, cli_help="Seed for the data, the weights and the batches.",
    label="seed", tooltip="", widget="whole", after="epochs", toml_after="batch_size", always=True,
    title="Set seed", command_help="The seed for weights, data and shuffling", help="", live=False,
))
register(Setting(
    section="network", name="init", default="auto", parse=str, format=str,
    check=_keyed("init", _choice_check("init", INIT_CHOICES)),
    flag="", cli_help="", label="init", tooltip="", widget="select", choices=tuple(INIT_CHOICES),
    after="act", toml_after="activations", always=True, stored=False,
    title="Set init", command_help="How the first weights are drawn", help="", live=False,
))
register(Setting(
    section="training", name="dtype", default="float64", parse=str, format=str,
    check=_keyed("dtype", _choice_check("dtype", DTYPES)),
    flag="", cli_help="", label="", tooltip="", widget="", toml_after="batch_size", always=True, stored=False,
    title="", command_help="", help="", live=False,
))


# --- the synthetic data's own: samples and noise ------------------------------------------------


def data_named(data: Any) -> str | None:
    """The data as a message names it (``synthetic dataset 'spiral'``, ``a CSV file``, ``inline
    data``); None for a dataset that does not exist (its own problem says so)."""
    info = DATASETS.get(data.dataset) if isinstance(data.dataset, str) else None
    if info is not None:
        return f"{info.kind} dataset {info.name!r}"
    if data.dataset is None:
        return "inline data" if data.is_inline else "a CSV file"
    return None


def _synthetic(data: Any) -> bool:
    """Whether the data is a synthetic dataset (generated: its samples and noise can be chosen)."""
    return isinstance(data.dataset, str) and getattr(DATASETS.get(data.dataset), "kind", "") == "synthetic"


def _synthetic_check(ok: Callable[[Any], bool], rule: str, most: float, over: str):
    """A check of a synthetic dataset's option: None (its default) passes; on other data it has
    no meaning; else ``ok`` or ``rule``, and at most ``most`` (``over`` says so)."""

    def check(value: Any, data: Any) -> list[tuple[str, str, Any]]:
        if value is None:
            return []
        what = data_named(data)
        if what is not None and not _synthetic(data):
            names = ", ".join(name for name, info in DATASETS.items() if info.kind == "synthetic")
            return [("", f"applies to synthetic datasets only ({names}), not to {what}", value)]
        if not ok(value):
            return [("", rule, value)]
        return [("", over, value)] if value > most else []

    return check


def _optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse``, with empty text meaning None (the dataset's own default)."""
    return lambda text: None if not text.strip() else parse(text)


def _optional_text(format: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda value: "" if value is None else format(value)


_NOT_SYNTHETIC = ("{what} is a setting of the synthetic datasets only.", "dataset")


register(Setting(
    section="data", name="n_samples", default=None, parse=_optional(_whole),
    format=_optional_text(str),
    check=_keyed("n_samples", _synthetic_check(
        lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= MIN_SAMPLES,
        f"must be an integer >= {MIN_SAMPLES}", MAX_SAMPLES, f"at most {MAX_SAMPLES:,} samples can be generated")),
    flag="--n-samples", cli_type=int, cli_help="Samples to generate (synthetic datasets).",
    label="samples", tooltip="", placeholder="default", widget="whole", after="noise",
    toml_after="problem", cli_after="epochs", store_after="dataset", always=True,
    applies=_synthetic, off=(_NOT_SYNTHETIC[0].format(what="The number of samples"), _NOT_SYNTHETIC[1]),
    title="Set samples", command_help="Samples of the synthetic data (new data, new weights)", help="", live=False,
))
register(Setting(
    section="data", name="noise", default=None, parse=_optional(parse_number), format=_optional_text(hparam_text),
    check=_keyed("noise", _synthetic_check(
        lambda value: _is_number(value) and value >= 0, "must be a number >= 0, the std of the noise added",
        MAX_NOISE, f"at most {MAX_NOISE:g}, the std of the noise added (the data lie within a few units of 0)")),
    flag="--noise", cli_type=float, cli_help="Std of the noise added to a synthetic dataset.",
    label="noise", tooltip="noise of the synthetic data (new data, new weights)", placeholder="default",
    after="features", toml_after="n_samples", cli_after="n_samples", store_after="n_samples", always=True,
    applies=_synthetic, off=(_NOT_SYNTHETIC[0].format(what="Noise"), _NOT_SYNTHETIC[1]),
    title="Set data noise", command_help="Noise of the synthetic data (new data, new weights)", help="", live=False,
))


# --- the output layer and the loss: "auto" chooses them from the problem ----------------------------


def _output_check(value: Any, network: Any) -> list[tuple[str, str, Any]]:
    outputs = ["auto", *ACTIVATIONS]
    if not (isinstance(value, str) and value in outputs):
        return [("", "unknown output activation; " + allowed(value, outputs), value)]
    loss = getattr(network, "loss", "auto")
    needs = LOSSES[loss].output_activation if isinstance(loss, str) and loss in LOSSES else None
    if value != "auto" and needs is not None and value != needs:
        return [("", f'loss {loss} needs output = {_show(needs)} (or "auto")', value)]
    return []


register(Setting(
    section="network", name="output", default="auto", parse=str, format=str,
    check=_keyed("output", _output_check),
    flag="", cli_help="", label="", tooltip="", widget="", toml_after="init", always=True, stored=False,
    title="", command_help="", help="", live=False,
))
register(Setting(
    section="network", name="loss", default="auto", parse=str, format=str,
    check=_keyed("loss", _choice_check("loss", ("auto", *LOSSES))),
    flag="", cli_help="", label="", tooltip="", widget="", toml_after="output", always=True, stored=False,
    title="", command_help="", help="", live=False,
))


# --- the learning rate: the optimizer's own default unless given -------------------------------------


def _lr_check(value: Any, optimizer: Any) -> list[tuple[str, str, Any]]:
    if value is None and getattr(optimizer, "name", None) not in OPTIMIZERS:
        return []  # no optimizer to take a default from: its name's problem says so
    if not (_is_number(value) and value > 0):
        return [("", "must be a number > 0 (the learning rate)", value)]
    return []


def positive_number(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value}")
    if not value > 0:
        raise ValueError(f"must be greater than 0, got {value}")
    return value


register(Setting(
    section="optimizer", name="lr", default=None, parse=parse_number, format=hparam_text,
    check=_keyed("lr", _lr_check), flag="--lr", cli_type=float, cli_parse=positive_number,
    cli_help="Learning rate.", label="lr", tooltip="", after="optimizer", toml_after="name", cli_after="optimizer",
    store_after="optimizer", always=True, title="Set learning rate",
    command_help="The step size (+ and - change it a notch at once)", help="",
    live=True, apply=lambda trainer, value: trainer.set_hparams(lr=value),
))
