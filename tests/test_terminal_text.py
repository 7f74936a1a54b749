"""Text from outside never drives the terminal: run names, ids and settings from the run store,
CSV headers and file names, reach every output (the CLI through CliRunner, the app through Pilot
reading the screen) as visible escapes, one sanitizer for all (``engine.text.visible``)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.test_cli import invoke
from tui_trainer.engine.text import visible
from tui_trainer.experiments import runs as store
from tui_trainer.experiments.session import default_config

HOSTILE = {
    "osc-title": "\x1b]0;pwned\x07",
    "osc52-clipboard": "\x1b]52;c;aGVsbG8=\x07",
    "csi-clear": "\x1b[2J\x1b[H",
    "c1-csi": "\x9b31mred",
    "bidi": "abc\u202egnp.exe",
    "newline-row": "ok\nforged  finished  xor",
    "carriage-return": "tab\there\rover",
    "del-nul": "a\x7fb\x00c",
    "line-separator": "a\u2028b",
}
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\r", "\x00", "\x7f", "\u2028")


def clean(text: str) -> None:
    """No control character, C1, bidi control or separator reached the output raw."""
    for char in RAW:
        assert char not in text, (char, text)


@pytest.fixture(autouse=True)
def runs_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "runs"
    monkeypatch.setenv("NN_TUI_RUNS", str(root))
    monkeypatch.setenv("COLUMNS", "200")
    return root


def hostile_run(root: Path, text: str, lr: float) -> store.RunWriter:
    writer = store.RunWriter(root, default_config(), source="test", name="x")
    writer.finish("finished", {"epochs": 1, "train_loss": 0.5, "val_loss": 0.5, "seconds": 1.0})
    meta = json.loads((writer.path / "run.json").read_text())
    meta["id"] = "id" + text
    meta["name"] = "name" + text
    meta["settings"].update({"dataset": "data" + text, "optimizer": "opt" + text, "lr": lr,
                             "hidden": ["h" + text], "key" + text: "value" + text})
    (writer.path / "run.json").write_text(json.dumps(meta))
    return writer


def test_visible_escapes_every_control_character():
    assert visible("plain text, accents é and ∑ stay") == "plain text, accents é and ∑ stay"
    assert visible("\x1b]0;t\x07") == "\\x1b]0;t\\x07"
    assert visible("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert visible("\x9b\u202e\u2028\ufeff") == "\\x9b\\u202e\\u2028\\ufeff"
    for text in HOSTILE.values():
        out = visible(text)
        clean(out)
        assert "\n" not in out and out.isprintable()


@pytest.mark.parametrize("case", list(HOSTILE))
def test_the_runs_commands_show_hostile_text_as_escapes(runs_root, case):
    text = HOSTILE[case]
    a = hostile_run(runs_root, text, 0.1)
    b = hostile_run(runs_root, text, 0.2)
    listing = invoke("runs")
    assert listing.exit_code == 0, listing.output
    clean(listing.output)
    assert len(listing.output.splitlines()) == 3  # a header and two rows: no forged one
    assert visible("name" + text)[:10] in listing.output
    compared = invoke("runs", "compare", a.path, b.path)
    assert compared.exit_code == 0, compared.output
    clean(compared.output)
    named = invoke("runs", "name", a.path, "fine")
    assert named.exit_code == 0 and len(named.output.splitlines()) == 1
    clean(named.output)
    refused = invoke("runs", "name", a.path, "new" + text)
    clean(refused.output)
    assert refused.exit_code != 0 or text.isprintable()
    removed = invoke("runs", "rm", a.path)
    assert removed.exit_code == 0 and len(removed.output.splitlines()) == 1
    clean(removed.output)
    missing = invoke("runs", "rm", "gone" + text)
    assert missing.exit_code != 0
    clean(missing.output)


def test_the_runs_screen_and_the_watch_view_show_escapes(runs_root):
    from tests.test_app import screen_lines, settings_ready, small_config
    from tui_trainer.tui.app import NNTuiApp
    from tui_trainer.tui.screens.runs_screen import RunsScreen
    from tui_trainer.tui.screens.watch import WatchScreen

    texts = list(HOSTILE.values())
    for i, text in enumerate(texts[:4]):
        hostile_run(runs_root, text, 0.1 * (i + 1))

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
            screen = app.screen
            await wait_for(pilot, lambda: len(screen.runs) == 4)
            await pilot.press("space", "down", "space")
            await pilot.pause()
            shown = "\n".join(line.text for line in screen_lines(app))
            clean(shown)
            assert "\\x1b" in shown
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen) and app.screen.run is not None)
            await pilot.pause()
            shown = "\n".join(line.text for line in screen_lines(app))
            clean(shown)
            assert "\\x1b" in shown or "\\x9b" in shown
    asyncio.run(scenario())


def test_the_data_view_of_a_wide_hostile_csv_answers_and_shows_escapes(tmp_path):
    """10,000 columns with hostile headers and labels: described on a thread, a bounded part shown."""
    from tests.test_app import screen_lines, settings_ready
    from tests.test_inside_screens import SCREENS, plain
    from tui_trainer.experiments.config import ExperimentConfig, with_overrides
    from tui_trainer.tui.app import NNTuiApp
    from tui_trainer.tui.screens import inside_data

    columns = 10_000
    header = ["f\x1b]0;title\x07" if j == 0 else f"c{j}\u202e" for j in range(columns)] + ["label"]
    rows = [",".join([str((i * 7 + j) % 5) for j in range(columns)] + [("\x1b[31mred", "blue")[i % 2]])
            for i in range(12)]
    data = tmp_path / "wide\x1b[2J.csv"
    data.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n")
    cfg = with_overrides(ExperimentConfig(), path=str(data), hidden=[2], epochs=1, val_split=0.25)
    threads = []
    real = inside_data.DataScreen.content

    def recording(self, experiment=None):
        import threading
        threads.append(threading.current_thread() is threading.main_thread())
        return real(self, experiment)

    async def scenario():
        app = NNTuiApp(cfg)
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, SCREENS["t"]))
            await wait_for(pilot, lambda: "more (the first" in plain(app, "#data-body"))
            text = plain(app, "#data-body")
            clean(text)
            assert "f\\x1b]0;" in text and "\\u202e" in text and "\\x1b[31mred" in text
            assert len(text.splitlines()) < inside_data.MAX_STAT_ROWS + 40
            assert "9,900 more" in text
            clean("\n".join(line.text for line in screen_lines(app)))
            await pilot.press("q")

    import pytest as _pytest
    with _pytest.MonkeyPatch.context() as mp:
        mp.setattr(inside_data.DataScreen, "content", recording)
        asyncio.run(scenario())
    assert threads == [False]  # described off the event loop's thread


def raw_invoke(*args):
    """``nn-tui`` in-process, its output as a terminal would get it (click strips no escape)."""
    from click.testing import CliRunner

    from tui_trainer.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], color=True)


def test_csv_headers_labels_file_names_options_and_toml_keys_reach_the_cli_as_escapes(tmp_path):
    osc = "\x1b]0;pwned\x07"
    data = tmp_path / f"d{osc}\u202e.csv"
    rows = "\n".join(f"{i % 3},{(i * 7) % 5},{('a' + osc, 'b') [i % 2]}" for i in range(24))
    data.write_text(f"x{osc},y\x9b,label\n{rows}\n")
    outputs = [
        raw_invoke("train", "--data", data, "--target", "nope", "--epochs", 1),
        raw_invoke("train", "--data", data, "--epochs", 1, "--hidden", 2),
        raw_invoke("train", "--data", data, "--epochs", 1, "--hidden", 2, "--json"),
        raw_invoke("train", "--dataset", "xor", "--schedule", f"st{osc}ep"),
        raw_invoke("train", "--dataset", "xor", "--schedule", f"step:a{osc}=b"),
        raw_invoke("train", "--dataset", "xor", "--features", f"x1,{osc}"),
        raw_invoke("runs"),
    ]
    toml = tmp_path / "bad.toml"
    toml.write_text('["dat\\u001b]0;x\\u0007a"]\nx = 1\n[data]\n"k\\u001b[2J" = 2\n')
    outputs.append(raw_invoke("train", "--config", toml))
    for result in outputs:
        assert "Traceback" not in result.output
        clean(result.output)
    assert "\\x1b]0;pwned\\x07" in outputs[0].output and "\\x9b" in outputs[0].output
    assert outputs[1].exit_code == 0 and "\\x1b]0;pwned\\x07" in outputs[1].output
    assert all(r.exit_code != 0 for r in outputs[3:6] + outputs[7:])
