"""The shell every chart widget shares (the loss plot, the lab's multi-curve plot, the line chart).

A chart fills its content box (at least 4 rows) and draws through Textual's line API the strips of its
latest build at the current size: each line padded or cut to the width, every segment styled (Textual's
NO_COLOR filter cannot take a segment without a style), and while there is nothing to plot, its hint
centred. A subclass builds the strips (``show_built``) when its data or size changes.
"""

from __future__ import annotations

from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from .plotting import hint_strips, styled

NULL_STYLE = Style()


class Chart(Widget):
    """A widget drawn from strips built off ``render_line`` (see the module)."""

    DEFAULT_CSS = """
    Chart {
        width: 1fr;
        height: 1fr;
        min-height: 4;
    }
    Chart > .chart--hint {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES = {"chart--hint"}
    """``chart--hint``: the text shown while there is nothing to plot."""

    def __init__(self, *, hint: str = "", name: str | None = None, id: str | None = None,  # noqa: A002
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.hint = hint
        """What the chart says while it has nothing to plot."""
        self._lines: list[Strip] = []
        self._empty = True

    @property
    def is_empty(self) -> bool:
        """Whether the hint is showing (nothing was plotted)."""
        return self._empty

    def fill_style(self) -> Style:
        """What pads a line and lies under every segment: none (the screen's background shows)."""
        return NULL_STYLE

    def show_built(self, strips: list[Strip] | None, width: int, height: int) -> None:
        """Draw ``strips`` from now on (None: nothing to plot, the hint instead)."""
        self._empty = strips is None
        if strips is None:
            strips = hint_strips(self.hint, self.get_component_rich_style("chart--hint"), width, height,
                                 self.fill_style())
        self._lines = [styled(strip) for strip in strips[:height]]

    def current_lines(self) -> list[Strip]:
        """The strips to draw now."""
        return self._lines

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        fill = self.fill_style()
        lines = self.current_lines()
        if y >= len(lines):
            return Strip.blank(width, fill)
        strip = lines[y]
        if strip.cell_length != width:
            strip = strip.adjust_cell_length(width, fill)
        return strip.apply_style(fill) if fill else strip
