"""Memory over a long run at full speed: headless (`nn-tui train`) and in the app (in a real terminal).

A run left going overnight must not exhaust the machine: its histories are bounded. This starts
the run in a child process, samples the child's resident memory (VmRSS) every few seconds, and
reports the growth after the first minute (target: within 10 MB).

    python benchmarks/soak.py [--mode headless|app|both] [--minutes 10] [--every 10]

The app mode needs tmux: it opens `nn-tui` at 120x36 on the default experiment with a billion
epochs, sets the pace to "max" and starts training, as a user would by keys.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_trainer.experiments.config import save_config, with_overrides  # noqa: E402
from tui_trainer.experiments.session import PACES, default_config  # noqa: E402

TARGET_MB = 10.0
WARMUP_S = 60.0
EPOCHS = 10**8
"""More than any 10-minute run completes: the run never finishes while it is measured."""


def rss_mb(pid: int) -> float | None:
    """The resident memory of process ``pid`` in MB, or None once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def nn_tui() -> list[str]:
    """The command that runs nn-tui from this checkout's Python."""
    return [sys.executable, "-c", "from tui_trainer.cli import main; main()"]


def sample(pid: int, seconds: float, every: float, label: str) -> list[tuple[float, float]]:
    """(time, MB) pairs for ``seconds``, printed as they come."""
    points: list[tuple[float, float]] = []
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        mb = rss_mb(pid)
        if mb is None:
            raise SystemExit(f"{label}: the process ended after {elapsed:.0f} s")
        points.append((elapsed, mb))
        print(f"{label} {elapsed:6.0f} s  {mb:7.1f} MB", flush=True)
        time.sleep(every)
    return points


def growth(points: list[tuple[float, float]]) -> float:
    """The most memory above what the process held at the end of the warm-up minute."""
    after = [mb for t, mb in points if t >= WARMUP_S]
    if len(after) < 2:
        return float("nan")
    return max(after) - after[0]


def soak_headless(seconds: float, every: float) -> float:
    args = [*nn_tui(), "train", "--epochs", str(EPOCHS), "--json"]
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return growth(sample(child.pid, seconds, every, "headless"))
    finally:
        child.kill()
        child.wait()


def app_pid(session: str) -> int:
    """The pid of the Python process that the tmux pane runs."""
    out = subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def soak_app(seconds: float, every: float) -> float:
    if shutil.which("tmux") is None:
        raise SystemExit("app mode needs tmux")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "soak.toml"
        save_config(with_overrides(default_config(), epochs=EPOCHS), config)
        session = f"soak{os.getpid()}"
        command = " ".join([*(f"'{a}'" for a in nn_tui()), "--config", str(config)])
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36",
                        f"env TERM=xterm-256color {command}"], check=True)
        try:
            time.sleep(4)  # the app's first frame
            for _ in PACES:  # pace up to "max"
                subprocess.run(["tmux", "send-keys", "-t", session, ">"], check=True)
                time.sleep(0.1)
            subprocess.run(["tmux", "send-keys", "-t", session, "space"], check=True)
            return growth(sample(app_pid(session), seconds, every, "app"))
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["headless", "app", "both"], default="both")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    args = parser.parse_args()
    seconds = args.minutes * 60
    results = {}
    if args.mode in ("headless", "both"):
        results["headless"] = soak_headless(seconds, args.every)
    if args.mode in ("app", "both"):
        results["app"] = soak_app(seconds, args.every)
    for name, grew in results.items():
        verdict = "ok" if grew <= TARGET_MB else "over"
        print(f"{name}: grew {grew:.1f} MB after the first minute (target <= {TARGET_MB:.0f} MB): {verdict}")


if __name__ == "__main__":
    main()
