"""Small modal dialogs: a yes/no question and a file path prompt."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from ..screen_size import AtAppSize

DIALOG_CSS = """
.dialog-question {
    width: 100%;
}
"""
"""A question or prompt as wide as the box, so that a long one wraps instead of being cut off
(a Label is as wide as its text by default)."""


class Dialog(AtAppSize, ModalScreen):
    """A modal dialog that answers once: a second press of a button (or Enter twice) can reach it
    before it has gone, and ``dismiss`` pops whichever screen is on top, the one under it then.

    Its texts are shown as they are, never read as markup: they hold file names the user typed
    (``run[1].npz``), which markup would garble or fail on."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [  # along the buttons (a text field takes these keys first, for its cursor)
        Binding("left", "next_button(-1)", "Previous button", show=False),
        Binding("right", "next_button(1)", "Next button", show=False),
    ]
    _answered = False

    def action_next_button(self, delta: int) -> None:
        """Focus the button beside the focused one (none past either end)."""
        buttons = list(self.query(Button).results())
        if self.focused in buttons:
            index = buttons.index(self.focused) + delta
            if 0 <= index < len(buttons):
                buttons[index].focus()

    @property
    def open(self) -> bool:
        """Not answered yet, and on top: a dialog taken off the stack (the command palette's double
        dismiss can pop one its command has just pushed) may still get its mount or a late key."""
        return not self._answered and self.is_attached and self.app.screen is self

    def answer(self, result) -> None:
        """Dismiss with ``result``, the first time only, and only while this dialog is on top."""
        if not self.open:
            return
        self._answered = True
        self.dismiss(result)

    def focus_first(self, selector: str) -> None:
        """Focus the first widget matching ``selector``, if the dialog is still open."""
        if self.open:
            for widget in self.query(selector).results():
                widget.focus()
                return


class ConfirmDialog(Dialog):
    """Asks before something is lost; Escape answers no."""

    BINDINGS = [Binding("escape", "answer(False)", "Cancel"), Binding("y", "answer(True)", show=False)]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No", also: str | None = None) -> None:
        super().__init__(classes="dialog")
        self.question, self.yes, self.no, self.also = question, yes, no, also

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.question, classes="dialog-question", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(Text(self.no), id="no")
                yield Button(Text(f"{self.yes} (y)"), id="yes", variant="warning")  # y answers it from anywhere
                if self.also:
                    yield Button(Text(self.also), id="also")

    def on_mount(self) -> None:
        self.focus_first("#no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """True for yes, False for no, ``"also"`` for the third button (a yes that says more)."""
        self.answer("also" if event.button.id == "also" else event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.answer(answer)


class PathDialog(Dialog):
    """Asks for a file path; Enter accepts, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, default: str = "") -> None:
        super().__init__(classes="dialog")
        self.prompt, self.default = prompt, default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.prompt, classes="dialog-question", markup=False)
            yield Input(self.default, placeholder="path/to/file", id="path")
            yield Label("", id="path-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.focus_first("Input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.accept()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.accept()
        else:
            self.answer(None)

    def accept(self) -> None:
        """Answer with the typed path (Enter or the OK button); nothing once the dialog has closed."""
        if not self.open:
            return
        value = self.query_one(Input).value.strip()
        if not value:
            self.query_one("#path-error", Label).update("Type a file name, or press Escape.")
            return
        self.answer(value)

    def action_cancel(self) -> None:
        self.answer(None)
