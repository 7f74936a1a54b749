"""Charts for the line API: plots and plain text turned into Textual strips.

Every chart widget goes through this module. :func:`plot_strips` has ``experiments.charts`` draw a
:class:`Plot` with plotext (its public API only) and turns the ANSI text into Textual strips; the tick
helpers come from there too (re-exported here), so the app's charts and ``nn-tui runs compare`` read alike.
"""

from __future__ import annotations

import io
import re
import threading

from rich.ansi import AnsiDecoder
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from ...experiments.charts import (Color, Curve, Plot, Rule, linear_ticks, log_ticks, plot_text, plotext_version,
                                   y_axis, y_range)

__all__ = [
    "Color",
    "Curve",
    "Plot",
    "Rule",
    "ansi_strips",
    "hint_strips",
    "linear_ticks",
    "log_ticks",
    "plot_strips",
    "plotext_version",
    "styled",
    "text_strip",
    "y_axis",
    "y_range",
]

_LOCK = threading.RLock()
"""Keeps two threads from sharing the ANSI decoder at once."""

# -- strips ------------------------------------------------------------------------------------------

# Renders Rich text to segments; nothing is printed through it.
_CONSOLE = Console(file=io.StringIO(), width=1000, color_system="truecolor", force_terminal=True)
_NULL_STYLE = Style()


def text_strip(text: Text, width: int) -> Strip:
    """One line of Rich text as a strip of exactly ``width`` cells."""
    return Strip(text.render(_CONSOLE), text.cell_len).adjust_cell_length(width)


def hint_strips(hint: str, style: Style, width: int, height: int, blank: Style | None = None) -> list[Strip]:
    """What an empty chart shows: ``hint`` centred on the middle line, blank lines above it."""
    text = Text(hint, style=style)
    text.truncate(width, overflow="ellipsis")
    text.align("center", width)
    return [Strip.blank(width, blank)] * ((height - 1) // 2) + [text_strip(text, width)]


def styled(strip: Strip) -> Strip:
    """The strip with a Style on every segment: Textual's NO_COLOR filter cannot take None."""
    if all(seg.style is not None for seg in strip):
        return strip
    return Strip(
        [seg if seg.style is not None else Segment(seg.text, _NULL_STYLE, seg.control) for seg in strip],
        strip.cell_length,
    )


_SGR_RUN = re.compile(r"((?:\x1b\[[0-9;]*m)+)")
_sgr_styles: dict[tuple[Style, str], Style] = {}
_DECODER = AnsiDecoder()


def _after(style: Style, codes: str) -> Style:
    """The style in force after the escape codes ``codes``, from ``style`` (cached: plots use a few colours)."""
    key = (style, codes)
    found = _sgr_styles.get(key)
    if found is None:
        with _LOCK:
            _DECODER.style = style
            _DECODER.decode_line(codes)  # only updates the decoder's style: there is no text
            found = _DECODER.style
        if len(_sgr_styles) > 4096:  # an endless stream of new RGB colours: start again
            _sgr_styles.clear()
        _sgr_styles[key] = found
    return found


def ansi_strips(ansi: str, width: int) -> list[Strip]:
    """Terminal text with SGR colour codes (what plotext prints), one strip of ``width`` cells a line.

    Reads what Rich's ``Text.from_ansi`` would, styles included, at a fraction of its cost: a plot uses a
    handful of escape sequences, each turned into a Rich style once.
    """
    strips = []
    style = Style.null()
    for line in ansi.removesuffix("\n").split("\n"):
        segments = []
        parts = _SGR_RUN.split(line)  # text, codes, text, codes, ..., text
        for i in range(0, len(parts), 2):
            if i:
                style = _after(style, parts[i - 1])
            if parts[i]:
                segments.append(Segment(parts[i], style or None))
        strips.append(Strip(segments).adjust_cell_length(width))
    return strips


# -- plots -------------------------------------------------------------------------------------------


def plot_strips(plot: Plot) -> list[Strip]:
    """``plot`` drawn by plotext, as ``plot.height`` strips of ``plot.width`` cells (row 0 at the top)."""
    ansi = plot_text(plot)
    strips = ansi_strips(ansi, plot.width)[: plot.height]
    return strips + [Strip.blank(plot.width)] * (plot.height - len(strips))
