"""One layer's weight matrix (and bias) as a colour heatmap with a cursor.

The matrix ``W`` has shape ``(n_in, n_out)``: rows are the layer's inputs, columns its nodes. Drawing uses
Textual's line API: every text line shows two matrix half-rows with an upper half block ``▀`` (foreground = the
upper value, background = the lower one), runs of equal colour become one segment, and the strips of the matrix
are cached until the data, the size or the styles change. Colours come from :mod:`.colormap`, which also chooses
a 16-colour or a glyph palette where truecolor is not available.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from ...engine.numbers import readout, significant
from ...experiments.wording import plural
from . import colormap
from .colormap import Palette

__all__ = ["HeatmapLayout", "WeightHeatmap"]

_NICE_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
"""Label spacings to choose from, in displayed cells."""
_HALF_BLOCK = "▀"
_SEPARATOR = "   "


def _pick_step(spacing: int, needed: int) -> int:
    """The smallest nice step such that ``step * spacing >= needed``."""
    for step in _NICE_STEPS:
        if step * spacing >= needed:
            return step
    return _NICE_STEPS[-1]


def _fit(variants: list[str], width: int) -> str:
    """The first variant that fits ``width`` cells, else the last one cut with an ellipsis."""
    for text in variants:
        if len(text) <= width:
            return text
    last = variants[-1]
    return last[: max(0, width - 1)] + "…" if width > 0 else ""


@dataclass
class HeatmapLayout:
    """Where everything goes for one widget size and one matrix (computed lazily, cached)."""

    width: int
    height: int
    palette: Palette
    per_line: int
    """Values stacked in one text line per displayed row unit: 2 with half blocks, 1 with glyphs."""
    gutter: int
    """Width of the row labels column (0 when too narrow)."""
    bias_label: str
    """The bias strip's label in the gutter: ``dL/db2`` in full where it costs the matrix no width,
    else ``b2``, else ``b``."""
    row_factor: int
    col_factor: int
    disp_rows: int
    disp_cols: int
    cell_w: int
    """Characters per displayed value."""
    cell_h: int
    """Half-rows (colour) or lines (glyphs) per displayed value."""
    display: np.ndarray
    """Block means, ``(disp_rows, disp_cols)``."""
    levels: np.ndarray
    """Colour levels of ``display``."""
    bias_display: np.ndarray | None
    header: list[list[tuple[str, Style]]]
    collabel_y: int | None
    matrix_y: int
    matrix_lines: int
    bias_y: int | None
    legend_y: int | None
    value_y: int | None
    body: list[Strip] = field(default_factory=list)
    """Cached strips of the matrix lines, without the row labels."""
    fixed: dict[int, Strip] = field(default_factory=dict)
    """Cached strips of lines that do not depend on the cursor."""
    row_labels: dict[int, str] | None = None
    """Cached regular row labels by matrix line."""

    @property
    def downsampled(self) -> bool:
        return self.row_factor > 1 or self.col_factor > 1


class WeightHeatmap(Widget, can_focus=True):
    """A heatmap of a weight matrix ``W`` (n_in x n_out) and its bias ``b`` (n_out), with a value cursor."""

    BINDINGS: list[BindingType] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("left", "cursor_left", "Left", show=False),
        Binding("right", "cursor_right", "Right", show=False),
        Binding("home", "cursor_home", "First node", show=False),
        Binding("end", "cursor_end", "Last node", show=False),
        Binding("pageup", "cursor_top", "First input", show=False),
        Binding("pagedown", "cursor_bottom", "Last input", show=False),
    ]

    COMPONENT_CLASSES = {
        "weight-heatmap--title",
        "weight-heatmap--note",
        "weight-heatmap--label",
        "weight-heatmap--cursor-label",
        "weight-heatmap--legend",
        "weight-heatmap--value",
        "weight-heatmap--hint",
    }
    """
    | Class | Description |
    | :- | :- |
    | `weight-heatmap--title` | The title line. |
    | `weight-heatmap--note` | The shape and downsampling notes. |
    | `weight-heatmap--label` | Row and column labels. |
    | `weight-heatmap--cursor-label` | The labels of the cursor's row and column. |
    | `weight-heatmap--legend` | The colour scale line. |
    | `weight-heatmap--value` | The value under the cursor. |
    | `weight-heatmap--hint` | The empty-state hint. |
    """

    DEFAULT_CSS = """
    WeightHeatmap {
        width: 1fr;
        height: 1fr;
        min-height: 4;
    }
    WeightHeatmap > .weight-heatmap--title { text-style: bold; }
    WeightHeatmap:focus > .weight-heatmap--title { text-style: bold underline; }
    WeightHeatmap > .weight-heatmap--note { color: $text-muted; }
    WeightHeatmap > .weight-heatmap--label { color: $text-muted; }
    WeightHeatmap > .weight-heatmap--cursor-label { text-style: bold reverse; }
    WeightHeatmap > .weight-heatmap--legend { color: $text; }
    WeightHeatmap > .weight-heatmap--value { text-style: bold; }
    WeightHeatmap > .weight-heatmap--hint { color: $text-muted; text-style: italic; }
    """

    cursor: reactive[tuple[int, int]] = reactive((0, 0), repaint=False)
    """The cursor as (row, col) in the matrix's own coordinates, clamped to the matrix.

    When the matrix is downsampled the cursor moves a whole displayed block at a time and sits on its first row
    and column."""

    class CursorMoved(Message):
        """Posted when the cursor moves to another value (or block of values)."""

        def __init__(
            self, heatmap: WeightHeatmap, row: int, col: int, value: float, rows: range, cols: range
        ) -> None:
            super().__init__()
            self.heatmap = heatmap
            """The heatmap that moved its cursor."""
            self.row = row
            """Row (input index) of the cursor."""
            self.col = col
            """Column (node index) of the cursor."""
            self.value = value
            """The value there; the block mean when the matrix is downsampled."""
            self.rows = rows
            """The rows the displayed cell covers (one row unless downsampled)."""
            self.cols = cols
            """The columns the displayed cell covers (one column unless downsampled)."""

        @property
        def control(self) -> WeightHeatmap:
            """The heatmap that posted the message."""
            return self.heatmap

    def __init__(
        self,
        matrix: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        *,
        title: str = "",
        symmetric_scale: float | None = None,
        palette: str | None = None,
        empty_hint: str = "no weights yet",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """Create a heatmap, empty or showing ``matrix``.

        Args:
            matrix: The weight matrix, shape (n_in, n_out), or None for the empty state.
            bias: The bias vector, shape (n_out,), or None.
            title: Title line, e.g. "W2 (16 x 16) weights".
            symmetric_scale: Colour scale ``s`` (the map spans -s..+s); None for the 99th percentile of |W|.
            palette: Force "smooth", "ansi16" or "glyphs"; None picks one from the app's colour system.
            empty_hint: Text shown while there is no matrix.
            name: The name of the widget.
            id: The ID of the widget in the DOM.
            classes: The CSS classes of the widget.
            disabled: Whether the widget is disabled.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        if palette is not None:
            colormap.select_palette(None, override=palette)  # validate early
        self._palette_override = palette
        self._empty_hint = empty_hint
        self._matrix: np.ndarray | None = None
        self._bias: np.ndarray | None = None
        self._title = ""
        self._symbol = "W"
        self._scale = 1.0
        self._min = 0.0
        self._max = 0.0
        self._data_version = 0
        self._style_version = 0
        self._layout: HeatmapLayout | None = None
        self._layout_key: tuple | None = None
        self._palette: Palette | None = None
        self._base: tuple[int, Style] | None = None
        if matrix is not None:
            self._store(matrix, bias, title=title, symmetric_scale=symmetric_scale)

    # ------------------------------------------------------------------ data

    def set_matrix(
        self,
        matrix: np.ndarray,
        bias: np.ndarray | None,
        *,
        title: str,
        symmetric_scale: float | None = None,
        symbol: str | None = None,
    ) -> None:
        """Show a new matrix (and bias); copies are kept. The cursor stays where it is if it still fits.

        Args:
            matrix: Shape (n_in, n_out); a 1-D array is shown as one row.
            bias: Shape (n_out,), or None.
            title: Title line, e.g. "W2 (16 x 16) weights".
            symmetric_scale: Colour scale ``s``; None for the 99th percentile of |matrix|.
            symbol: Name in the value line ("W2[3, 5] = ..."); None takes the title's first word.
        """
        self._store(matrix, bias, title=title, symmetric_scale=symmetric_scale, symbol=symbol)
        self.cursor = self._clamp(self.cursor)
        self.refresh()

    def clear(self) -> None:
        """Go back to the empty state."""
        self._matrix = None
        self._bias = None
        self._title = ""
        self._data_version += 1
        self.refresh()

    def _store(
        self,
        matrix: np.ndarray,
        bias: np.ndarray | None,
        *,
        title: str,
        symmetric_scale: float | None,
        symbol: str | None = None,
    ) -> None:
        m = np.array(matrix, dtype=float, copy=True)
        if m.ndim == 1:
            m = m.reshape(1, -1)
        if m.ndim != 2 or m.size == 0:
            raise ValueError(f"matrix must be a non-empty 2-D array, got shape {np.shape(matrix)}")
        b = None
        if bias is not None:
            b = np.array(bias, dtype=float, copy=True).ravel()
            if b.shape != (m.shape[1],):
                raise ValueError(f"bias must have shape ({m.shape[1]},), got {np.shape(bias)}")
        self._matrix = m
        self._bias = b
        self._title = title
        if symbol is None:
            words = title.split()
            symbol = words[0] if words and len(words[0]) <= 12 else "W"
        self._symbol = symbol
        if symmetric_scale is not None and np.isfinite(symmetric_scale) and symmetric_scale > 0:
            self._scale = float(symmetric_scale)
        else:
            self._scale = colormap.symmetric_scale(m)
        finite = m[np.isfinite(m)]
        self._min = float(finite.min()) if finite.size else float("nan")
        self._max = float(finite.max()) if finite.size else float("nan")
        self._data_version += 1

    @property
    def matrix(self) -> np.ndarray | None:
        """A copy of the matrix shown, or None."""
        return None if self._matrix is None else self._matrix.copy()

    @property
    def bias(self) -> np.ndarray | None:
        """A copy of the bias shown, or None."""
        return None if self._bias is None else self._bias.copy()

    @property
    def title(self) -> str:
        """The title line."""
        return self._title

    @property
    def scale(self) -> float:
        """The colour scale ``s``: the map spans -s..+s."""
        return self._scale

    @property
    def downsample(self) -> tuple[int, int]:
        """(rows, columns) averaged per displayed cell at the current size; (1, 1) when not downsampled."""
        layout = self.matrix_layout
        return (1, 1) if layout is None else (layout.row_factor, layout.col_factor)

    @property
    def palette(self) -> Palette:
        """The palette in use (from the app's colour system unless forced)."""
        if self._palette is None:
            if self._palette_override is not None:
                self._palette = colormap.select_palette(None, override=self._palette_override)
            else:
                try:
                    app = self.app
                except Exception:  # not mounted: no app to ask yet
                    return colormap.SMOOTH
                self._palette = colormap.select_palette(app.console.color_system, app.no_color)
        return self._palette

    def _base_style(self) -> Style:
        """The widget's own Rich style (colour and background), cached until the styles change."""
        if self._base is None or self._base[0] != self._style_version:
            self._base = (self._style_version, self.rich_style)
        return self._base[1]

    # ---------------------------------------------------------------- cursor

    def validate_cursor(self, cursor: tuple[int, int]) -> tuple[int, int]:
        return self._clamp(cursor)

    def _clamp(self, cursor: tuple[int, int]) -> tuple[int, int]:
        if self._matrix is None:
            return (0, 0)
        rows, cols = self._matrix.shape
        row, col = cursor
        return (min(max(int(row), 0), rows - 1), min(max(int(col), 0), cols - 1))

    def watch_cursor(self, old: tuple[int, int], cursor: tuple[int, int]) -> None:
        if self._matrix is None:
            return
        self._refresh_cursor_lines(old, cursor)
        rows, cols, value = self.cursor_block()
        self.post_message(self.CursorMoved(self, cursor[0], cursor[1], value, rows, cols))

    def _refresh_cursor_lines(self, old: tuple[int, int], new: tuple[int, int]) -> None:
        """Repaint only the lines the cursor touches: its old and new rows, the column labels, the value."""
        layout = self.matrix_layout
        if layout is None:
            self.refresh()
            return
        regions = []
        for row, _ in (old, new):
            display_row = min(row // layout.row_factor, layout.disp_rows - 1)
            first = (display_row * layout.cell_h) // layout.per_line
            last = ((display_row + 1) * layout.cell_h - 1) // layout.per_line
            regions.append(Region(0, layout.matrix_y + first, layout.width, last - first + 1))
        for y in (layout.collabel_y, layout.value_y):
            if y is not None:
                regions.append(Region(0, y, layout.width, 1))
        self.refresh(*regions)

    def cursor_block(self) -> tuple[range, range, float]:
        """The rows and columns of the displayed cell under the cursor and its (mean) value."""
        if self._matrix is None:
            return range(0), range(0), float("nan")
        row, col = self.cursor
        fr, fc = self.downsample
        n_rows, n_cols = self._matrix.shape
        r0, c0 = (row // fr) * fr, (col // fc) * fc
        rows, cols = range(r0, min(r0 + fr, n_rows)), range(c0, min(c0 + fc, n_cols))
        block = self._matrix[rows.start : rows.stop, cols.start : cols.stop]
        return rows, cols, float(block.mean())

    def _move(self, d_row: int = 0, d_col: int = 0) -> None:
        if self._matrix is None:
            return
        fr, fc = self.downsample
        row, col = self.cursor
        self.cursor = self._clamp(((row // fr + d_row) * fr, (col // fc + d_col) * fc))

    def action_cursor_up(self) -> None:
        """Move the cursor to the previous input (row)."""
        self._move(d_row=-1)

    def action_cursor_down(self) -> None:
        """Move the cursor to the next input (row)."""
        self._move(d_row=1)

    def action_cursor_left(self) -> None:
        """Move the cursor to the previous node (column)."""
        self._move(d_col=-1)

    def action_cursor_right(self) -> None:
        """Move the cursor to the next node (column)."""
        self._move(d_col=1)

    def action_cursor_home(self) -> None:
        """Move the cursor to the first node."""
        self.cursor = (self.cursor[0], 0)

    def action_cursor_end(self) -> None:
        """Move the cursor to the last node."""
        if self._matrix is not None:
            self._move(d_col=self._matrix.shape[1])

    def action_cursor_top(self) -> None:
        """Move the cursor to the first input."""
        self.cursor = (0, self.cursor[1])

    def action_cursor_bottom(self) -> None:
        """Move the cursor to the last input."""
        if self._matrix is not None:
            self._move(d_row=self._matrix.shape[0])

    def on_click(self, event: events.Click) -> None:
        """Put the cursor on the clicked cell."""
        layout = self.matrix_layout
        offset = event.get_content_offset(self)
        if layout is None or offset is None:
            return
        x = offset.x - layout.gutter
        half = (offset.y - layout.matrix_y) * layout.per_line
        if 0 <= x < layout.disp_cols * layout.cell_w and 0 <= half < layout.disp_rows * layout.cell_h:
            self.cursor = self._clamp(
                ((half // layout.cell_h) * layout.row_factor, (x // layout.cell_w) * layout.col_factor)
            )

    # --------------------------------------------------------------- styles

    def notify_style_update(self) -> None:
        self._style_version += 1
        super().notify_style_update()

    # --------------------------------------------------------------- layout

    @property
    def matrix_layout(self) -> HeatmapLayout | None:
        """Where the header, cells, bias strip, legend and value line go at the current size (None without a
        matrix): cell sizes and positions, public so that tests and mouse maths can find a cell."""
        width, height = self.size
        return self._get_layout(width, height)

    def _get_layout(self, width: int, height: int) -> HeatmapLayout | None:
        if self._matrix is None or width <= 0 or height <= 0:
            return None
        palette = self.palette
        key = (width, height, self._data_version, self._style_version, id(palette))
        if key != self._layout_key or self._layout is None:
            self._layout = self._compute_layout(width, height, palette)
            self._layout_key = key
        return self._layout

    def _header_items(self, downsample: tuple[int, int] | None) -> list[tuple[list[str], str]]:
        """Header texts (variants, longest first) with their component class."""
        assert self._matrix is not None
        rows, cols = self._matrix.shape
        items: list[tuple[list[str], str]] = []
        if self._title:
            items.append(([self._title], "weight-heatmap--title"))
        items.append(
            (
                [
                    f"rows = {plural(rows, 'input')}, columns = {plural(cols, 'node')}",
                    f"rows: {plural(rows, 'input')}, cols: {plural(cols, 'node')}",
                ],
                "weight-heatmap--note",
            )
        )
        if downsample is not None:
            fr, fc = downsample
            items.append(
                (
                    [
                        f"downsampled {fr}x{fc}: each cell averages {plural(fr, 'row')} x {plural(fc, 'column')}",
                        f"downsampled {fr}x{fc} (each cell = mean of {fr}x{fc} values)",
                        f"downsampled {fr}x{fc} (block means)",
                        f"({fr}x{fc} avg)",
                    ],
                    "weight-heatmap--note",
                )
            )
        return items

    @staticmethod
    def _pack(items: list[tuple[list[str], str]], width: int, level: int = 0) -> list[list[tuple[str, str]]]:
        """Pack header items into lines of ``width`` cells, each item in its variant number ``level`` (or last)."""
        lines: list[list[tuple[str, str]]] = []
        current: list[tuple[str, str]] = []
        used = 0
        for variants, cls in items:
            text = variants[min(level, len(variants) - 1)]
            if current and used + len(_SEPARATOR) + len(text) <= width:
                current.append((text, cls))
                used += len(_SEPARATOR) + len(text)
                continue
            if current:
                lines.append(current)
            text = _fit([text, *variants[level + 1 :]], width)
            current, used = [(text, cls)], len(text)
        if current:
            lines.append(current)
        return lines

    def _fit_header(
        self, items: list[tuple[list[str], str]], width: int, max_lines: int
    ) -> list[list[tuple[str, str]]]:
        """Pack the header into at most ``max_lines``: shorter variants first, then without the shape note
        (the title carries the shape), then everything squeezed onto the last line."""
        if max_lines <= 0:
            return []
        levels = max(len(variants) for variants, _ in items)
        without_shape = [item for item in items if not item[0][0].startswith("rows = ")]
        for candidate in (items, without_shape):
            for level in range(levels):
                packed = self._pack(candidate, width, level)
                if len(packed) <= max_lines:
                    return packed
        packed = self._pack(without_shape, width, levels - 1)
        keep = packed[: max_lines - 1]
        rest = [part for line in packed[max_lines - 1 :] for part in line]
        keep.append([(_fit([_SEPARATOR.join(text for text, _ in rest)], width), rest[0][1])])
        return keep

    def _gutter(self, width: int, n_rows: int, n_cols: int) -> tuple[int, str]:
        """The row-label column's width and the bias strip's label: the bias's full name
        (``dL/db2``, ``Δb2``, ``b2``) where it costs the matrix at most one character per column
        (and never its last two, or a column averaged away), else ``b2``, else ``b``. No column at
        all where it would take half the width."""
        digits = len(str(n_rows - 1))
        symbol = self._bias_symbol()
        layer = symbol[symbol.rfind("b"):]
        labels = list(dict.fromkeys([symbol, layer, "b"])) if self._bias is not None else [""]

        def fit(gutter: int) -> tuple[int, int]:
            """Columns averaged together, and the most characters per displayed column."""
            cells = max(1, width - gutter)
            fc = -(-n_cols // cells)
            return fc, cells // -(-n_cols // fc)

        fc, cell_w = fit(max(digits, len(labels[-1])) + 1)
        for label in labels:
            gutter = max(digits, len(label)) + 1
            fc_label, cell_w_label = fit(gutter)
            if fc_label == fc and cell_w_label >= min(cell_w, max(2, cell_w - 1)):
                break
        if width - gutter < max(4, width // 2):
            return 0, labels[-1]
        return gutter, label

    def _compute_layout(self, width: int, height: int, palette: Palette) -> HeatmapLayout:
        matrix = self._matrix
        assert matrix is not None
        n_rows, n_cols = matrix.shape
        per_line = 2 if palette.uses_color else 1
        has_bias = self._bias is not None

        gutter, bias_label = self._gutter(width, n_rows, n_cols)
        cells_w = max(1, width - gutter)
        fc = -(-n_cols // cells_w)

        rows_needed = -(-n_rows // per_line)
        matrix_min = max(1, min(rows_needed, 4))

        def plan(header_lines: int) -> tuple[dict[str, int], int]:
            order = [("value", 1), ("header", 1), ("legend", 1)]
            if has_bias:
                order.append(("bias", 1))
            order.append(("collabels", 1))
            order += [("header", 1)] * (header_lines - 1)
            if has_bias:
                order.append(("gap", 1))
            used = 0
            counts: dict[str, int] = {}
            for name, cost in order:
                if height - used - cost < matrix_min:
                    continue
                soft = name == "gap" or (name == "header" and counts.get("header"))
                if soft and row_factor(height - used - cost) > row_factor(height - used):
                    continue  # a spacer or a second header line is not worth averaging more rows together
                counts[name] = counts.get(name, 0) + 1
                used += cost
            return counts, height - used

        def row_factor(matrix_lines: int) -> int:
            return -(-n_rows // max(1, matrix_lines * per_line))

        items = self._header_items(None)
        wanted = len(self._pack(items, width))
        counts, matrix_lines = plan(wanted)
        fr = row_factor(matrix_lines)
        if fr > 1 or fc > 1:
            items = self._header_items((fr, fc))
            if len(self._pack(items, width)) != wanted:
                counts, matrix_lines = plan(len(self._pack(items, width)))
                fr = row_factor(matrix_lines)
                items = self._header_items((fr, fc))
        packed = self._fit_header(items, width, counts.get("header", 0))

        disp_rows = -(-n_rows // fr)
        disp_cols = -(-n_cols // fc)
        units = matrix_lines * per_line
        max_w = max(1, cells_w // disp_cols)
        max_h = max(1, units // disp_rows)
        unit = 2 // per_line  # height of one vertical unit in character widths
        # Values between four times as wide as tall and twice as tall as wide, as large as fit: a matrix with
        # few rows (W1 of a 2-input net) fills the pane's height, one with few columns (a 16 x 1 output layer)
        # is more than a sliver.
        cell_w = min(max_w, max(1, 4 * max_h * unit))
        cell_h = min(max_h, max(1, 2 * cell_w // unit))
        used_lines = -(-(disp_rows * cell_h) // per_line)

        display = colormap.block_average(matrix, fr, fc)
        levels = colormap.values_to_levels(display, self._scale, palette.n_levels)
        bias_display = None
        if self._bias is not None:
            bias_display = colormap.block_average(self._bias.reshape(1, -1), 1, fc)[0]

        header = []
        for line in packed:
            header.append([(text, self.get_component_rich_style(cls)) for text, cls in line])

        y = len(header)
        collabel_y = None
        if counts.get("collabels"):
            collabel_y = y
            y += 1
        matrix_y = y
        y += used_lines
        bias_y = None
        if counts.get("bias"):
            if counts.get("gap"):
                y += 1
            bias_y = y
            y += 1
        legend_y = None
        if counts.get("legend"):
            legend_y = y
            y += 1
        value_y = y if counts.get("value") else None

        return HeatmapLayout(
            width=width,
            height=height,
            palette=palette,
            per_line=per_line,
            gutter=gutter,
            bias_label=bias_label,
            row_factor=fr,
            col_factor=fc,
            disp_rows=disp_rows,
            disp_cols=disp_cols,
            cell_w=cell_w,
            cell_h=cell_h,
            display=display,
            levels=levels,
            bias_display=bias_display,
            header=header,
            collabel_y=collabel_y,
            matrix_y=matrix_y,
            matrix_lines=used_lines,
            bias_y=bias_y,
            legend_y=legend_y,
            value_y=value_y,
        )

    # -------------------------------------------------------------- drawing

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        return self.render_line_at(y, width, height)

    def render_line_at(self, y: int, width: int, height: int) -> Strip:
        """Line ``y`` as drawn at ``width`` x ``height`` cells (``render_line`` at the current size); public
        so that every size can be checked without resizing the widget."""
        base = self._base_style()
        if width <= 0:
            return Strip([])
        layout = self._get_layout(width, height)
        if layout is None:
            if y == height // 2 and self._matrix is None:
                hint = _fit([self._empty_hint], width)
                style = self.get_component_rich_style("weight-heatmap--hint")
                left = (width - len(hint)) // 2
                return Strip(
                    [Segment(" " * left, base), Segment(hint, style), Segment(" " * (width - left - len(hint)), base)],
                    width,
                )
            return Strip.blank(width, base)

        if y < len(layout.header):
            return self._text_strip(layout.header[y], width, base)
        if y == layout.collabel_y:
            return self._column_labels(layout, base)
        if layout.matrix_y <= y < layout.matrix_y + layout.matrix_lines:
            return self._matrix_line(layout, y - layout.matrix_y, base)
        if y == layout.bias_y:
            return self._cached(layout, y, lambda: self._bias_line(layout, base))
        if y == layout.legend_y:
            return self._cached(layout, y, lambda: self._legend_line(layout, base))
        if y == layout.value_y:
            return self._value_line(layout, base)
        return Strip.blank(width, base)

    @staticmethod
    def _cached(layout: HeatmapLayout, y: int, build) -> Strip:
        strip = layout.fixed.get(y)
        if strip is None:
            strip = layout.fixed[y] = build()
        return strip

    @staticmethod
    def _text_strip(parts: list[tuple[str, Style]], width: int, base: Style) -> Strip:
        segments: list[Segment] = []
        for i, (text, style) in enumerate(parts):
            if i:
                segments.append(Segment(_SEPARATOR, base))
            segments.append(Segment(text, style))
        return Strip(segments).adjust_cell_length(width, base)

    def _cursor_cell(self, layout: HeatmapLayout) -> tuple[int, int]:
        row, col = self.cursor
        return min(row // layout.row_factor, layout.disp_rows - 1), min(col // layout.col_factor, layout.disp_cols - 1)

    # Matrix lines ---------------------------------------------------------

    def _level_colors(self, layout: HeatmapLayout, base: Style) -> tuple[list, int]:
        """Colours per level index: the palette's levels, then NaN, then the background."""
        palette = layout.palette
        assert palette.colors is not None
        colors = list(palette.colors) + [palette.nan_color, base.bgcolor]
        return colors, len(colors)

    def _build_body(self, layout: HeatmapLayout, base: Style) -> None:
        """Build and cache the strips of all matrix lines (cells only, no labels)."""
        palette = layout.palette
        n = palette.n_levels
        background = n + 1
        grid = np.repeat(np.repeat(layout.levels, layout.cell_h, axis=0), layout.cell_w, axis=1)
        rows_total = layout.matrix_lines * layout.per_line
        if grid.shape[0] < rows_total:
            pad = np.full((rows_total - grid.shape[0], grid.shape[1]), background, dtype=grid.dtype)
            grid = np.vstack([grid, pad])
        cells_w = layout.width - layout.gutter
        tail = cells_w - grid.shape[1]
        body: list[Strip] = []
        if palette.uses_color:
            colors, k = self._level_colors(layout, base)
            style_cache: dict[int, tuple[str, Style]] = {}
            keys = grid[0::2] * k + grid[1::2]
            changes = keys[:, 1:] != keys[:, :-1]
            for line_keys, line_changes in zip(keys.tolist(), changes):
                cuts = (np.flatnonzero(line_changes) + 1).tolist()
                segments = []
                start = 0
                for end in cuts + [len(line_keys)]:
                    key = line_keys[start]
                    entry = style_cache.get(key)
                    if entry is None:
                        top, bottom = colors[key // k], colors[key % k]
                        if top == bottom:
                            entry = (" ", base + colormap.fill_style(bottom))
                        else:
                            entry = (_HALF_BLOCK, base + colormap.half_block_style(top, bottom))
                        style_cache[key] = entry
                    segments.append(Segment(entry[0] * (end - start), entry[1]))
                    start = end
                if tail > 0:
                    segments.append(Segment(" " * tail, base))
                body.append(Strip(segments, cells_w))
        else:
            glyphs = list(palette.glyphs or ()) + [palette.nan_glyph, " "]
            for line_levels in grid:
                text = "".join([glyphs[i] for i in line_levels.tolist()])
                body.append(Strip([Segment(text + " " * max(0, tail), base)], cells_w))
        layout.body = body

    @staticmethod
    def _label_line(layout: HeatmapLayout, display_row: int) -> int:
        """The matrix line that labels a displayed row: its first line, or its first full line with half
        blocks when it has one."""
        start = display_row * layout.cell_h
        if layout.per_line == 2 and layout.cell_h > 1:
            return -(-start // 2)
        return start // layout.per_line

    def _row_labels(self, layout: HeatmapLayout) -> dict[int, str]:
        """Regular row labels by matrix line: every few displayed rows, at least a line apart."""
        labels = layout.row_labels
        if labels is None:
            min_lines = 1 if layout.matrix_lines <= 12 else 2
            step = _pick_step(layout.cell_h, min_lines * layout.per_line)
            labels = {}
            for i in range(0, layout.disp_rows, step):
                labels.setdefault(self._label_line(layout, i), str(i * layout.row_factor))
            layout.row_labels = labels
        return labels

    def _row_label(self, layout: HeatmapLayout, line: int, cursor_line: int, cursor_row: int, base: Style) -> Segment:
        """The row-label gutter of matrix line ``line``."""
        width = layout.gutter - 1
        if line == cursor_line:
            text = str(cursor_row).rjust(width)[-width:]
            return Segment(text, self.get_component_rich_style("weight-heatmap--cursor-label"))
        label = self._row_labels(layout).get(line, "")
        return Segment(label.rjust(width), self.get_component_rich_style("weight-heatmap--label"))

    def _matrix_line(self, layout: HeatmapLayout, line: int, base: Style) -> Strip:
        if not layout.body:
            self._build_body(layout, base)
        strip = layout.body[line]
        cursor_row, cursor_col = self._cursor_cell(layout)
        h, w, per = layout.cell_h, layout.cell_w, layout.per_line
        top_unit, bottom_unit = line * per, line * per + per - 1
        c_top, c_bottom = cursor_row * h, cursor_row * h + h - 1
        in_top = c_top <= top_unit <= c_bottom
        in_bottom = c_top <= bottom_unit <= c_bottom
        # With half blocks, a value taller than one half-row owns at least one full line: the cursor is drawn
        # (and labelled) there only. A one-half-row value shares every line, so its half gets a highlight.
        half_cursor = per == 2 and h == 1
        cursor_line = self._label_line(layout, cursor_row)
        draw = (in_top and in_bottom) if per == 2 and h > 1 else (in_top or in_bottom)
        if draw:
            strip = self._cursor_overlay(layout, strip, line, cursor_row, cursor_col, base)
        if layout.gutter:
            gutter = self._row_label(layout, line, cursor_line, cursor_row * layout.row_factor, base)
            spacer = Segment(" ", base)
            if half_cursor and in_top != in_bottom:
                # Point at the half of this line that holds the cursor's row.
                pointer_style = base + colormap.half_block_style(layout.palette.highlight, base.bgcolor)
                spacer = Segment("▀" if in_top else "▄", pointer_style)
            strip = Strip([gutter, spacer, *strip], layout.width)
        return strip

    def _cursor_overlay(
        self, layout: HeatmapLayout, strip: Strip, line: int, cursor_row: int, cursor_col: int, base: Style
    ) -> Strip:
        """Draw the cursor over the cells of one matrix line."""
        palette = layout.palette
        w, h = layout.cell_w, layout.cell_h
        x0 = cursor_col * w
        x1 = x0 + w
        level = int(layout.levels[cursor_row, cursor_col])
        if not palette.uses_color:
            glyphs = list(palette.glyphs or ()) + [palette.nan_glyph]
            mid = [Segment(glyphs[level] * w, base + Style(reverse=True, bold=True))]
        else:
            colors, _ = self._level_colors(layout, base)
            color = colors[level]
            rows_here = [line * 2, line * 2 + 1]
            inside = [cursor_row * h <= r < (cursor_row + 1) * h for r in rows_here]
            if all(inside):
                # Full lines of the cursor cell get an outline: a box when it spans several lines, else brackets.
                first_full = -(-(cursor_row * h) // 2)
                last_full = ((cursor_row + 1) * h) // 2 - 1
                if w == 1:
                    marker = "◆"
                elif last_full == first_full:
                    marker = "[" + " " * (w - 2) + "]"
                elif line == first_full:
                    marker = "┌" + "─" * (w - 2) + "┐"
                elif line == last_full:
                    marker = "└" + "─" * (w - 2) + "┘"
                else:
                    marker = "│" + " " * (w - 2) + "│"
                style = base + Style(color=colormap.contrast_color(color), bgcolor=color, bold=True)
                mid = [Segment(marker, style)]
            else:
                # The cursor's value fills one half of these characters: paint that half in the highlight
                # colour and keep the other half (a neighbouring value of the same column, or the background).
                halves = []
                for r, is_in in zip(rows_here, inside):
                    if is_in:
                        halves.append(palette.highlight)
                    elif r < layout.disp_rows * h:
                        halves.append(colors[int(layout.levels[r // h, cursor_col])])
                    else:
                        halves.append(base.bgcolor)
                mid = [Segment(_HALF_BLOCK * w, base + colormap.half_block_style(halves[0], halves[1]))]
        left = strip.crop(0, x0)
        right = strip.crop(x1, strip.cell_length)
        return Strip([*left, *mid, *right], strip.cell_length)

    # Other lines ------------------------------------------------------------

    def _column_labels(self, layout: HeatmapLayout, base: Style) -> Strip:
        width = layout.width
        label_style = self.get_component_rich_style("weight-heatmap--label")
        cursor_style = self.get_component_rich_style("weight-heatmap--cursor-label")
        chars = [" "] * width
        styles: list[Style] = [base] * width
        w = layout.cell_w
        longest = len(str((layout.disp_cols - 1) * layout.col_factor))
        step = _pick_step(w, longest + 1)
        _, cursor_col = self._cursor_cell(layout)

        def place(j: int, style: Style, force: bool) -> None:
            text = str(j * layout.col_factor)
            x = layout.gutter + j * w
            if step == 1 and w > len(text):
                x += (w - len(text)) // 2
            end = x + len(text)
            if end > width:
                if not force:
                    return
                x, end = max(0, width - len(text)), width
            if not force and any(c != " " for c in chars[max(0, x - 1) : min(width, end + 1)]):
                return
            for i, ch in enumerate(text[: end - x]):
                chars[x + i] = ch
                styles[x + i] = style

        place(cursor_col, cursor_style, True)
        for j in range(0, layout.disp_cols, step):
            if j != cursor_col:
                place(j, label_style, False)
        segments = [Segment(ch, st) for ch, st in zip(chars, styles)]
        return Strip(Segment.simplify(segments), width)

    def _cells_strip(
        self, layout: HeatmapLayout, levels: np.ndarray, base: Style, lower_half: bool = False
    ) -> list[Segment]:
        """One line of cells for a 1-D array of levels: full cells, or lower halves (``▄``) with colours."""
        palette = layout.palette
        segments: list[Segment] = []
        if palette.uses_color:
            colors, _ = self._level_colors(layout, base)
            for level in levels.tolist():
                if lower_half:
                    style = base + colormap.half_block_style(colors[level], base.bgcolor)
                    segments.append(Segment("▄", style))
                else:
                    segments.append(Segment(" ", base + colormap.fill_style(colors[level])))
        else:
            glyphs = list(palette.glyphs or ()) + [palette.nan_glyph]
            segments.append(Segment("".join(glyphs[level] for level in levels.tolist()), base))
        return list(Segment.simplify(segments))

    def _bias_line(self, layout: HeatmapLayout, base: Style) -> Strip:
        assert layout.bias_display is not None
        levels = colormap.values_to_levels(layout.bias_display, self._scale, layout.palette.n_levels)
        # Without a blank line above, a half-height strip keeps the bias apart from the matrix's last row.
        gap = layout.bias_y is not None and layout.bias_y > layout.matrix_y + layout.matrix_lines
        cells = self._cells_strip(layout, np.repeat(levels, layout.cell_w), base, lower_half=not gap)
        label_style = self.get_component_rich_style("weight-heatmap--label")
        if layout.gutter:
            prefix = [Segment(layout.bias_label.rjust(layout.gutter - 1), label_style), Segment(" ", base)]
        else:
            prefix = []
        return Strip([*prefix, *cells]).adjust_cell_length(layout.width, base)

    def _bias_symbol(self) -> str:
        symbol = self._symbol
        index = symbol.rfind("W")
        return symbol[:index] + "b" + symbol[index + 1 :] if index >= 0 else "b"

    def _legend_line(self, layout: HeatmapLayout, base: Style) -> Strip:
        """``-s <negative colours> 0 <positive colours> +s   min .. max``, shortened to fit."""
        palette = layout.palette
        style = self.get_component_rich_style("weight-heatmap--legend")
        n, middle = palette.n_levels, palette.middle
        low, high = f"-{significant(self._scale, 3)}", f"+{significant(self._scale, 3)}"
        extent = f"{_SEPARATOR}min {significant(self._min, 3)}  max {significant(self._max, 3)}"
        zero = " 0 " if palette.uses_color else " · "
        bar = 8 if palette.uses_color else middle  # glyphs: one per level, so the legend explains them all
        for k, tail in ((bar, extent), (bar, ""), (max(2, bar // 2) if palette.uses_color else bar, "")):
            if len(low) + len(high) + 2 + len(zero) + 2 * k + len(tail) <= layout.width:
                neg = self._cells_strip(layout, np.rint(np.linspace(0, middle - 1, k)).astype(int), base)
                pos = self._cells_strip(layout, np.rint(np.linspace(middle + 1, n - 1, k)).astype(int), base)
                segments = [Segment(low + " ", style), *neg, Segment(zero, style), *pos, Segment(" " + high, style)]
                segments.append(Segment(tail, style))
                return Strip(segments).adjust_cell_length(layout.width, base)
        return Strip([Segment(f"±{significant(self._scale, 3)}", style)]).adjust_cell_length(layout.width, base)

    def _value_line(self, layout: HeatmapLayout, base: Style) -> Strip:
        rows, cols, value = self.cursor_block()
        style = self.get_component_rich_style("weight-heatmap--value")
        note = self.get_component_rich_style("weight-heatmap--note")

        def index(r: range) -> str:
            return str(r.start) if len(r) == 1 else f"{r.start}:{r.stop}"

        def span(r: range, word: str) -> str:
            return f"{word} {r.start}" if len(r) == 1 else f"{word}s {r.start}-{r.stop - 1}"

        mean = "" if len(rows) * len(cols) == 1 else " mean"
        head = f"{self._symbol}[{index(rows)}, {index(cols)}]{mean} = {readout(value)}"
        where = f"  ({span(rows, 'input')} -> {span(cols, 'node')})"
        bias = ""
        if self._bias is not None:
            b = float(self._bias[cols.start : cols.stop].mean())
            bias_mean = " mean" if len(cols) > 1 else ""
            bias = f"{_SEPARATOR}{self._bias_symbol()}[{index(cols)}]{bias_mean} = {readout(b)}"
        width = layout.width
        for parts in ((head, where, bias), (head, where, ""), (head, "", bias), (head, "", "")):
            if sum(len(p) for p in parts) <= width:
                break
        head, where, bias = parts
        segments = [Segment(head, style), Segment(where, note), Segment(bias, style)]
        return Strip(segments).crop(0, width).adjust_cell_length(width, base)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """With ``height: auto``: the matrix at one value per half-row plus the text lines around it."""
        if self._matrix is None:
            return 3
        return -(-self._matrix.shape[0] // 2) + 8
