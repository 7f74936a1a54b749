"""How the app holds up while it trains: training speed, key latency and start-up time.

Runs the app headless on the default experiment and reports
  (a) training steps/s inside the app as a fraction of the same session loop without the app
      (target >= 0.85),
  (b) the time from a key press to its effect while training (target p95 <= 50 ms),
  (c) the time from launching a fresh process to the app's first frame (target <= 1 s).

    python benchmarks/bench_app.py [--seconds 4] [--presses 40]
"""

from __future__ import annotations

import argparse
import asyncio
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


def config():
    """The app's default experiment, with enough epochs not to finish during a measurement."""
    return with_overrides(default_config(), epochs=1_000_000)


def steps_per_second_without_app(seconds: float) -> float:
    """The same session loop (snapshots and all) on a plain thread, nobody drawing."""
    session = Session(config())
    thread = threading.Thread(target=session.run, args=(lambda snapshot: None,))
    thread.start()
    time.sleep(0.5)  # warm up like the app run does
    n0, t0 = session.trainer.step_count, time.perf_counter()
    time.sleep(seconds)
    n1, t1 = session.trainer.step_count, time.perf_counter()
    session.stop()
    thread.join()
    return (n1 - n0) / (t1 - t0)


async def measure_in_app(seconds: float, presses: int) -> tuple[float, list[float]]:
    """Steps/s while the app trains and draws, then key-to-effect latencies while training."""
    from textual import events

    from tui_trainer.tui.app import NNTuiApp
    from tui_trainer.tui.widgets.loss_plot import LossPlot

    app = NNTuiApp(config())
    async with app.run_test(size=SIZE) as pilot:
        session = app.screen.session
        await pilot.press("space")
        await asyncio.sleep(0.5)
        n0, t0 = session.trainer.step_count, time.perf_counter()
        await asyncio.sleep(seconds)
        rate = (session.trainer.step_count - n0) / (time.perf_counter() - t0)

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
    return rate, latencies


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


def first_frame_seconds(runs: int = 5) -> list[float]:
    """Wall time from starting a new Python process to the app's first composed frame."""
    times = []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
            start = time.time()
            subprocess.run([sys.executable, "-c", FIRST_FRAME_CHILD, out.name], check=True,
                           cwd=Path(__file__).resolve().parents[1])
            times.append(float(Path(out.name).read_text()) - start)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds of training per speed measurement")
    parser.add_argument("--presses", type=int, default=40, help="key presses for the latency measurement")
    args = parser.parse_args(argv)

    plain = steps_per_second_without_app(args.seconds)
    in_app, latencies = asyncio.run(measure_in_app(args.seconds, args.presses))
    fraction = in_app / plain
    ms = sorted(1000 * x for x in latencies)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    frames = first_frame_seconds()
    first = statistics.median(frames)

    print(f"(a) training speed: {in_app:,.0f} steps/s in the app, {plain:,.0f} without it: "
          f"{fraction:.2f} (target >= {TARGETS['fraction']})")
    print(f"(b) key press to effect while training: median {statistics.median(ms):.1f} ms, "
          f"p95 {p95:.1f} ms, max {ms[-1]:.1f} ms over {len(ms)} presses (target p95 <= {TARGETS['p95_ms']:.0f} ms)")
    print(f"(c) launch to first frame: median {first:.2f} s over {len(frames)} runs "
          f"({', '.join(f'{t:.2f}' for t in frames)}) (target <= {TARGETS['first_frame_s']} s)")
    met = fraction >= TARGETS["fraction"] and p95 <= TARGETS["p95_ms"] and first <= TARGETS["first_frame_s"]
    print("all targets met" if met else "some targets NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
