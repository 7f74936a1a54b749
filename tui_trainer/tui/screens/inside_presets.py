"""Presets: pick a ready-made experiment; the session is rebuilt from it.

Choosing one asks first when the current network has been trained, then stops any training and
rebuilds the session through its link (``SessionLink.rebuild``, as a structural config change
does): the config pane and every screen showing the session follow.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...experiments.config import ExperimentConfig
from ...experiments.presets import PRESETS, get_preset
from ...experiments.session import Snapshot
from ..widgets.safe_select import SafeOptionList
from .dialogs import ConfirmDialog
from .inside_base import InsideScreen


class PresetsScreen(InsideScreen):
    """The list of presets; Enter loads one."""

    VIEW_TITLE = "Presets"

    DEFAULT_CSS = """
    PresetsScreen #presets-note { height: auto; padding: 0 1; color: $text-muted; }
    PresetsScreen OptionList { height: 1fr; margin: 0 1; }
    """

    def compose_view(self) -> ComposeResult:
        yield Static("Ready-made experiments, each showing one idea. Enter loads one "
                     "(fresh weights; the current training is replaced).", id="presets-note")
        options = []
        for name, preset in PRESETS.items():
            label = Text()
            label.append(name, style="bold")
            if preset.view:
                label.append(f"   (then press {preset.view})", style="dim")
            label.append(f"\n  {preset.description}")
            options.append(Option(label, id=name))
        yield SafeOptionList(*options)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(OptionList).focus()

    def draw(self, snap: Snapshot) -> None:
        pass  # only the title line follows training

    def action_presets(self) -> None:
        """Already here: p does nothing more."""

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_id is not None:
            self.load(event.option_id)

    @work(exclusive=True, group="preset")
    async def load(self, name: str) -> None:
        """Replace the main screen's experiment with preset ``name`` (asking first if trained)."""
        if not await load_preset(self, name):
            return
        preset = PRESETS[name]
        hint = f"; press {preset.view} to see it" if preset.view else ""
        self.action_close()
        self.app.notify(f"{name} loaded: space trains{hint}.", timeout=5)


async def load_preset(screen: InsideScreen, name: str, config: ExperimentConfig | None = None, *,
                      edited: bool = False) -> bool:
    """Replace the session's experiment with preset ``name`` (``config``: that preset changed, e.g.
    to a lesson's epoch budget), asking first when the network has been trained or (``edited``) its
    config holds changes that would be lost: False when the user keeps it or the preset cannot be
    built. From a worker (it waits for the dialog)."""
    trained = screen.session.trained
    if (trained or edited) and not await screen.app.push_screen_wait(ConfirmDialog(
        f"Replace the {'trained network' if trained else 'current settings (edited or loaded, no preset as it comes)'} "
        f"with the preset {name}?", yes="Load", no="Cancel")
    ):
        return False
    return await screen.training.rebuild(get_preset(name) if config is None else config)
