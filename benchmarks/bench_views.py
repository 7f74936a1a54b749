"""Training speed with each "inside the network" view open, against the main screen.

One app per view trains without stopping while the screen alternates: a few seconds on the main
screen, a few seconds with the view open, again and again. Steps per second are counted in
each phase, so load from elsewhere on the machine hits both sides of every pair alike; the
result is the median over the pairs of (view rate / main-screen rate).
Target: every view keeps at least 85% of the main screen's speed (at most 15% slower).

    python benchmarks/bench_views.py [--seconds 2] [--pairs 4] [--size 120x36] [--preset NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_trainer.experiments.config import with_overrides  # noqa: E402
from tui_trainer.experiments.presets import get_preset  # noqa: E402

VIEWS = {"b": "boundary", "g": "gradients", "a": "activations", "x": "collapse", "d": "partials",
         "i": "inspector", "t": "data"}
TARGET = 0.85
SETTLE = 0.4
"""Seconds after a screen switch before counting (the switch itself is not what is measured)."""


async def count(main, seconds: float) -> tuple[float, float]:
    """Steps per second, and the share of a CPU the UI thread used (this coroutine runs on it)."""
    await asyncio.sleep(SETTLE)
    n0, t0, c0 = main.session.trainer.step_count, time.perf_counter(), time.thread_time()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - t0
    return (main.session.trainer.step_count - n0) / elapsed, (time.thread_time() - c0) / elapsed


async def pairs_for(preset: str, key: str, size, seconds: float, pairs: int):
    from tui_trainer.tui.app import NNTuiApp

    app = NNTuiApp(with_overrides(get_preset(preset), epochs=1_000_000))
    main_rates, view_rates, main_ui, view_ui, draws = [], [], [], [], 0
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        main = app.screen
        main.action_toggle_training()  # not a key press: Pilot waits for idle, never reached while training
        for _ in range(pairs):
            rate, ui = await count(main, seconds)
            main_rates.append(rate)
            main_ui.append(ui)
            main.action_open_view(VIEWS[key])
            view = app.screen
            rate, ui = await count(main, seconds)
            view_rates.append(rate)
            view_ui.append(ui)
            draws += view.draw_count
            app.pop_screen()
        main.session.stop()
        await main.training.stop()
    return main_rates, view_rates, main_ui, view_ui, draws


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds counted per phase")
    parser.add_argument("--pairs", type=int, default=4, help="main/view phase pairs per view")
    parser.add_argument("--size", default="120x36")
    parser.add_argument("--preset", default="spiral-tanh")
    parser.add_argument("--views", default="".join(VIEWS), help="view keys, e.g. bgd")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x"))
    print(f"preset {args.preset} at {args.size}: {args.pairs} pairs of {args.seconds:g} s phases per view")
    ok = True
    for key in args.views:
        main_rates, view_rates, main_ui, view_ui, draws = asyncio.run(
            pairs_for(args.preset, key, size, args.seconds, args.pairs))
        ratios = [v / m for v, m in zip(view_rates, main_rates)]
        fraction = statistics.median(ratios)
        ok &= fraction >= TARGET
        per_second = draws / (args.pairs * (args.seconds + SETTLE))
        print(f"  {key} {VIEWS[key]:<12} main {statistics.median(main_rates):7,.0f} steps/s, "
              f"view {statistics.median(view_rates):7,.0f} steps/s: {fraction:.2f} "
              f"(pairs {', '.join(f'{r:.2f}' for r in ratios)}); UI thread CPU "
              f"{statistics.median(main_ui):.0%} -> {statistics.median(view_ui):.0%}; {per_second:.1f} redraws/s")
    print("all views within target" if ok else f"some views below {TARGET:.0%} of the main screen")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
