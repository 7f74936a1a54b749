"""LossPlot: the empty hint, titles and labels, log scale, bad values, sizes, throttling and speed."""

import asyncio
import math

import numpy as np
import plotext
import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static, TabbedContent, TabPane

from tui_trainer.engine.numbers import compact
from tui_trainer.tui.widgets.loss_plot import LossPlot, build_plot
from tui_trainer.tui.widgets.plotting import log_ticks


class PlotApp(App):
    def __init__(self, **plot_options) -> None:
        super().__init__()
        self.plot_options = plot_options

    def compose(self) -> ComposeResult:
        yield LossPlot(**self.plot_options)


def run(coro_fn, size=(80, 24), **plot_options):
    """Run ``coro_fn(pilot, plot)`` inside a headless PlotApp."""

    async def main():
        app = PlotApp(**plot_options)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await coro_fn(pilot, app.query_one(LossPlot))

    asyncio.run(main())


async def drawn(pilot, plot: LossPlot, after: int, polls: int = 250) -> None:
    """Wait until the plot has redrawn since ``draw_count`` was ``after`` (``polls`` short pauses at most:
    far more than any redraw timer needs)."""
    for _ in range(polls):
        if plot.draw_count > after:
            return
        await pilot.pause(0.02)
    assert plot.draw_count > after, "the plot did not redraw"


def screen_text(plot: LossPlot) -> str:
    """What the plot's cells show, line by line, without colours."""
    return "\n".join(plot.plain_lines())


def plain(strips) -> str:
    return "\n".join(strip.text for strip in strips)


def decaying(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = np.arange(1, n + 1, dtype=float)
    y = 2.0 * np.exp(-x / (n / 5)) + 0.05 + 0.1 * rng.random(n)
    vx = np.linspace(n / 10, n, 10)
    vy = 2.0 * np.exp(-vx / (n / 5)) + 0.1
    return x, y, vx, vy


def test_empty_plot_shows_the_hint():
    async def check(pilot, plot):
        assert "press space to train" in screen_text(plot)
        assert plot.is_empty
        lines = plot.plain_lines()
        assert len(lines) == 24 and "press space" in lines[11]  # centred

    run(check)


def test_hint_is_a_constructor_option():
    async def check(pilot, plot):
        assert "nothing yet [really]" in screen_text(plot)  # shown as plain text, no markup

    run(check, hint="nothing yet [really]")


def test_title_shows_current_values_and_axes_are_labelled():
    async def check(pilot, plot):
        n = plot.draw_count
        plot.update_series(*decaying(500), current={"loss": 0.123, "val loss": 0.145})
        await drawn(pilot, plot, n)
        text = screen_text(plot)
        assert "── loss 0.123 · ● val loss 0.145" in text.splitlines()[0]
        assert "press space" not in text and not plot.is_empty
        last = text.splitlines()[-1]
        assert "step" in last and last.lstrip().startswith("loss")  # x label and y label
        assert "┤" in text and "┬" in text  # ticks on both axes
        assert "100" in text  # step ticks are round numbers

    run(check)


def test_title_defaults_to_the_latest_values():
    async def check(pilot, plot):
        n = plot.draw_count
        plot.update_series([1, 2, 3], [0.5, 0.4, 0.3], [3], [0.35])
        await drawn(pilot, plot, n)
        assert "── loss 0.3 · ● val loss 0.35" in screen_text(plot)

    run(check)


def test_label_switches_between_loss_and_cost():
    async def check(pilot, plot):
        data = decaying(300)
        n = plot.draw_count
        plot.update_series(*data, label="cost", current={"cost": 0.5, "val cost": 0.6})
        await drawn(pilot, plot, n)
        text = screen_text(plot)
        assert "── cost 0.5 · ● val cost 0.6" in text
        assert text.splitlines()[-1].lstrip().startswith("cost") and "loss" not in text
        assert plot.label == "cost"
        n = plot.draw_count
        plot.update_series(*data, label="loss", current={"loss": 0.5, "val loss": 0.6})
        await drawn(pilot, plot, n)
        text = screen_text(plot)
        assert "── loss 0.5 · ● val loss 0.6" in text and "cost" not in text

    run(check)


def test_log_scale_toggle_changes_the_rendering_and_title():
    async def check(pilot, plot):
        x = np.arange(1, 1001, dtype=float)
        y = 10.0 ** (-x / 250)  # four decades
        n = plot.draw_count
        plot.update_series(x, y, [], [], current={"loss": y[-1]})
        await drawn(pilot, plot, n)
        linear = screen_text(plot)
        assert "(log)" not in linear
        n = plot.draw_count
        plot.log_scale = True
        await drawn(pilot, plot, n)
        log = screen_text(plot)
        assert log != linear
        assert "(log)" in log.splitlines()[0] and "loss (log)" in log.splitlines()[-1]
        assert "0.001" in log and "0.1" in log  # decade ticks, as plain numbers
        n = plot.draw_count
        plot.log_scale = False
        await drawn(pilot, plot, n)
        assert screen_text(plot) == linear

    run(check)


def test_nan_and_inf_do_not_crash():
    async def check(pilot, plot):
        x, y, vx, vy = decaying(200)
        y[50:60] = np.nan
        y[70] = np.inf
        vy[3] = -np.inf
        n = plot.draw_count
        plot.update_series(x, y, vx, vy, current={"loss": float("nan"), "val loss": 0.2})
        await drawn(pilot, plot, n)
        text = screen_text(plot)
        assert "loss nan" in text and "NaN/inf hidden" in text
        n = plot.draw_count
        plot.update_series([1, 2], [np.nan, np.inf], [], [])
        await drawn(pilot, plot, n)
        assert "no finite values to plot" in screen_text(plot)
        n = plot.draw_count
        plot.log_scale = True
        plot.update_series([1, 2, 3], [0.0, -1.0, 0.0], [], [])
        await drawn(pilot, plot, n)
        assert "no positive values to plot" in screen_text(plot)

    run(check)


def test_clear_brings_the_hint_back():
    async def check(pilot, plot):
        n = plot.draw_count
        plot.update_series([1, 2], [1.0, 0.5], [], [])
        await drawn(pilot, plot, n)
        n = plot.draw_count
        plot.clear()
        await drawn(pilot, plot, n)
        assert "press space to train" in screen_text(plot)

    run(check)


def test_100k_points_are_drawn_on_a_step_axis_that_reaches_them():
    # Thinned to ~2 points per column before drawing; how long a redraw takes is measured in
    # benchmarks/bench_app.py, not here.
    async def check(pilot, plot):
        n = plot.draw_count
        plot.update_series(*decaying(100_000))
        await drawn(pilot, plot, n)
        text = screen_text(plot)
        assert "20k" in text and "100k" in text

    run(check, size=(120, 36))


def title_line(plot: LossPlot) -> str:
    """The plot's first line: the title, which names the current values."""
    return plot.plain_lines()[0]


def shows(plot: LossPlot, loss: float, val_loss: float) -> bool:
    """Whether the title shows these values as the plot prints them."""
    title = title_line(plot)
    return f"loss {compact(loss, 4)}" in title and f"val loss {compact(val_loss, 4)}" in title


def test_redraws_are_skipped_when_nothing_changed_and_a_burst_is_drawn_once():
    async def check(pilot, plot):
        x, y, vx, vy = decaying(1000)
        n = plot.draw_count
        plot.update_series(x, y, vx, vy)
        await drawn(pilot, plot, n)
        n = plot.draw_count
        for _ in range(5):  # the same data again: nothing to do
            plot.update_series(x.copy(), y.copy(), vx, vy)
        await pilot.pause(0.3)
        assert plot.draw_count == n
        for k in range(40):  # 40 updates before the next frame: one redraw, of the last one
            plot.update_series(x[: 500 + k], y[: 500 + k], vx, vy)
        await drawn(pilot, plot, n)
        await pilot.pause(0.3)
        assert plot.draw_count == n + 1
        assert plot.current == {"loss": y[538], "val loss": vy[-1]}
        assert shows(plot, y[538], vy[-1])

    run(check)


def test_updates_within_the_interval_wait_for_it():
    async def check(pilot, plot):
        x, y, vx, vy = decaying(1000)
        n = plot.draw_count
        plot.update_series(x[:500], y[:500], vx, vy)
        await drawn(pilot, plot, n)
        assert shows(plot, y[499], vy[-1])
        plot.min_interval = 60.0  # no redraw is due during this test unless one is asked for
        n = plot.draw_count
        for k in range(40):  # updates between frames: all held back by the interval
            plot.update_series(x[: 501 + k], y[: 501 + k], vx, vy)
            await pilot.pause(0.01)
        await pilot.pause(0.3)
        assert plot.draw_count == n and shows(plot, y[499], vy[-1])  # still the first data
        assert plot.current == {"loss": y[539], "val loss": vy[-1]}  # the next draw shows the last update
        plot.log_scale = True  # what the user asks for is not held back: drawn with the latest data
        await drawn(pilot, plot, n)
        assert plot.draw_count == n + 1 and shows(plot, y[539], vy[-1])

    run(check)


def test_live_data_keeps_to_the_time_share_and_the_last_batch_is_drawn():
    async def check(pilot, plot):
        x, y, vx, vy = decaying(1000)
        n = plot.draw_count
        plot.update_series(x[:100], y[:100], vx, vy, live=True)
        await drawn(pilot, plot, n)
        plot.last_draw_seconds = 0.05  # as if a build took 50 ms: live redraws wait 0.05 / 0.05 = 1 s
        n = plot.draw_count
        for k in range(15):  # a batch each frame: too soon for another redraw
            plot.update_series(x[: 101 + k], y[: 101 + k], vx, vy, live=True)
            await pilot.pause()
        plot.update_series(x[:200], y[:200], vx, vy, live=True)  # the last batch: the timer draws it
        await pilot.pause()
        assert plot.draw_count == n and shows(plot, y[99], vy[-1])
        await drawn(pilot, plot, n)  # after the share (1 s) and the fallback (0.5 s)
        assert plot.draw_count == n + 1
        assert plot.current == {"loss": y[199], "val loss": vy[-1]}
        assert shows(plot, y[199], vy[-1])
        n = plot.draw_count
        plot.log_scale = True  # what the user asks for is not held back by the share
        await pilot.pause()
        await pilot.pause()
        assert plot.draw_count == n + 1

    run(check, max_share=0.05)


def test_resize_redraws_at_the_new_size():
    async def check(pilot, plot):
        n = plot.draw_count
        plot.update_series(*decaying(500))
        await drawn(pilot, plot, n)
        assert len(screen_text(plot).splitlines()[1]) == 80
        n = plot.draw_count
        await pilot.resize_terminal(60, 15)
        await drawn(pilot, plot, n)
        lines = screen_text(plot).splitlines()
        assert len(lines) == 15 and len(lines[1]) == 60

    run(check)


def test_no_redraw_while_hidden_in_another_tab():
    class TabsApp(App):
        def compose(self) -> ComposeResult:
            with TabbedContent():
                with TabPane("other", id="other"):
                    yield Static("other")
                with TabPane("plot", id="plot"):
                    yield LossPlot()

    async def main():
        app = TabsApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            plot = app.query_one(LossPlot)
            n = plot.draw_count
            plot.update_series(*decaying(100))
            await pilot.pause(0.3)
            assert plot.draw_count == n
            app.query_one(TabbedContent).active = "plot"
            await drawn(pilot, plot, n)
            assert "loss" in screen_text(plot)

    asyncio.run(main())


def test_tiny_size_does_not_raise():
    async def check(pilot, plot):
        n = plot.draw_count
        plot.update_series(*decaying(100), current={"loss": 0.1, "val loss": 0.2})
        await drawn(pilot, plot, n)
        text = screen_text(plot)
        assert "loss 0.1" in text and "┤" in text

    run(check, size=(30, 8))


@pytest.mark.parametrize("width,height", [(1, 1), (5, 2), (15, 4), (16, 5), (20, 6), (30, 8), (50, 12), (200, 60)])
@pytest.mark.parametrize("log_scale", [False, True])
def test_build_plot_any_size(width, height, log_scale):
    strips = build_plot(width, height, *decaying(300), current={"loss": 0.1}, log_scale=log_scale)
    lines = plain(strips).splitlines()
    assert len(lines) <= height
    assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize(
    "step_x,step_y",
    [
        ([5], [0.3]),  # a single point
        ([1, 2], [0.3, 0.3]),  # a flat line
        ([0, 1, 2, 3], [1e-300, 1e-100, 1.0, 1e250]),  # a huge range
        ([0, 1, 2], [1e-12, 1.0000001e-12, 1.0000002e-12]),  # a tiny range
        ([0, 1e9, 2e9], [1e299, -1e299, 1e299]),  # huge numbers
        ([1, 2, 3], [-1.0, -2.0, -0.5]),  # negative
        ([0, 1, 2], [np.nan, 1e308, 0.5]),  # beyond plotext's arithmetic
    ],
)
@pytest.mark.parametrize("log_scale", [False, True])
def test_build_plot_odd_data(step_x, step_y, log_scale):
    strips = build_plot(50, 12, np.array(step_x, float), np.array(step_y, float), np.array([3.0]), np.array([0.2]),
                        log_scale=log_scale)
    assert strips is not None and 1 <= len(strips) <= 12
    assert all(strip.cell_length == 50 for strip in strips)


def test_build_plot_nothing_at_all_is_none():
    assert build_plot(50, 12, np.empty(0), np.empty(0), np.empty(0), np.empty(0)) is None


def test_plots_do_not_depend_on_each_other_or_on_plotexts_global_figure():
    first = plain(build_plot(50, 12, *decaying(100)))
    if hasattr(getattr(plotext, "figure", None), "signal"):  # plotext 6: the master figure
        plotext.figure.title("GLOBAL TITLE").plot_size(20, 5)
    else:  # plotext 5: the module functions
        plotext.title("GLOBAL TITLE")
        plotext.plot_size(20, 5)
    text = plain(build_plot(50, 12, *decaying(100)))
    assert "GLOBAL" not in text and len(text.splitlines()[1]) == 50
    assert text == first
    plain(build_plot(60, 20, *decaying(1000), log_scale=True))  # another plot in between changes nothing
    assert plain(build_plot(50, 12, *decaying(100))) == first


def test_log_tick_labels_are_short():  # linear tick labels: tests/test_formatting.py
    ticks, labels = log_ticks(math.log10(1e-4), math.log10(2.0), 4)
    assert labels == ["0.0001", "0.01", "1"]
    assert log_ticks(-12, 3, 6)[1] == ["1e-12", "1e-9", "1e-6", "0.001", "1", "1e3"]
    ticks, labels = log_ticks(math.log10(0.05), math.log10(2.0), 6)
    assert labels == ["0.05", "0.1", "0.2", "0.5", "1", "2"]
    ticks, labels = log_ticks(math.log10(0.05), math.log10(2.0), 2)  # short plot: fewer ticks
    assert labels == ["0.1", "0.3", "1"]
    assert np.allclose(ticks, np.log10([0.1, 0.3, 1.0]))


def test_narrow_title_is_compacted_then_cut():
    data = decaying(100)
    current = {"loss": 0.0744512, "val loss": 0.1034567}
    wide = plain(build_plot(80, 12, *data, current=current, log_scale=True)).splitlines()[0]
    assert "── loss 0.07445 · ● val loss 0.1035 (log)" in wide
    narrow = plain(build_plot(30, 8, *data, current=current, log_scale=True)).splitlines()[0]
    assert "── loss 0.0745 · ● 0.103 (log)" in narrow  # the dots alone name the validation loss
    tiny = plain(build_plot(16, 8, *data, current=current)).splitlines()[0]
    assert len(tiny) == 16 and tiny.endswith("…")


def test_curves_keep_their_16_colour_numbers_and_the_frame_has_no_colour():
    from tui_trainer.tui.widgets.loss_plot import TRAIN_COLOR, VAL_COLOR

    strips = build_plot(60, 16, *decaying(300))
    colours = {seg.style.color.number for strip in strips[1:] for seg in strip
               if seg.style is not None and seg.style.color is not None}
    assert colours == {TRAIN_COLOR, VAL_COLOR}  # numbers, so TERM=xterm's 16 colours keep them apart
    assert not any(seg.style and seg.style.bgcolor for strip in strips for seg in strip)
    frame = [seg for strip in strips[1:] for seg in strip if seg.text.strip("─┬└│┤ ") == "" and seg.text.strip()]
    assert frame and all(seg.style is None or seg.style.color is None for seg in frame)


def test_short_plot_names_the_x_axis_at_the_end_of_the_tick_row_always():
    lines = plain(build_plot(78, 10, *decaying(4800))).splitlines()
    assert len(lines) == 10 and lines[-1].endswith(" step") and "4k" in lines[-1]
    # A tick label where the name goes gives way, whole: the name stays in its place from one
    # redraw to the next, and no number is shown cut (a "5" of "5k").
    lines = plain(build_plot(78, 10, *decaying(5000))).splitlines()
    assert lines[-1].endswith(" step") and lines[-1].split()[:-1] == ["1k", "2k", "3k", "4k"]
    for n in range(100, 6000, 37):
        row = plain(build_plot(78, 10, *decaying(n))).splitlines()[-1]
        assert row.endswith(" step") and all(label[-1].isdigit() or label[-1] == "k" for label in row.split()[:-1]), row
    tall = plain(build_plot(78, 20, *decaying(5000))).splitlines()
    assert tall[-1].lstrip().startswith("loss") and "step" in tall[-1] and not tall[-2].endswith("step")


def test_title_is_a_legend_without_colour():
    # The names are in their lines' colours, and with NO_COLOR (or for colour blindness) a glyph
    # still tells the lines apart: the training loss is the line, the validation loss the dots.
    data = decaying(200)
    lines = plain(build_plot(80, 16, *data, current={"loss": 0.123, "val loss": 0.145})).splitlines()
    assert "── loss 0.123 · ● val loss 0.145" in lines[0]
    assert any("●" in line for line in lines[1:])  # the validation points are drawn with that glyph
    only_train = plain(build_plot(80, 16, *data[:2], [], [], current={"loss": 0.123})).splitlines()[0]
    assert "── loss 0.123" in only_train and "●" not in only_train
    narrow = plain(build_plot(34, 8, *data, current={"loss": 0.0744512, "val loss": 0.1034567})).splitlines()[0]
    assert "── loss 0.0745 · ● val 0.103" in narrow


def test_legend_survives_no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def check(pilot, plot):
        n = plot.draw_count
        plot.update_series(*decaying(300), current={"loss": 0.5, "val loss": 0.6})
        await drawn(pilot, plot, n)
        assert "── loss 0.5 · ● val loss 0.6" in screen_text(plot).splitlines()[0]

    run(check)
