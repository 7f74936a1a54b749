"""The main screen: composes the panes, shows the session's copies and routes keys to the session's link."""

from __future__ import annotations

import asyncio
from pathlib import Path
from time import monotonic

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Header, Input, Static

from ...experiments.config import ExperimentConfig, save_config
from ...experiments.experiment import DataFileNeeded
from ...experiments.settings import OVERFIT_ADVICE, SETTINGS
from ...experiments.session import Loaded, Session, Snapshot, change_kind, lr_notch, read_experiment
from ..guard import Guarded
from ..screen_size import AtAppSize
from ..keys import key
from ..training import SessionLink
from ..widgets.config_pane import CONFIG_COMMANDS, ConfigPane
from ..widgets.key_footer import KeyFooter
from ..widgets.layer_view import LayerView
from ..widgets.loss_plot import LossPlot
from ..widgets.redraw_throttle import keys_first
from ..widgets.status_pane import StatusPane
from ...experiments.files import about, describe_error, unreadable
from ...engine.text import visible
from ...experiments.runs import differing, settings_of
from .dialogs import ConfirmDialog, PathDialog
from .help import HelpScreen
from .views import VIEWS, view_named

NARROW_WIDTH = 110
"""Below this width the config pane is hidden until ``c`` shows it (in place of the plots)."""
MIN_SIZE = (80, 24)

def plot_note(snap: Snapshot) -> str:
    """The line under the loss plot: an early stop, a divergence, or a diagnosis of overfitting ("" for none)."""
    if snap.early_stopped and snap.best_epoch is not None:
        return (f"stopped early at epoch {snap.epoch}: the weights of epoch {snap.best_epoch} "
                f"(lowest val loss, green rule) are back")
    if snap.early_stopped:
        return f"stopped early at epoch {snap.epoch}: no finite validation loss"
    if snap.state == "diverged" and snap.restored_step is not None:
        return f"diverged after step {snap.divergence_step}: the weights of step {snap.restored_step} are back"
    if snap.overfit_since is not None:
        return f"overfitting since epoch {snap.overfit_since}: {OVERFIT_ADVICE}"
    return ""


def undone_text(kept: ExperimentConfig, refused: ExperimentConfig) -> str:
    """Each setting that ``refused`` changed, back to its value in ``kept``: ``noise back to 0.1``."""
    def every(config: ExperimentConfig) -> dict:  # the run store's settings, and those it leaves out (init)
        return {**settings_of(config), **{name: getattr(getattr(config, s.section), name) for name, s in SETTINGS.items()}}

    before, after = every(kept), every(refused)
    parts = []
    for name in differing([before, after]):
        value = before.get(name)
        if value is None:
            text = "its default"
        elif isinstance(value, list):
            text = ", ".join(map(str, value))
        else:
            text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"{name} back to {visible(text)}")
    return "; ".join(parts) or "the settings as they were"


class MainScreen(AtAppSize, Guarded, Screen):
    """Config on the left; loss curves, weights and status on the right."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """Textual's, without repainting the whole screen at each move of focus (a full frame, 10-20 ms
    at 120x36 while training): the widgets that gain and lose focus restyle and repaint themselves."""

    BINDINGS = [
        key("space", "toggle_training", "Train/pause", title="Start / pause training",
            help="Train on a worker; press again to pause"),
        key("n", "single_step", "Step", title="One step", help="Make exactly one update and show it"),
        key("r", "reset", "Reset", title="Reset weights", help="Back to the starting weights (the seed's, or the config's exact weights) and clear the history"),
        key("plus,equals_sign", "lr_up", "LR+", key_display="+", title="Learning rate up",
            help="Next notch on the 1-2-5 ladder, at once"),
        key("minus", "lr_down", "LR-", key_display="-", title="Learning rate down",
            help="Previous notch on the 1-2-5 ladder, at once"),
        key("greater_than_sign", "pace(1)", "Faster", show=False, key_display=">", title="Faster pace",
            help="More updates a second, up to max (as fast as the machine goes)"),
        key("less_than_sign", "pace(-1)", "Slower", show=False, key_display="<", title="Slower pace",
            help="Fewer updates a second, down to one, to watch each step"),
        key("l", "toggle_log", "Log", show=False, title="Log scale", help="Plot the loss on a logarithmic axis"),
        key("left_square_bracket", "layer(-1)", "Layer", show=False, key_display="[", title="Previous layer",
            help="Show the previous layer's weight matrix"),
        key("right_square_bracket", "layer(1)", "Layer", show=False, key_display="]", title="Next layer",
            help="Show the next layer's weight matrix"),
        key("v", "cycle_view", "View", show=False, title="Heatmap view",
            help="Cycle weights / last gradient / last update"),
        key("c", "toggle_config", "Config", title="Config pane",
            help="To the config pane, at the field left there; from the config pane, back to the plots"),
        key("escape", "leave_field", "Plots"),
        key("tab", "focus_pane(1)", "Next pane", show=False, priority=True),
        key("shift+tab", "focus_pane(-1)", "Previous pane", show=False, priority=True),
        key("ctrl+s", "save", "Save", show=False, title="Save experiment", help="Write the config and model to files"),
        key("ctrl+o", "load", "Load", show=False, title="Load experiment",
            help="Open a saved model (.npz) or config (.toml)"),
        key("question_mark", "help", "Help", key_display="?", help="Keys and what each pane shows"),
        key("q", "quit", "Quit", help="Stop training and leave"),
        # L (the lessons) from a config field too, where it would type: c there leaves a lesson, L comes
        # back to it; no field takes a capital L (numbers and choices)
        *(key(v.key, f"open_view('{v.name}')", v.description, show=False, help=v.help, priority=v.name == "lessons")
          for v in VIEWS),
    ]
    """The keys; those with help text are also the palette's commands (``keys.palette_entries``)."""
    PALETTE_EXTRA = CONFIG_COMMANDS

    def __init__(self, training: SessionLink, *, source: str = "") -> None:
        super().__init__()
        self.training = training
        """The session's link: its worker, its copies, the commands every screen shares."""
        self.source = source
        self._stale = False
        self._skip_reset_question = False

    @property
    def session(self) -> Session:
        return self.training.session

    @property
    def running(self) -> bool:
        return self.training.running

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield ConfigPane(self.session.config, dataset=self.session.experiment.dataset, id="config")
            with Vertical(id="main"):
                yield LossPlot(id="loss")
                with Horizontal(id="lower"):
                    yield LayerView(id="weights")
                    yield StatusPane(id="status")
        yield Static(
            f"Please enlarge the terminal to at least {MIN_SIZE[0]} x {MIN_SIZE[1]} characters.",
            id="too-small",
        )
        yield KeyFooter()

    def on_mount(self) -> None:
        training = self.training
        training.subscribe(self, self._show)
        training.subscribe_end(self, self._ended)
        training.subscribe_changed(self, self._reload_config_pane)
        training.start_check = self._start_problem
        training.publish(self.session.snapshot())
        self.query_one(LayerView).focus()
        self._layout_for(self.size.width, self.size.height)

    def _start_problem(self) -> str | None:
        """Why training cannot start: the config fields holding bad values, each named."""
        problems = self._config_pane().problems
        if not problems:
            return None
        said = "; ".join(f"{field}: {message}" for field, message in problems.items())
        return f"Fix the settings first: {said} (c: the config pane, where they are highlighted)."

    def on_unmount(self) -> None:
        """However the app ends, let a training thread (running or paused) return, and close the
        run being recorded (after the step under way, if one is)."""
        self.training.stop_soon()
        self.session.end_run()

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        self.set_class(width < NARROW_WIDTH, "-narrow")
        self.set_class(width < MIN_SIZE[0] or height < MIN_SIZE[1], "-too-small")

    # -- the session's copies --------------------------------------------------------------

    def _ended(self, error: BaseException | None) -> None:
        """A run has ended: say why when it is news (an error, a divergence)."""
        self.training.report_recording()
        if error is not None:
            self.notify(self.session.message or f"Training stopped by an error: {error}", severity="error",
                        timeout=10)
            self.training.publish(self.session.snapshot())
        elif self.session.state == "diverged":
            self.notify(self.session.message, title="Diverged", severity="error", timeout=10)
        elif self.session.trainer.early_stop is not None and self.session.message:
            self.notify(self.session.message, title="Early stopping", timeout=10)

    def _show(self, snap: Snapshot) -> None:
        if self.app.screen is not self and not isinstance(self.app.screen, ModalScreen):
            # Hidden behind a full screen: drawing panes nobody sees would take time from the
            # view and the trainer. They catch up when this screen is shown again.
            self._stale = True
            return
        if snap.state == "training":  # keys first: live panes wait for keys coming to stop
            wait = keys_first(self.app, self._drawn_at, monotonic())
            if wait > 0:
                if self._later is None:
                    self._later = self.set_timer(wait, self._draw_latest, name="panes after keys")
                return
        self._draw(snap)

    def _draw_latest(self) -> None:
        self._later = None
        if self.training.last is not None:
            self._show(self.training.last)

    def on_screen_resume(self) -> None:
        if self._stale and self.training.last is not None:
            self._draw(self.training.last)

    _drawn_at = float("-inf")
    """When (``time.monotonic``) the panes last showed a snapshot."""
    _later: Timer | None = None
    """The timer that draws the latest snapshot once keys have stopped coming (``keys_first``)."""

    def _draw(self, snap: Snapshot) -> None:
        self._stale = False
        self._drawn_at = monotonic()
        if self._later is not None:
            self._later.stop()
            self._later = None
        self.query_one(StatusPane).show(snap)
        label = self.session.loss_label
        current = {label: snap.loss}
        if snap.val_loss is not None:
            current["val loss"] = snap.val_loss
        if snap.penalty:  # what the steps minimize is the loss plus this
            current["penalty"] = snap.penalty
        self.query_one(LossPlot).update_series(
            snap.loss_x, snap.loss_y, snap.val_x, snap.val_y, label=label, current=current,
            live=snap.state == "training", best_step=snap.best_step, note=plot_note(snap),
        )
        self.query_one(LayerView).show(snap)

    # -- actions ---------------------------------------------------------------------------

    def action_toggle_training(self) -> None:
        self.training.toggle()

    def action_single_step(self) -> None:
        self.training.single_step()

    @work(exclusive=True, group="files")
    async def action_reset(self) -> None:
        """The starting weights again (drawn from the config's seed, so the same start each time);
        asks first when that would throw away training."""
        seed = self.session.config.training.seed
        if self.session.trained and not self._skip_reset_question:
            answer = await self.app.push_screen_wait(ConfirmDialog(
                f"Reset: back to the starting weights (seed {seed}) and throw away the training so far?",
                yes="Reset", no="Keep", also="Reset, don't ask again",
            ))
            if not answer:
                return
            self._skip_reset_question = answer == "also"
        await self.training.reset_weights()
        seed = self.session.config.training.seed
        self.notify(f"Weights drawn again from seed {seed} (the same start); history cleared. "
                    "Change the seed in the config for other weights.", timeout=5)

    def action_lr_up(self) -> None:
        self._change_lr(+1)

    def action_lr_down(self) -> None:
        self._change_lr(-1)

    def _change_lr(self, direction: int) -> None:
        current = self.session.config.optimizer.lr
        lr = lr_notch(current, direction)
        if (lr - current) * direction <= 0:  # at (or past) the end of the ladder: left as it is
            self.app.notify(f"learning rate {current:g}: {'+ goes no higher' if direction > 0 else '- goes no lower'}",
                            setting=True)
            return
        self.session.set_lr(lr)
        self._config_pane().show_lr(lr)
        self.training.show_current()
        self.app.notify(f"learning rate {lr:g}", setting=True)

    def action_pace(self, direction: int) -> None:
        """Slower (-1) or faster (+1) training, on the main screen and in every view."""
        self.training.pace(direction)

    def action_toggle_log(self) -> None:
        plot = self.query_one(LossPlot)
        plot.log_scale = not plot.log_scale

    def action_layer(self, delta: int) -> None:
        self.query_one(LayerView).move_layer(delta)

    def action_cycle_view(self) -> None:
        self.query_one(LayerView).cycle_view()

    def _config_pane(self) -> ConfigPane:
        return self.query_one(ConfigPane)

    def _reload_config_pane(self) -> None:
        self._config_pane().load(self.session.config, self.session.experiment.dataset)

    def _in_config(self) -> bool:
        """Whether focus is in the config pane (a field, or a list opened from one)."""
        focused, pane = self.focused, self._config_pane()
        return focused is not None and (focused is pane or pane in focused.ancestors)

    def footer_description(self, binding) -> str:
        """What a key does where focus is, for the footer ("" leaves it out): c goes to the config
        pane, and from it back to the plots; in a text field, where c types, Escape says it does."""
        if binding.action == "toggle_config":
            return "Plots" if self._in_config() else "Config"
        if binding.action == "leave_field":
            return binding.description if self._in_config() and isinstance(self.focused, Input) else ""
        return binding.description

    def action_toggle_config(self) -> None:
        """c: to the config pane (in place of the plots on a narrow terminal), at the field left
        there; from the config pane, back to the plots."""
        if self._in_config():
            self.action_leave_field()
        else:
            self.open_config()

    def open_config(self) -> None:
        """To the config pane (in place of the plots on a narrow terminal), at the field left there."""
        self.add_class("-config-open")
        self._config_pane().focus_last()

    def action_config_field(self, field_id: str) -> None:
        """A config command from the palette: the pane shown, the field focused (a list opened)."""
        self.add_class("-config-open")
        self._config_pane().focus_field(field_id)

    def action_add_layer(self) -> None:
        self.add_class("-config-open")
        self._config_pane().add_layer()

    def action_remove_layer(self) -> None:
        self.add_class("-config-open")
        self._config_pane().remove_layer()

    def action_leave_field(self) -> None:
        """Escape: out of a config field to the heatmap (the plots back in place of the config pane
        on a narrow terminal); c comes back to that field."""
        self.remove_class("-config-open")
        self.query_one(LayerView).focus()

    def action_focus_pane(self, delta: int) -> None:
        panes = [self._config_pane(), self.query_one(LayerView), self.query_one(StatusPane)]
        if self.has_class("-narrow") and not self.has_class("-config-open"):
            panes = [p for p in panes if not isinstance(p, ConfigPane)]
        focused = self.focused
        current = next((i for i, p in enumerate(panes) if focused is not None and (focused is p or p in focused.ancestors)), -1)
        target = panes[(current + delta) % len(panes)]
        if isinstance(target, ConfigPane):
            target.focus_last()
        else:
            target.focus()

    def action_open_view(self, name: str) -> None:
        """Open one of the extra views (optimizer lab, inside the network)."""
        if isinstance(self.focused, Input) and self._in_config():  # L from a field: what it holds applies
            self.action_leave_field()
        self.app.push_screen(view_named(name).factory(self.training))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(type(self)))

    async def action_quit(self) -> None:
        await self.training.stop()
        self.app.exit()

    # -- config changes --------------------------------------------------------------------

    @on(ConfigPane.Changed)
    def _on_config_changed(self, message: ConfigPane.Changed) -> None:
        """Live changes at once; new weights at once when nothing is lost, else after asking.

        Handled in the order the pane sends them, so that the session always ends up with the
        form's latest config (a rebuild finishing late must not bring back an older one).
        """
        config = message.config
        old = self.session.config.optimizer
        kind = change_kind(self.session.config, config)
        if kind == "live":
            try:
                self.session.apply_live(config)
            except ValueError as exc:
                self.notify(f"Not applied: {exc}", severity="error", timeout=8)
                self._reload_config_pane()
                return
            self.training.show_current()
            new = self.session.config.optimizer
            if new.name != old.name and new.lr != old.lr:  # the pane gave it the new optimizer's own rate
                self.notify(f"lr {old.lr:g} -> {new.lr:g}: {new.name}'s default (the lr field changes it)", timeout=6)
        elif kind == "structural":
            if self.session.trained or self.running:
                self._ask_and_rebuild(config)
            else:
                self.training.rebuild_stopped(config)

    @work(exclusive=True, group="config")
    async def _ask_and_rebuild(self, config: ExperimentConfig) -> None:
        """New weights for ``config`` once the user agrees to lose the training."""
        old = self.session.config
        if self.session.trained and not await self.app.push_screen_wait(ConfirmDialog(
            "This change needs new weights: reset the trained network and apply it, or undo the change "
            "and keep the network?", yes="Reset and apply", no="Undo the change",
        )):
            self._reload_config_pane()
            self.notify(f"Change undone: {undone_text(old, config)} (the trained network kept)", timeout=6)
            if not self._in_config():  # left by Escape or Tab: back to the field, to change it again
                self.add_class("-config-open")
                self._config_pane().focus_last()
            return
        await self.training.rebuild(config)

    # -- save and load ---------------------------------------------------------------------

    @work(exclusive=True, group="files")
    async def action_save(self) -> None:
        path = await self.app.push_screen_wait(
            PathDialog("Save the experiment (model .npz; the config goes beside it as .toml)", "experiment.npz")
        )
        if not path:
            return
        model = Path(path).expanduser()
        if model.suffix != ".npz":
            model = model.with_suffix(".npz")
        config = model.with_suffix(".toml")
        existing = [p.name for p in (model, config) if p.exists()]
        if existing and not await self.app.push_screen_wait(
            ConfirmDialog(f"{', '.join(existing)} already exist. Overwrite?", yes="Overwrite", no="Cancel")
        ):
            return
        current = self.session.config
        try:
            await asyncio.wrap_future(self.session.save(model))
            save_config(current, config)
        except Exception as exc:  # any failure is a message: the training goes on
            self.notify(f"Could not save {about(model, exc)}", severity="error", timeout=8)
        else:
            self.notify(f"Saved {model} and {config.name}", timeout=4)

    async def _read_with_data(self, model: Path, trained_on: str) -> Loaded | None:
        """``model`` with the data file the user names (it was trained on ``trained_on``)."""
        answer = await self.app.push_screen_wait(
            PathDialog(f"{model.name} was trained on a data file. The CSV to go on with:", trained_on)
        )
        if not answer:
            return None
        data = Path(answer).expanduser()
        try:
            return await asyncio.to_thread(read_experiment, model, data_path=data)  # off the event loop
        except Exception as exc:
            self.notify(f"Could not load {model} with {about(data, exc)}", severity="error", timeout=8)
            return None

    @work(exclusive=True, group="files")
    async def action_load(self) -> None:
        path = await self.app.push_screen_wait(
            PathDialog("Open a saved model (.npz) or an experiment config (.toml)", "experiment.npz")
        )
        if not path:
            return
        file = Path(path).expanduser()
        problem = unreadable(file)
        if problem:
            self.notify(f"Could not load {file}: {problem}", severity="error", timeout=8)
            return
        try:
            loaded = await asyncio.to_thread(read_experiment, file)  # off the event loop: a large file
        except DataFileNeeded as exc:  # a model's config never opens a file by itself: ask
            loaded = await self._read_with_data(file, exc.trained_on)
        except Exception as exc:  # a bad file is a message; the training so far goes on
            self.notify(f"Could not load {about(file, exc)}", severity="error", timeout=8)
            return
        if loaded is None:
            return
        if self.session.trained and not await self.app.push_screen_wait(
            ConfirmDialog("Replace the current training with the loaded experiment?", yes="Load", no="Cancel")
        ):
            return
        await self.training.use(loaded)
        self.notify(f"Loaded {path}", timeout=4)
