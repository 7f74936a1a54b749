"""How the app holds up while it trains: training speed, key latency and start-up time.

Runs the app headless at each given terminal size on the default experiment, training as fast as
it can (pace "max"), and reports
  (a) training steps/s inside the app as a fraction of the same session loop without the app,
      headless, both recorded to the run store as the app and `nn-tui train` do by default
      (target >= 0.9),
  (b) the time from a key press to its effect while training: the first frame that shows it (and
      for a learning rate, the trainer using it), for the learning-rate keys + -, the log scale l,
      the heatmap's view v and its layer [ ] (target p95 <= 30 ms), with the full garbage
      collections meanwhile (they stop every thread),
  (c) the time from launching a fresh process to the app's first frame (target <= 0.4 s), once
      Python's bytecode cache for the package exists (as after any first launch),
  (d) the time from pressing q while training to the app's exit, the training thread stopped
      first (target <= 1 s; the tests check that it quits, this how fast),
  (e) config navigation: Down through the config pane while training, p50/p95 (Up back from its
      end; at 80 columns the pane is opened with c first), measured as (b) is: from the key to the
      first frame after focus reached the next field (target p95 <= 30 ms),
  (f) opening a view while training: from its key to the first frame after the view drew its
      first picture, each "inside the network" view opened a few times (the first opening also
      imports the view's module) and closed with Escape in between (target <= 100 ms).

A headless app composes every frame but skips turning it into terminal output; here each frame
is also rendered to escape codes (and thrown away), so the UI thread does what it does in a
terminal.

    python benchmarks/bench_app.py [--size 80x24,120x36,200x50] [--seconds 2] [--pairs 8] [--presses 48]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_trainer.experiments.config import with_overrides  # noqa: E402
from tui_trainer.experiments.recording import Recorder  # noqa: E402
from tui_trainer.experiments.session import Session, default_config, lr_notch  # noqa: E402

DEFAULT_SIZES = "80x24,120x36,200x50"
TARGETS = {"fraction": 0.9, "p95_ms": 30.0, "first_frame_s": 0.4, "quit_s": 1.0, "view_ms": 100.0}
VIEW_KEYS = "bgaxdit"
"""The "inside the network" views that (f) opens, by key (those that draw the session's snapshots)."""
VIEW_ROUNDS = 3
"""Openings of each view in (f)."""
SETTLE = 0.3
"""Seconds after a phase starts before counting (resuming a loop is not what is measured)."""


def parse_size(text: str) -> tuple[int, int]:
    """``"200x50"`` -> ``(200, 50)``."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size is WIDTHxHEIGHT, e.g. 120x36, not {text!r}") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"a size needs positive numbers, not {text!r}")
    return width, height


def config():
    """The app's default experiment, with enough epochs not to finish during a measurement."""
    return with_overrides(default_config(), epochs=1_000_000)


def max_pace(session) -> None:
    """Train as fast as the machine allows (the app's default pace may be slow enough to watch)."""
    if hasattr(session, "set_pace"):
        session.set_pace(None)


class PlainLoop:
    """The same session loop (snapshots and the run's records and all) on a plain thread, nobody
    drawing, as `nn-tui train` runs it; paused between phases."""

    def __init__(self, runs_dir: str) -> None:
        self.session = Session(config(), recorder=Recorder(runs_dir))
        max_pace(self.session)
        self.session.prepare_run()  # opens the run in the store, as `nn-tui train` and the app do
        self.thread = threading.Thread(target=self.session.run, args=(lambda snapshot: None,))
        self.session.pause()
        self.thread.start()

    def close(self) -> None:
        self.session.stop()
        self.thread.join()


async def rate(session, seconds: float) -> tuple[float, float]:
    """Steps per second of ``session``'s loop after a short settling time, and the share of a CPU
    that the UI thread used meanwhile (this coroutine runs on it)."""
    await asyncio.sleep(SETTLE)
    n0, t0, c0 = session.trainer.step_count, time.perf_counter(), time.thread_time()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - t0
    return (session.trainer.step_count - n0) / elapsed, (time.thread_time() - c0) / elapsed


class Collections:
    """The interpreter's garbage collections while measuring: a full one stops both threads."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._start = 0.0

    def __enter__(self) -> "Collections":
        gc.callbacks.append(self._note)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self._note)

    def _note(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._start)


class Frames:
    """Renders each frame the app composes to terminal output, as a terminal's driver would, and
    notes when the first frame after a probe's effect went out."""

    def __init__(self, app) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.count = 0
        self.render_seconds = 0.0
        self.probe = None
        self.shown_at: float | None = None
        display = app._display

        def rendering_display(screen, renderable) -> None:
            display(screen, renderable)
            if isinstance(renderable, CompositorUpdate) and app.is_headless:
                start = time.perf_counter()
                renderable.render_segments(app.console)
                self.render_seconds += time.perf_counter() - start
            self.count += 1
            if self.probe is not None and self.shown_at is None and self.probe():
                self.shown_at = time.perf_counter()

        app._display = rendering_display

    def watch(self, probe) -> None:
        self.probe, self.shown_at = probe, None


async def measure_in_app(size: tuple[int, int], seconds: float, pairs: int, presses: int):
    """Pairs of (plain-loop rate, in-app rate, UI thread's CPU share) taken back to back, then
    key-to-frame latencies.

    The machine's speed drifts by tens of percent from second to second, so each in-app phase is
    compared with a plain phase just before it, with the app's own loop paused meanwhile.
    """
    from textual import events

    from tui_trainer.tui.app import NNTuiApp
    from tui_trainer.tui.widgets.layer_view import LayerView
    from tui_trainer.tui.widgets.loss_plot import LossPlot

    runs = tempfile.mkdtemp(prefix="nn-tui-bench-runs-")  # both record here, not in ./runs
    app = NNTuiApp(config(), runs_dir=runs)
    plain = PlainLoop(runs)
    rates = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        with Collections() as collections:
            frames = Frames(app)
            session = app.screen.session
            max_pace(session)
            await pilot.press("space")
            try:
                for _ in range(pairs):
                    session.pause()
                    plain.session.resume()
                    plain_rate, _ = await rate(plain.session, seconds)
                    plain.session.pause()
                    session.resume()
                    app_rate, ui_share = await rate(session, seconds)
                    rates.append((plain_rate, app_rate, ui_share))
            finally:
                plain.close()

            handled, shown = [], []
            groups: dict[str, list[float]] = {}
            plot = app.screen.query_one(LossPlot)
            layers = app.screen.query_one(LayerView)
            lr_input = app.screen.query_one("#lr")
            plot_draws = plot.draw_count
            for i in range(presses):
                kind = i % 6
                if kind in (0, 2):  # the learning rate: reaches the trainer, and the config pane shows it
                    group, (key, char) = "lr + -", (("plus", "+") if kind == 0 else ("minus", "-"))
                    before = session.trainer.opt.lr
                    expected = f"{lr_notch(before, 1 if kind == 0 else -1):g}"
                    applied = lambda: session.trainer.opt.lr != before  # noqa: E731
                    visible = lambda: lr_input.value == expected  # noqa: E731
                elif kind == 1:  # the plot's log scale: shown once the plot is rebuilt
                    group, key, char, before, draws = "log l", "l", "l", plot.log_scale, plot.draw_count
                    applied = lambda: plot.log_scale != before  # noqa: E731
                    visible = lambda: applied() and plot.draw_count > draws  # noqa: E731
                elif kind == 3:  # the heatmap's view (weights / gradient / update)
                    group, key, char, before = "view v", "v", "v", layers.view_name
                    applied = visible = lambda: layers.view_name != before  # noqa: E731
                else:  # the heatmap's layer
                    group, before = "layer [ ]", layers.layer_index
                    key, char = ("left_square_bracket", "[") if kind == 4 else ("right_square_bracket", "]")
                    applied = visible = lambda: layers.layer_index != before  # noqa: E731
                applied_at, shown_at = await press(app, frames, key, char, applied, visible)
                handled.append(applied_at)
                shown.append(shown_at)
                groups.setdefault(group, []).append(shown_at)
                await asyncio.sleep(0.05)
            config_moves = await config_navigation(app, frames, presses)
            views = await open_views(app, frames)
            frames.watch(None)
        assert session.state == "training", "training stopped during the measurement"
        start = time.perf_counter()
        app.post_message(events.Key("q", "q"))
        while app.return_code is None:
            await asyncio.sleep(0.001)
        quit_s = time.perf_counter() - start
        assert not app.screen.running, "the app exited with its training worker still running"
    shutil.rmtree(runs, ignore_errors=True)
    return rates, handled, shown, {"full_gc": collections.pauses[2], "plot_draws": plot.draw_count - plot_draws,
                                   "plot_last_s": plot.last_draw_seconds, "frames": frames.count,
                                   "render_s": frames.render_seconds, "quit_s": quit_s, "groups": groups,
                                   "config": config_moves, "views": views}


async def press(app, frames: Frames, key: str, char: str | None, applied, visible) -> tuple[float, float]:
    """Press ``key`` as a terminal would; seconds until ``applied()`` and until the first frame
    drawn once ``visible()`` holds."""
    from textual import events

    frames.watch(visible)
    # The key event goes in as a terminal's would; Pilot.press also waits for the app to be idle,
    # which never happens while a training thread runs.
    start = time.perf_counter()
    app.post_message(events.Key(key, char))
    while not applied():
        await asyncio.sleep(0.001)
    applied_at = time.perf_counter()
    while frames.shown_at is None:
        await asyncio.sleep(0.001)
    shown_at = frames.shown_at
    frames.watch(None)
    return applied_at - start, max(shown_at, applied_at) - start


async def until(condition, timeout: float = 10.0) -> None:
    """Wait for ``condition()`` (a setup step, not measured)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.01)


async def config_navigation(app, frames: Frames, presses: int) -> list[float]:
    """(e): Down through the config pane's fields while training, Up back from the last one; the
    seconds from each key to the first frame after focus reached the next field."""
    from tui_trainer.tui.widgets.config_pane import ConfigPane
    from tui_trainer.tui.widgets.weight_heatmap import WeightHeatmap

    screen = app.screen
    pane = screen.query_one(ConfigPane)
    screen.action_toggle_config()  # as c does (at 80 columns, the pane in place of the plots)
    await until(lambda: screen.focused is not None and pane in screen.focused.ancestors)
    await asyncio.sleep(0.2)
    fields = pane._fields()
    times, step = [], 1
    for _ in range(presses):
        index = fields.index(screen.focused)
        if not 0 <= index + step < len(fields):
            step = -step
        target = fields[index + step]
        reached = lambda: screen.focused is target  # noqa: E731
        _, shown_at = await press(app, frames, "down" if step > 0 else "up", None, reached, reached)
        times.append(shown_at)
        await asyncio.sleep(0.05)
    screen.action_leave_field()  # as Escape does: back to the heatmap (the plots back at 80 columns)
    await until(lambda: isinstance(screen.focused, WeightHeatmap))
    await asyncio.sleep(0.2)
    return times


async def open_views(app, frames: Frames) -> list[tuple[str, bool, float]]:
    """(f): each view of ``VIEW_KEYS`` opened by its key ``VIEW_ROUNDS`` times while training, closed
    with Escape in between: (key, first opening, seconds from the key to the first frame after the
    view drew its first picture)."""
    from textual import events

    main = app.screen
    times = []
    for round_ in range(VIEW_ROUNDS):
        for key in VIEW_KEYS:
            drawn = lambda: app.screen is not main and getattr(app.screen, "draw_count", 0) > 0  # noqa: E731
            _, shown_at = await press(app, frames, key, key, drawn, drawn)
            times.append((key, round_ == 0, shown_at))
            app.post_message(events.Key("escape", None))
            await until(lambda: app.screen is main)
            await asyncio.sleep(0.2)
    return times



FIRST_FRAME_CHILD = """
import sys, time
from tui_trainer.tui.app import NNTuiApp

class FirstFrame(NNTuiApp):
    def on_mount(self):
        self.call_after_refresh(self.first_frame)  # runs once the first frame has been drawn

    def first_frame(self):
        with open(sys.argv[1], "w") as f:
            f.write(repr(time.time()))
        self.exit()

FirstFrame().run(headless=True, size=(int(sys.argv[2]), int(sys.argv[3])))
"""


def first_frame_seconds(size: tuple[int, int], runs: int = 5) -> tuple[float, list[float]]:
    """Wall time from starting a new Python process to the app's first composed frame.

    Returns the first launch, which also writes the package's bytecode cache (as a first launch
    anywhere does), and then ``runs`` launches that find it. ``PYTHONDONTWRITEBYTECODE`` is
    dropped for the child so that a later launch is timed as it would be on a user's machine.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for _ in range(runs + 1):
        with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
            start = time.time()
            subprocess.run([sys.executable, "-c", FIRST_FRAME_CHILD, out.name, *map(str, size)], check=True,
                           cwd=Path(__file__).resolve().parents[1], env=env)
            times.append(float(Path(out.name).read_text()) - start)
    return times[0], times[1:]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"80x24,200x50"`` -> ``[(80, 24), (200, 50)]``."""
    return [parse_size(part) for part in text.split(",") if part.strip()]


def spread(ms: list[float]) -> str:
    """p50, p95 and max of ``ms``."""
    return f"p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms, max {max(ms):.1f} ms"


def measure(size: tuple[int, int], args) -> dict:
    """Every line at ``size``, printed; returns the figures of the summary."""
    rates, handled, shown, ui = asyncio.run(measure_in_app(size, args.seconds, args.pairs, args.presses))
    ratios = [app_rate / plain_rate for plain_rate, app_rate, _ in rates]
    fraction = statistics.median(ratios)
    plain = statistics.median(p for p, _, _ in rates)
    in_app = statistics.median(a for _, a, _ in rates)
    ui_share = statistics.median(u for _, _, u in rates)
    ms = [1000 * x for x in shown]
    p95 = percentile(ms, 0.95)
    handled_ms = [1000 * x for x in handled]
    config_ms = [1000 * x for x in ui["config"]]
    view_ms = [1000 * x for _, _, x in ui["views"]]
    first_view_ms = [1000 * x for _, first, x in ui["views"] if first]
    first_launch, frames = first_frame_seconds(size)
    first = statistics.median(frames)

    print(f"app at {size[0]}x{size[1]}, pace max")
    print(f"(a) training speed: {in_app:,.0f} steps/s in the app, {plain:,.0f} without it: median of "
          f"{len(ratios)} back-to-back pairs {fraction:.3f} ({', '.join(f'{r:.2f}' for r in ratios)}) "
          f"(target >= {TARGETS['fraction']}); the UI thread used {ui_share:.0%} of a CPU")
    print(f"(b) key press to its effect on screen, while training: {spread(ms)} over {len(ms)} presses "
          f"(target p95 <= {TARGETS['p95_ms']:.0f} ms); reached the app's state: "
          f"p50 {statistics.median(handled_ms):.1f} ms, p95 {percentile(handled_ms, 0.95):.1f} ms")
    for group, times in ui["groups"].items():
        print(f"    {group:<10} {spread([1000 * x for x in times])} over {len(times)}")
    print(f"    during the presses: {ui['frames']} frames, terminal output {1000 * ui['render_s'] / max(ui['frames'], 1):.1f} ms "
          f"per frame; loss plot rebuilt {ui['plot_draws']} times, the last in {1000 * ui['plot_last_s']:.1f} ms")
    full = ui["full_gc"]
    print(f"    full garbage collections (they stop every thread) while measuring: {len(full)}"
          + (f", longest {1000 * max(full):.0f} ms" if full else ""))
    print(f"(c) launch to first frame: median {first:.2f} s over {len(frames)} runs "
          f"({', '.join(f'{t:.2f}' for t in frames)}; before them, one launch that writes the "
          f"bytecode cache if missing: {first_launch:.2f} s) (target <= {TARGETS['first_frame_s']} s)")
    print(f"(d) q while training to the app's exit: {1000 * ui['quit_s']:.0f} ms (target <= {TARGETS['quit_s']:.0f} s)")
    print(f"(e) config navigation: Down through the config pane while training, {spread(config_ms)} over "
          f"{len(config_ms)} presses (target p95 <= {TARGETS['p95_ms']:.0f} ms)")
    print(f"(f) a view's first picture after its key ({', '.join(VIEW_KEYS)}), while training: {spread(view_ms)} "
          f"over {len(view_ms)} openings; the first opening of each (its module imported): "
          f"max {max(first_view_ms):.1f} ms (target <= {TARGETS['view_ms']:.0f} ms)")
    figures = {"size": f"{size[0]}x{size[1]}", "fraction": fraction, "key_p95": p95, "key_max": max(ms),
               "config_p95": percentile(config_ms, 0.95), "view_max": max(view_ms), "first": first,
               "quit": ui["quit_s"]}
    figures["met"] = (fraction >= TARGETS["fraction"] and p95 <= TARGETS["p95_ms"]
                      and figures["config_p95"] <= TARGETS["p95_ms"] and figures["view_max"] <= TARGETS["view_ms"]
                      and first <= TARGETS["first_frame_s"] and ui["quit_s"] <= TARGETS["quit_s"])
    print("all targets met" if figures["met"] else "some targets NOT met")
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_sizes, default=DEFAULT_SIZES,
                        help=f"terminal sizes WIDTHxHEIGHT, comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds counted per speed phase")
    parser.add_argument("--pairs", type=int, default=8, help="plain/app phase pairs for the speed fraction")
    parser.add_argument("--presses", type=int, default=48, help="key presses for (b), and again for (e)")
    args = parser.parse_args(argv)

    summary = []
    for size in args.size:
        summary.append(measure(size, args))
        print()
    print("| size | in-app / headless | key p95 | key max | config Down p95 | view first picture max | first frame |")
    print("|---|---|---|---|---|---|---|")
    for f in summary:
        print(f"| {f['size']} | {f['fraction']:.2f} | {f['key_p95']:.0f} ms | {f['key_max']:.0f} ms | "
              f"{f['config_p95']:.0f} ms | {f['view_max']:.0f} ms | {f['first']:.2f} s |")
    met = all(f["met"] for f in summary)
    print("all targets met at every size" if met else "some targets NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
