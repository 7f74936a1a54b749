"""The plot helper: plot descriptions drawn by plotext's public API into strips, and plotext's ANSI text read back."""

import ast
import threading
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from tui_trainer.engine.numbers import tick_label
from tui_trainer.tui.widgets.plotting import (
    Curve,
    Plot,
    Rule,
    ansi_strips,
    linear_ticks,
    log_ticks,
    plot_strips,
    plotext_version,
    y_axis,
)

PACKAGE = Path(__file__).resolve().parents[1] / "tui_trainer"


def example(width=50, height=14, **changes) -> Plot:
    fields = dict(
        width=width, height=height, x_lim=(0.0, 10.0), y_lim=(0.0, 5.0),
        x_ticks=([0, 5, 10], ["0", "5", "10"]), y_ticks=([0, 2.5, 5], ["0", "2.5", "5"]),
        x_label="epoch", y_label="cost",
        curves=(Curve([0, 3, 10], [5, 1, 0.5], 14),
                Curve([0, 10], [0.5, 4.5], (255, 85, 85)),
                Curve([2, 8], [4, 4], 11, marker="x", lines=False)),
        rules=(Rule(2.0, (170, 170, 170)), Rule(6.0, 10, vertical=True)),
    )
    fields.update(changes)
    return Plot(**fields)


def colours(strips):
    """Each cell's foreground: a colour number, an RGB triplet, or None."""
    out = []
    for strip in strips:
        for seg in strip:
            color = seg.style.color if seg.style is not None else None
            value = None if color is None else color.number if color.number is not None else color.triplet
            out.extend([value] * len(seg.text))
    return out


def test_plotext_is_6_or_5_3():
    major, minor = (int(p) for p in plotext_version().split(".")[:2])
    assert (major, minor) >= (5, 3) and major < 7


@pytest.mark.parametrize("width,height", [(16, 4), (20, 6), (50, 14), (120, 40), (300, 80)])
def test_a_plot_fills_exactly_its_size(width, height):
    strips = plot_strips(example(width, height))
    assert len(strips) == height
    assert all(strip.cell_length == width for strip in strips)


def test_larger_than_the_terminal_is_not_cut(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("LINES", "10")
    strips = plot_strips(example(150, 45))
    assert len(strips) == 45 and strips[-3].text.rstrip().endswith("┬")  # the x axis reaches the last tick


def test_curves_rules_and_markers_keep_their_colours_and_nothing_has_a_background():
    strips = plot_strips(example())
    found = set(colours(strips))
    assert {14, 11, 10, (255, 85, 85), (170, 170, 170)} <= found
    assert found <= {None, 14, 11, 10, (255, 85, 85), (170, 170, 170)}
    assert not any(seg.style and seg.style.bgcolor for strip in strips for seg in strip)
    text = "\n".join(strip.text for strip in strips)
    assert "x" in text and "│" in text and "─" in text  # markers, the vertical and the horizontal rule
    assert "epoch" in strips[-1].text and strips[-1].text.startswith("cost")  # the label row


def test_no_labels_no_label_row():
    strips = plot_strips(example(x_label="", y_label=""))
    assert "10" in strips[-1].text and "┬" in strips[-2].text  # tick labels on the last row, the axis above


def test_threads_draw_one_at_a_time():
    plots = [example(40 + k, 10 + k % 5) for k in range(8)]
    expected = [[strip.text for strip in plot_strips(p)] for p in plots]
    results: dict[int, list[str]] = {}

    def draw(k):
        for _ in range(5):
            results[k] = [strip.text for strip in plot_strips(plots[k])]

    threads = [threading.Thread(target=draw, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[k] for k in range(8)] == expected


ANSI_LINES = [
    "4.0┤\x1b[0m\x1b[38;5;14m⠑⠤⡀\x1b[0m   \x1b[0m\x1b[38;5;11m●\x1b[0m  \x1b[0m",
    "2.0├\x1b[0m\x1b[38;2;255;85;85m──\x1b[0m\x1b[1m\x1b[38;5;9mbold\x1b[0m\x1b[48;5;15mbg\x1b[0m",
    "   └\x1b[38;5;12mcarried\nonto the next line\x1b[0m",
    "plain",
]


@pytest.mark.parametrize("ansi", ANSI_LINES)
def test_ansi_is_read_as_rich_reads_it(ansi):
    console = Console()
    reference = Text.from_ansi(ansi).split("\n")
    strips = ansi_strips(ansi, 40)
    assert [s.text.rstrip() for s in strips] == [line.plain.rstrip() for line in reference]
    for strip, line in zip(strips, reference):
        cells = [seg.style for seg in strip for _ in seg.text][: len(line.plain)]
        expected = [line.get_style_at_offset(console, i) for i in range(len(line.plain))]
        assert [c or None for c in cells] == [e or None for e in expected]
    assert all(s.cell_length == 40 for s in strips)


def test_no_module_imports_plotexts_private_modules():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if any(n.startswith("plotext.") and n.split(".")[1].startswith("_") for n in names):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not offenders


def test_only_the_helper_imports_plotext():
    users = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                   if "import plotext" in path.read_text(encoding="utf-8"))
    assert users == ["experiments/charts.py"]


def test_y_axis_labels_round_ticks_by_their_spacing_and_log_ticks_as_decades():
    ticks, step = linear_ticks(0.0, 0.73, 4)
    assert y_axis(0.0, 0.73, 4, log=False) == (ticks, [tick_label(t, step) for t in ticks])
    assert y_axis(-12, 3, 6, log=True) == log_ticks(-12, 3, 6)
    assert y_axis(-12, 3, 6, log=True)[1] == ["1e-12", "1e-9", "1e-6", "0.001", "1", "1e3"]
