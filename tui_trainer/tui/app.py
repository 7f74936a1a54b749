"""The nn-tui Textual app: a thin shell around the main screen."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual.app import App, SystemCommand
from textual.screen import Screen

from ..config import ExperimentConfig
from .screens.main import MainScreen


class NNTuiApp(App):
    """Build and train a neural network, and watch it learn."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so that subclasses elsewhere find it
    TITLE = "nn-tui"
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, config: ExperimentConfig | None = None, *, source: str = "") -> None:
        super().__init__()
        self._config = config
        self._source = source

    def get_default_screen(self) -> Screen:
        return MainScreen(self._config, source=self._source)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every key binding of the screen is also a command in the palette."""
        yield from super().get_system_commands(screen)
        for binding in getattr(screen, "PALETTE", ()):
            key, action, description, help_text = binding
            yield SystemCommand(
                f"{description} ({key})", help_text, lambda a=action: screen.run_action(a)
            )
