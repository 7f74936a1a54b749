"""The lanes of an optimizer-lab screen: one line each, with an on/off mark, an editable learning rate and
the lane's latest numbers.

A lane is an optimizer (or a batch mode of one). Number keys toggle lanes (the screen binds them and calls
:meth:`LaneList.toggle`), up/down move the highlight, and the learning-rate field of each lane checks what is
typed as it is typed: a bad value turns the field red and says why in the lane's own line.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static

from ...engine.numbers import significant
from ...experiments.hparam_text import parse_positive
from .lane_colors import RGB, rgb

__all__ = ["LaneList", "LaneSpec", "parse_lr"]


@dataclass(frozen=True)
class LaneSpec:
    """One lane as the list shows it."""

    key: str
    """Identifier, e.g. the optimizer's name or ``full``."""
    label: str
    color: RGB
    """The colour of the lane's curve or path (see ``lane_colors``)."""
    letter: str
    """The lane's letter: its marker without colour."""
    lr: float
    """The learning rate the field starts with."""


def parse_lr(text: str) -> float:
    """A learning rate from a field, or ``ValueError`` saying what is allowed."""
    return parse_positive(text, "lr")


class LaneRow(Horizontal):
    """One lane: ``1 ✓ S sgd  [0.1    ]  numbers``."""

    def __init__(self, spec: LaneSpec, number: int, *, enabled: bool = True) -> None:
        super().__init__(classes="lane-row")
        self.spec = spec
        self.number = number
        self.enabled = enabled
        self.error: str | None = None
        self._result: Text | str = ""

    def compose(self) -> ComposeResult:
        yield Static(self._name_text(), classes="lane-name")
        yield Input(significant(self.spec.lr), compact=True, classes="lane-lr", select_on_focus=True)
        yield Static("", classes="lane-result")

    def _name_text(self) -> Text:
        style = Style(color=rgb(self.spec.color), bold=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{self.number} " if self.number < 10 else "  ", style="dim")
        text.append("✓ " if self.enabled else "· ", style="bold" if self.enabled else "dim")
        text.append(f"{self.spec.letter} ", style=style if self.enabled else "dim")
        text.append(self.spec.label, style=style if self.enabled else Style(dim=True, strike=True))
        return text

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        self.set_class(not enabled, "-off")
        self.query_one(".lane-name", Static).update(self._name_text())

    def set_result(self, result: Text | str) -> None:
        self._result = result
        if self.error is None:
            self.query_one(".lane-result", Static).update(result)

    def check(self) -> float | None:
        """The field's learning rate; None (and the reason shown in the line) when it is not valid."""
        field = self.query_one(Input)
        try:
            lr = parse_lr(field.value)
        except ValueError as exc:
            self.error = str(exc)
        else:
            self.error = None
        field.set_class(self.error is not None, "-invalid")
        result = self.query_one(".lane-result", Static)
        result.update(Text(f"✗ {self.error}", style="bold red") if self.error else self._result)
        return None if self.error else lr

    def on_click(self) -> None:
        self.post_message(LaneList.Clicked(self))


class LaneList(Vertical):
    """A header line and one :class:`LaneRow` per lane; one lane is highlighted (its explanation shows)."""

    DEFAULT_CSS = """
    LaneList {
        height: auto;
    }
    LaneList > .lane-header {
        height: 1;
        color: $text-muted;
        text-style: bold;
    }
    LaneList LaneRow {
        height: 1;
    }
    LaneList LaneRow.-highlight {
        background: $boost;
    }
    LaneList LaneRow.-highlight > .lane-name {
        text-style: bold;
    }
    LaneList .lane-name {
        width: 15;
    }
    LaneList .lane-lr {
        width: 9;
        margin-right: 1;
    }
    LaneList LaneRow.-off .lane-lr {
        color: $text-disabled;
    }
    LaneList .lane-result {
        width: 1fr;
    }
    """

    class Changed(Message):
        """A lane was switched on or off, or a learning rate was changed."""

        def __init__(self, lanes: LaneList) -> None:
            super().__init__()
            self.lanes = lanes

        @property
        def control(self) -> LaneList:
            return self.lanes

    class Highlighted(Message):
        """Another lane is highlighted."""

        def __init__(self, lanes: LaneList, key: str) -> None:
            super().__init__()
            self.lanes = lanes
            self.key = key

        @property
        def control(self) -> LaneList:
            return self.lanes

    class Clicked(Message):
        """A row was clicked (internal)."""

        def __init__(self, row: LaneRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, specs: list[LaneSpec], *, header: Text | str = "", enabled: set[str] | None = None,
                 id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self.specs = list(specs)
        self._header = header
        self._enabled = set(enabled) if enabled is not None else {s.key for s in specs}
        self.highlighted = self.specs[0].key
        """The key of the highlighted lane."""

    def compose(self) -> ComposeResult:
        yield Static(self._header, classes="lane-header")
        for number, spec in enumerate(self.specs, 1):
            yield LaneRow(spec, number, enabled=spec.key in self._enabled)

    def on_mount(self) -> None:
        self._show_highlight()
        for row in self.rows:
            row.set_class(not row.enabled, "-off")

    @property
    def rows(self) -> list[LaneRow]:
        return list(self.query(LaneRow))

    def row(self, key: str) -> LaneRow:
        return next(r for r in self.rows if r.spec.key == key)

    def set_header(self, header: Text | str) -> None:
        self._header = header
        self.query_one(".lane-header", Static).update(header)

    def enabled(self) -> list[LaneSpec]:
        """The lanes switched on, in order."""
        return [r.spec for r in self.rows if r.enabled]

    def toggle(self, number: int) -> None:
        """Switch lane ``number`` (1-based) on or off, and highlight it."""
        rows = self.rows
        if not 1 <= number <= len(rows):
            return
        row = rows[number - 1]
        row.set_enabled(not row.enabled)
        self.highlight(row.spec.key)
        self.post_message(self.Changed(self))

    def highlight(self, key: str) -> None:
        if key != self.highlighted:
            self.highlighted = key
            self._show_highlight()
            self.post_message(self.Highlighted(self, key))

    def move_highlight(self, delta: int) -> None:
        keys = [s.key for s in self.specs]
        self.highlight(keys[(keys.index(self.highlighted) + delta) % len(keys)])

    def _show_highlight(self) -> None:
        for row in self.rows:
            row.set_class(row.spec.key == self.highlighted, "-highlight")

    def learning_rates(self) -> tuple[dict[str, float], list[str]]:
        """The learning rate of every enabled lane, and the problems (``label: reason``) of the others."""
        lrs, problems = {}, []
        for row in self.rows:
            lr = row.check()
            if not row.enabled:
                continue
            if lr is None:
                problems.append(f"{row.spec.label}: {row.error}")
            else:
                lrs[row.spec.key] = lr
        return lrs, problems

    def set_lr(self, key: str, lr: float) -> None:
        self.row(key).query_one(Input).value = significant(lr)

    def set_result(self, key: str, result: Text | str) -> None:
        self.row(key).set_result(result)

    def clear_results(self) -> None:
        for row in self.rows:
            row.set_result("")

    @on(Input.Changed, ".lane-lr")
    def _lr_typed(self, event: Input.Changed) -> None:
        event.stop()
        row = next(a for a in event.input.ancestors if isinstance(a, LaneRow))
        row.check()

    @on(Input.Submitted, ".lane-lr")
    def _lr_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        row = next(a for a in event.input.ancestors if isinstance(a, LaneRow))
        if row.check() is not None:
            self.post_message(self.Changed(self))
            self.screen.set_focus(None)

    @on(Input.Blurred, ".lane-lr")
    def _lr_left(self, event: Input.Blurred) -> None:
        row = next(a for a in event.input.ancestors if isinstance(a, LaneRow))
        if row.check() is not None:
            self.post_message(self.Changed(self))

    def on_descendant_focus(self, event) -> None:
        row = next((a for a in event.widget.ancestors_with_self if isinstance(a, LaneRow)), None)
        if row is not None:
            self.highlight(row.spec.key)

    @on(Clicked)
    def _clicked(self, event: Clicked) -> None:
        event.stop()
        self.highlight(event.row.spec.key)
