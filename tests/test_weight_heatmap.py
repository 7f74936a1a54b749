"""WeightHeatmap (Pilot) and its colour map (pure functions)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from rich.color import ColorSystem
from textual.app import App, ComposeResult

from tui_trainer.tui.widgets import colormap
from tui_trainer.tui.widgets.weight_heatmap import WeightHeatmap

# ---------------------------------------------------------------------------------------------- colour map


@pytest.mark.parametrize("n_levels", [65, 9, 5])
def test_zero_maps_to_middle_and_scale_to_extremes(n_levels):
    s = 0.8
    levels = colormap.values_to_levels(np.array([0.0, s, -s, 5 * s, -5 * s, 1e-12, -1e-12]), s, n_levels)
    middle = n_levels // 2
    assert levels.tolist() == [middle, n_levels - 1, 0, n_levels - 1, 0, middle, middle]


@pytest.mark.parametrize("n_levels", [65, 9, 5])
def test_levels_are_symmetric_about_zero(n_levels):
    v = np.random.default_rng(1).normal(0, 1, 1000)
    v = np.concatenate([v, np.linspace(-1.5, 1.5, 301)])  # includes exact rounding boundaries
    up = colormap.values_to_levels(v, 1.0, n_levels)
    down = colormap.values_to_levels(-v, 1.0, n_levels)
    assert np.array_equal(up + down, np.full_like(up, n_levels - 1))
    assert np.all(np.diff(colormap.values_to_levels(np.sort(v), 1.0, n_levels)) >= 0)  # monotonic


def test_nan_and_inf_get_their_own_level():
    levels = colormap.values_to_levels(np.array([np.nan, np.inf, -np.inf, 0.0]), 1.0, 65)
    assert levels.tolist() == [65, 65, 65, 32]


def test_symmetric_scale_is_a_high_percentile_of_abs():
    v = np.arange(-100, 101, dtype=float)  # |v| = 0..100
    assert colormap.symmetric_scale(v) == pytest.approx(np.percentile(np.abs(v), 99))
    assert colormap.symmetric_scale(np.zeros((3, 3))) == 1.0
    assert colormap.symmetric_scale(np.array([np.nan, 2.0, -4.0])) == pytest.approx(np.percentile([2, 4], 99))
    # One outlier among zeros: the percentile is 0, so the scale falls back to the largest |value|.
    assert colormap.symmetric_scale(np.array([0.0] * 200 + [3.0])) == 3.0
    big = np.random.default_rng(0).normal(0, 1, (784, 256))  # sampled estimate
    assert colormap.symmetric_scale(big) == pytest.approx(np.percentile(np.abs(big), 99), rel=0.05)


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
@pytest.mark.parametrize("q", [0.0, 37.5, 99.0, 100.0])
def test_percentile_by_partition_is_numpys(n, q):
    a = np.random.default_rng(n).normal(size=n)
    assert colormap.partition_percentile(a, q) == pytest.approx(np.percentile(a, q), rel=1e-12, abs=1e-15)


def test_block_average_handles_partial_blocks():
    m = np.arange(35.0).reshape(5, 7)
    out = colormap.block_average(m, 2, 3)
    assert out.shape == (3, 3)
    assert out[0, 0] == m[0:2, 0:3].mean()
    assert out[1, 2] == m[2:4, 6:].mean()
    assert out[2, 2] == m[4:, 6:].mean()
    assert colormap.block_average(m, 1, 1) is not None and np.array_equal(colormap.block_average(m, 1, 1), m)


def test_palette_selection_by_color_system():
    assert colormap.select_palette("truecolor") is colormap.SMOOTH
    assert colormap.select_palette("256") is colormap.SMOOTH
    assert colormap.select_palette("standard") is colormap.ANSI16
    assert colormap.select_palette("windows").name == "ansi16"
    assert colormap.select_palette(None) is colormap.GLYPHS
    assert colormap.select_palette("truecolor", no_color=True) is colormap.GLYPHS
    assert colormap.select_palette("standard", override="smooth") is colormap.SMOOTH
    with pytest.raises(ValueError, match="unknown palette"):
        colormap.select_palette("truecolor", override="rainbow")


def test_sixteen_colour_palette_keeps_its_five_levels_distinct():
    palette = colormap.select_palette("standard")
    assert palette.n_levels == 5 and palette.middle == 2
    numbers = [c.downgrade(ColorSystem.STANDARD).number for c in palette.colors]
    # bright blue, blue, bright black (grey), yellow, bright yellow: five different terminal colours
    assert numbers == [12, 4, 8, 3, 11]
    windows = colormap.select_palette("windows")
    assert [c.downgrade(ColorSystem.WINDOWS).number for c in windows.colors] == [12, 4, 8, 3, 11]


def test_no_colour_palette_uses_distinct_glyphs():
    palette = colormap.select_palette("truecolor", no_color=True)
    assert not palette.uses_color
    assert palette.n_levels % 2 == 1 and len(set(palette.glyphs)) == palette.n_levels
    assert palette.glyphs[palette.middle] == "·"
    assert palette.glyphs[-1] == "█"  # the strongest positive is a full block


def test_smooth_map_is_dark_in_the_middle_blue_below_orange_above():
    table = colormap.smooth_rgb_table()
    assert len(table) == colormap.SMOOTH_LEVELS
    r, g, b = (int(x) for x in table[len(table) // 2])
    assert max(r, g, b) < 80  # quiet, near-neutral zero
    assert table[0][2] > table[0][0]  # most negative: blue
    assert table[-1][0] > table[-1][2]  # most positive: orange


# ---------------------------------------------------------------------------------------------- the widget


class HeatmapApp(App):
    """A tiny app with one heatmap that records the CursorMoved messages."""

    def __init__(self, palette: str | None = "smooth") -> None:
        super().__init__()
        self.palette_name = palette
        self.moves: list[WeightHeatmap.CursorMoved] = []

    def compose(self) -> ComposeResult:
        yield WeightHeatmap(palette=self.palette_name)

    def on_mount(self) -> None:
        self.query_one(WeightHeatmap).focus()

    def on_weight_heatmap_cursor_moved(self, message: WeightHeatmap.CursorMoved) -> None:
        self.moves.append(message)


def screen_text(heatmap: WeightHeatmap) -> list[str]:
    """The heatmap's lines as plain text."""
    return [heatmap.render_line(y).text for y in range(heatmap.size.height)]


def run(coro_fn, size=(80, 24), palette: str | None = "smooth"):
    """Run ``coro_fn(app, pilot, heatmap)`` inside ``App.run_test`` (no pytest-asyncio needed)."""

    async def main():
        app = HeatmapApp(palette)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await coro_fn(app, pilot, app.query_one(WeightHeatmap))

    asyncio.run(main())


KNOWN = np.array(
    [
        [0.5, -0.25, 0.0, 1.0],
        [-1.0, 0.125, 0.75, -0.5],
        [0.25, 0.0, -0.75, 0.3],
    ]
)
KNOWN_BIAS = np.array([0.1, -0.2, 0.3, -0.4])


def test_empty_state_shows_a_hint():
    async def check(app, pilot, heatmap):
        text = screen_text(heatmap)
        assert any("no weights yet" in line for line in text)
        heatmap.action_cursor_right()  # no matrix: nothing to move, nothing raised
        assert heatmap.cursor == (0, 0)

    run(check, size=(40, 10))


def test_renders_a_known_matrix_with_title_shape_and_bias():
    async def check(app, pilot, heatmap):
        heatmap.set_matrix(KNOWN, KNOWN_BIAS, title="W1 (3 x 4) weights")
        await pilot.pause()
        text = screen_text(heatmap)
        joined = "\n".join(text)
        assert "W1 (3 x 4) weights" in joined
        assert "rows = 3 inputs, columns = 4 nodes" in joined
        assert "downsampled" not in joined
        assert heatmap.downsample == (1, 1)
        assert any(line.lstrip().startswith("b1 ") for line in text)  # the labelled bias strip
        assert "min -1  max 1" in joined  # legend with the data's extent
        assert "W1[0, 0] = 0.5000  (input 0 -> node 0)" in joined
        assert "b1[0] = 0.1000" in joined
        # Small matrices are drawn big: each value gets several characters.
        layout = heatmap.matrix_layout
        assert layout.cell_w >= 4 and layout.cell_h >= 2

        # The colours: the cell of W[0, 3] = 1.0 (the largest value) has the top colour of the map.
        scale = heatmap.scale
        assert scale == pytest.approx(np.percentile(np.abs(KNOWN), 99))
        top = colormap.SMOOTH.colors[-1]
        x = layout.gutter + 3 * layout.cell_w + 1
        y = layout.matrix_y + 1  # a line inside row 0
        strip = heatmap.render_line(y)
        colors = [(seg.style.bgcolor, seg.style.color) for seg in strip for _ in seg.text]
        assert top in colors[x]

    run(check)


@pytest.mark.parametrize("size", [(46, 11), (84, 21), (120, 30)])
def test_few_rows_fill_the_height_within_a_two_to_one_aspect(size):
    # W1 of a 2-input net: 2 rows of 16. Width limits the cells, so they grow downwards (up to twice as
    # tall as wide, a half-row being about one character wide) instead of leaving the pane empty.
    async def check(app, pilot, heatmap):
        rng = np.random.default_rng(0)
        heatmap.set_matrix(rng.normal(size=(2, 16)), rng.normal(size=16), title="W1 (2 x 16) weights")
        await pilot.pause()
        layout = heatmap.matrix_layout
        assert not layout.downsampled and layout.per_line == 2
        assert layout.cell_w == (layout.width - layout.gutter) // 16  # as wide as fits
        half_rows = layout.matrix_lines * 2
        assert layout.cell_h == min(2 * layout.cell_w, half_rows // 2)  # as tall as fits, up to 2:1
        assert layout.cell_h > layout.cell_w  # taller than square: the spare height is used
        assert 2 * layout.cell_h <= half_rows

    run(check, size=size)


def test_a_single_column_is_drawn_wider_than_a_sliver_and_named_in_the_singular():
    # W3 of a 16 -> 1 output layer in the main pane: height limits the cells to one half-row each.
    async def check(app, pilot, heatmap):
        heatmap.set_matrix(np.linspace(-1, 1, 16).reshape(16, 1), np.array([0.5]), title="W3 (16 x 1) weights")
        await pilot.pause()
        layout = heatmap.matrix_layout
        assert (layout.cell_h, layout.cell_w) == (1, 4)  # up to four times as wide as tall
        assert "rows = 16 inputs, columns = 1 node" in "\n".join(screen_text(heatmap))

    run(check, size=(44, 14))


def test_cursor_moves_updates_value_line_and_posts_cursor_moved():
    async def check(app, pilot, heatmap):
        heatmap.set_matrix(KNOWN, KNOWN_BIAS, title="W1 (3 x 4) weights")
        await pilot.pause()
        app.moves.clear()
        await pilot.press("right")
        await pilot.press("down")
        await pilot.pause()
        assert heatmap.cursor == (1, 1)
        joined = "\n".join(screen_text(heatmap))
        assert "W1[1, 1] = 0.1250  (input 1 -> node 1)" in joined
        assert "b1[1] = -0.2000" in joined
        assert [(m.row, m.col) for m in app.moves] == [(0, 1), (1, 1)]
        last = app.moves[-1]
        assert last.value == pytest.approx(0.125)
        assert last.control is heatmap
        assert last.rows == range(1, 2) and last.cols == range(1, 2)

        # Clamped at the edges; end/home and pageup/pagedown jump.
        for key in ("down", "down", "down", "end", "right"):
            await pilot.press(key)
        assert heatmap.cursor == (2, 3)
        await pilot.press("home", "pageup")
        assert heatmap.cursor == (0, 0)

    run(check)


def test_cursor_is_kept_for_same_shape_and_clamped_for_smaller():
    async def check(app, pilot, heatmap):
        heatmap.set_matrix(KNOWN, None, title="W1 (3 x 4) weights")
        heatmap.cursor = (2, 3)
        heatmap.set_matrix(KNOWN * 2, None, title="W1 (3 x 4) weights")
        await pilot.pause()
        assert heatmap.cursor == (2, 3)
        assert "W1[2, 3] = 0.6000" in "\n".join(screen_text(heatmap))
        heatmap.set_matrix(np.ones((2, 2)), None, title="W2 (2 x 2) weights")
        assert heatmap.cursor == (1, 1)
        joined = "\n".join(screen_text(heatmap))
        assert "b2" not in joined  # no bias given: no bias strip or value

    run(check)


def test_set_matrix_keeps_a_copy():
    async def check(app, pilot, heatmap):
        m = KNOWN.copy()
        heatmap.set_matrix(m, None, title="W1")
        m[0, 0] = 99.0
        assert heatmap.matrix[0, 0] == 0.5

    run(check, size=(40, 12))


def test_big_matrix_is_downsampled_and_says_so():
    big = np.random.default_rng(0).normal(0, 1, (784, 256))

    async def check(app, pilot, heatmap):
        heatmap.set_matrix(big, np.zeros(256), title="W1 (784 x 256) weights")
        await pilot.pause()
        fr, fc = heatmap.downsample
        assert fr > 1 and fc > 1
        joined = "\n".join(screen_text(heatmap))
        assert f"downsampled {fr}x{fc} (each cell = mean of {fr}x{fc} values)" in joined
        # The cursor moves over displayed cells and reports the block mean.
        app.moves.clear()
        await pilot.press("down", "right")
        await pilot.pause()
        assert heatmap.cursor == (fr, fc)
        rows, cols, value = heatmap.cursor_block()
        assert rows == range(fr, 2 * fr) and cols == range(fc, 2 * fc)
        assert value == pytest.approx(big[fr : 2 * fr, fc : 2 * fc].mean())
        assert app.moves[-1].rows == rows and app.moves[-1].value == pytest.approx(value)
        joined = "\n".join(screen_text(heatmap))
        assert f"W1[{fr}:{2 * fr}, {fc}:{2 * fc}] mean = " in joined
        assert f"(inputs {fr}-{2 * fr - 1} -> nodes {fc}-{2 * fc - 1})" in joined

    run(check, size=(120, 36))


def test_downsampling_note_in_full_where_there_is_room():
    async def check(app, pilot, heatmap):
        heatmap.set_matrix(np.ones((300, 100)), None, title="W1 (300 x 100) weights")
        await pilot.pause()
        fr, fc = heatmap.downsample
        assert fr > 1 and fc > 1
        joined = "\n".join(screen_text(heatmap))
        assert f"downsampled {fr}x{fc}: each cell averages {fr} rows x {fc} columns" in joined

    run(check, size=(80, 24))


def test_given_symmetric_scale_is_used_in_the_legend():
    async def check(app, pilot, heatmap):
        heatmap.set_matrix(KNOWN, None, title="W1", symmetric_scale=2.0)
        await pilot.pause()
        assert heatmap.scale == 2.0
        assert any(line.startswith("-2 ") and "+2" in line for line in screen_text(heatmap))

    run(check)


@pytest.mark.parametrize("palette", ["smooth", "ansi16", "glyphs"])
def test_never_raises_and_fills_every_line_at_any_size(palette):
    rng = np.random.default_rng(2)
    shapes = [(1, 1), (2, 16), (16, 8), (64, 32), (300, 100), (3, 500), (500, 2)]

    async def check(app, pilot, heatmap):
        for shape in shapes:
            m = rng.normal(0, 1, shape)
            m[0, 0] = np.nan  # a diverged weight must not break drawing
            heatmap.set_matrix(m, rng.normal(0, 1, shape[1]), title=f"W9 ({shape[0]} x {shape[1]}) weights")
            heatmap.cursor = (shape[0] - 1, shape[1] - 1)
            for width in (0, 1, 2, 5, 9, 17, 38, 61):
                for height in (1, 2, 3, 5, 8, 12, 20):
                    for y in range(height):
                        strip = heatmap.render_line_at(y, width, height)
                        assert strip.cell_length == width, (shape, width, height, y)

    run(check, size=(40, 12), palette=palette)


def test_small_terminal_shows_the_essentials():
    async def check(app, pilot, heatmap):
        heatmap.set_matrix(np.random.default_rng(3).normal(0, 1, (16, 8)), np.zeros(8), title="W2 (16 x 8) weights")
        await pilot.pause()
        text = screen_text(heatmap)
        assert text[0].startswith("W2 (16 x 8) weights")
        assert text[-1].startswith("W2[0") or any(line.startswith("W2[0") for line in text)

    run(check, size=(38, 12))


def test_glyph_palette_draws_characters_and_explains_them():
    async def check(app, pilot, heatmap):
        heatmap.set_matrix(np.array([[-1.0, 0.0, 1.0]]), None, title="W1 (1 x 3) weights", symmetric_scale=1.0)
        await pilot.pause()
        text = screen_text(heatmap)
        joined = "\n".join(text)
        layout = heatmap.matrix_layout
        body = text[layout.matrix_y][layout.gutter :]
        assert body.startswith("■" * layout.cell_w + "·" * layout.cell_w + "█" * layout.cell_w)
        assert "■≡=-" in joined and "░▒▓█" in joined  # the legend shows the glyph scale

    run(check, palette="glyphs")


def test_palette_follows_the_app_colour_system():
    async def check(app, pilot, heatmap):
        expected = colormap.select_palette(app.console.color_system, app.no_color)
        assert heatmap.palette is expected

    run(check, palette=None)


def test_click_moves_the_cursor():
    async def check(app, pilot, heatmap):
        heatmap.set_matrix(KNOWN, None, title="W1 (3 x 4) weights")
        await pilot.pause()
        layout = heatmap.matrix_layout
        x = layout.gutter + 2 * layout.cell_w
        y = layout.matrix_y + (2 * layout.cell_h) // layout.per_line + 1
        await pilot.click(WeightHeatmap, offset=(x, y))
        assert heatmap.cursor == (2, 2)

    run(check)


@pytest.mark.parametrize("rows", [16, 2])
@pytest.mark.parametrize("title, bias", [
    ("W2 (n x 16) weights", "b2"),
    ("dL/dW2 (n x 16) gradient", "dL/db2"),
    ("ΔW2 (n x 16) update", "Δb2"),
])
def test_the_bias_strip_is_labelled_as_the_value_line_names_it(title, bias, rows):
    # The gradient's bias strip read " b" where the update's read "Δb2": each view names its bias
    # in full where the label costs the matrix at most a character per column.
    W = np.random.default_rng(0).normal(size=(rows, 16))
    b = np.linspace(-1.0, 1.0, 16)

    async def check(app, pilot, heatmap):
        heatmap.set_matrix(W, b, title=title)
        await pilot.pause()
        text = screen_text(heatmap)
        labelled = [line for line in text if line.lstrip().startswith(f"{bias} ")]
        assert labelled, text
        assert f"{bias}[0] = " in "\n".join(text)

    run(check, size=(66, 14))


def test_a_narrow_heatmap_shortens_the_bias_label_to_its_layer():
    W = np.random.default_rng(0).normal(size=(16, 16))
    b = np.linspace(-1.0, 1.0, 16)

    async def check(app, pilot, heatmap):
        heatmap.set_matrix(W, b, title="dL/dW2 (16 x 16) gradient")
        await pilot.pause()
        wide = heatmap.matrix_layout
        text = screen_text(heatmap)
        assert any(line.lstrip().startswith("b2 ") for line in text), text
        assert wide.cell_w >= 1

    run(check, size=(20, 14))
