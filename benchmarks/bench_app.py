"""How the app holds up while it trains: training speed, key latency and start-up time.

Runs the app headless on the default experiment and reports
  (a) training steps/s inside the app as a fraction of the same session loop without the app
      (target >= 0.85),
  (b) the time from a key press to its effect while training (target p95 <= 50 ms),
  (c) the time from launching a fresh process to the app's first frame (target <= 1 s), once
      Python's bytecode cache for the package exists (as after any first launch).

    python benchmarks/bench_app.py [--seconds 2] [--pairs 8] [--presses 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_trainer.config import with_overrides  # noqa: E402
from tui_trainer.session import Session, default_config  # noqa: E402

SIZE = (120, 36)
TARGETS = {"fraction": 0.85, "p95_ms": 50.0, "first_frame_s": 1.0}
SETTLE = 0.3
"""Seconds after a phase starts before counting (resuming a loop is not what is measured)."""


def config():
    """The app's default experiment, with enough epochs not to finish during a measurement."""
    return with_overrides(default_config(), epochs=1_000_000)


class PlainLoop:
    """The same session loop (snapshots and all) on a plain thread, nobody drawing; paused between phases."""

    def __init__(self) -> None:
        self.session = Session(config())
        self.thread = threading.Thread(target=self.session.run, args=(lambda snapshot: None,))
        self.session.pause()
        self.thread.start()

    def close(self) -> None:
        self.session.stop()
        self.thread.join()


async def rate(session, seconds: float) -> float:
    """Steps per second of ``session``'s loop, after a short settling time."""
    await asyncio.sleep(SETTLE)
    n0, t0 = session.trainer.step_count, time.perf_counter()
    await asyncio.sleep(seconds)
    return (session.trainer.step_count - n0) / (time.perf_counter() - t0)


async def measure_in_app(seconds: float, pairs: int, presses: int):
    """Pairs of (plain-loop rate, in-app rate) taken back to back, then key-to-effect latencies.

    The machine's speed drifts by tens of percent from second to second, so each in-app phase is
    compared with a plain phase just before it, with the app's own loop paused meanwhile.
    """
    from textual import events

    from tui_trainer.tui.app import NNTuiApp
    from tui_trainer.tui.widgets.loss_plot import LossPlot

    app = NNTuiApp(config())
    plain = PlainLoop()
    rates = []
    async with app.run_test(size=SIZE) as pilot:
        session = app.screen.session
        await pilot.press("space")
        try:
            for _ in range(pairs):
                session.pause()
                plain.session.resume()
                plain_rate = await rate(plain.session, seconds)
                plain.session.pause()
                session.resume()
                rates.append((plain_rate, await rate(session, seconds)))
        finally:
            plain.close()

        latencies = []
        plot = app.screen.query_one(LossPlot)
        lr_input = app.screen.query_one("#lr")
        for i in range(presses):
            if i % 2 == 0:  # the learning rate: reaches the trainer and the config pane
                key, char = ("plus", "+") if i % 4 == 0 else ("minus", "-")
                before = session.trainer.opt.lr
                done = lambda: session.trainer.opt.lr != before and lr_input.value == f"{session.trainer.opt.lr:g}"  # noqa: E731
            else:  # the plot's log scale
                key, char, before = "l", "l", plot.log_scale
                done = lambda: plot.log_scale != before  # noqa: E731
            # The key event goes in as a terminal's would; Pilot.press also waits for the app to be
            # idle, which never happens while a training thread runs.
            start = time.perf_counter()
            app.post_message(events.Key(key, char))
            while not done():
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(0.05)
        assert session.state == "training", "training stopped during the measurement"
        await pilot.press("q")
    return rates, latencies


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

FirstFrame().run(headless=True, size=(120, 36))
"""


def first_frame_seconds(runs: int = 5) -> tuple[float, list[float]]:
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
            subprocess.run([sys.executable, "-c", FIRST_FRAME_CHILD, out.name], check=True,
                           cwd=Path(__file__).resolve().parents[1], env=env)
            times.append(float(Path(out.name).read_text()) - start)
    return times[0], times[1:]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds counted per speed phase")
    parser.add_argument("--pairs", type=int, default=8, help="plain/app phase pairs for the speed fraction")
    parser.add_argument("--presses", type=int, default=40, help="key presses for the latency measurement")
    args = parser.parse_args(argv)

    rates, latencies = asyncio.run(measure_in_app(args.seconds, args.pairs, args.presses))
    ratios = [app_rate / plain_rate for plain_rate, app_rate in rates]
    fraction = statistics.median(ratios)
    plain = statistics.median(p for p, _ in rates)
    in_app = statistics.median(a for _, a in rates)
    ms = sorted(1000 * x for x in latencies)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    first_launch, frames = first_frame_seconds()
    first = statistics.median(frames)

    print(f"(a) training speed: {in_app:,.0f} steps/s in the app, {plain:,.0f} without it: median of "
          f"{len(ratios)} back-to-back pairs {fraction:.2f} ({', '.join(f'{r:.2f}' for r in ratios)}) "
          f"(target >= {TARGETS['fraction']})")
    print(f"(b) key press to effect while training: median {statistics.median(ms):.1f} ms, "
          f"p95 {p95:.1f} ms, max {ms[-1]:.1f} ms over {len(ms)} presses (target p95 <= {TARGETS['p95_ms']:.0f} ms)")
    print(f"(c) launch to first frame: median {first:.2f} s over {len(frames)} runs "
          f"({', '.join(f'{t:.2f}' for t in frames)}; before them, one launch that writes the "
          f"bytecode cache if missing: {first_launch:.2f} s) (target <= {TARGETS['first_frame_s']} s)")
    met = fraction >= TARGETS["fraction"] and p95 <= TARGETS["p95_ms"] and first <= TARGETS["first_frame_s"]
    print("all targets met" if met else "some targets NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
