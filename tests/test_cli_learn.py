"""``nn-tui learn``: the lesson list (text and JSON), and ``learn check`` with its exit statuses."""

from __future__ import annotations

import json
import warnings

from click.testing import CliRunner

from tui_trainer.cli import main
from tui_trainer.experiments.lessons import LESSONS, load_progress


def invoke(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return CliRunner().invoke(main, [str(a) for a in args])


def last_json(result) -> dict:
    return json.loads(result.output.strip().splitlines()[-1])


def test_learn_list_json_names_every_lesson_in_course_order():
    result = invoke("learn", "--list", "--json")
    assert result.exit_code == 0, result.output
    rows = last_json(result)["lessons"]
    assert [row["id"] for row in rows] == [lesson.id for lesson in LESSONS]
    assert len(rows) >= 12
    assert all(set(row) == {"id", "title", "topics", "completed"} and row["topics"] for row in rows)
    assert not any(row["completed"] for row in rows)


def test_learn_list_marks_the_completed_lessons():
    assert invoke("learn", "check", "linear-collapse", "--preset", "relu-xor").exit_code == 0
    result = invoke("learn", "--list")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "linear-collapse" in line)
    assert line.startswith(" 2. [x] linear-collapse")
    assert f"1 of {len(LESSONS)} done" in result.output


def test_learn_check_fails_on_deep_sigmoid_with_what_it_measured():
    result = invoke("learn", "check", "vanishing-gradient", "--preset", "deep-sigmoid")
    assert result.exit_code == 1, result.output
    assert result.output.strip() == ("vanishing-gradient: not passed: first-layer gradient ratio 1e-04, "
                                     "want > 1e-03; val acc 0.50, want >= 0.90")
    assert load_progress() == (frozenset(), "")


def test_learn_check_passes_on_deep_relu_and_records_the_progress():
    result = invoke("learn", "check", "vanishing-gradient", "--preset", "deep-relu", "--json")
    assert result.exit_code == 0, result.output
    report = last_json(result)
    assert report["passed"] is True and report["lesson"] == "vanishing-gradient" and report["epochs"] == 100
    assert report["measured"].startswith("first-layer gradient ratio ")
    assert load_progress() == (frozenset({"vanishing-gradient"}), "")


def test_learn_check_reads_a_config_file(tmp_path):
    cfg = tmp_path / "xor.toml"
    cfg.write_text('[data]\ndataset = "xor"\n[network]\nhidden = [8, 8, 8]\nactivation = "tanh"\n'
                   '[optimizer]\nname = "adam"\nlr = 0.01\n[training]\nepochs = 5\n')
    result = invoke("learn", "check", "linear-collapse", "--config", cfg)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("linear-collapse: passed: val acc ")


def test_an_unknown_lesson_is_a_usage_error_that_says_did_you_mean():
    result = invoke("learn", "check", "vanishing-gradients", "--preset", "deep-relu")
    assert result.exit_code == 2
    assert "did you mean 'vanishing-gradient'?" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_check_usage_errors_exit_2_in_one_line(tmp_path):
    for args in (["vanishing-gradient"],
                 ["vanishing-gradient", "--preset", "deep-relu", "--config", tmp_path / "x.toml"],
                 ["vanishing-gradient", "--preset", "deep"],
                 ["vanishing-gradient", "--config", tmp_path / "missing.toml"],
                 ["vanishing-gradient", "--bogus"]):
        result = invoke("learn", "check", *args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1 and result.output.startswith("Error: "), result.output
    assert "did you mean 'deep-relu'" in invoke("learn", "check", "backprop", "--preset", "deep").output
    assert "give --preset or --config" in invoke("learn", "check", "backprop").output


def test_json_without_list_is_a_usage_error():
    result = invoke("learn", "--json")
    assert result.exit_code == 2 and result.output.strip() == "Error: --json lists the lessons: give it with --list"


def test_a_broken_progress_file_is_a_warning_for_learn(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    (tmp_path / "nn-tui").mkdir()
    (tmp_path / "nn-tui" / "lessons.json").write_text("{not json")
    result = CliRunner().invoke(main, ["learn", "--list", "--json"])
    assert result.exit_code == 0
    assert "lesson progress not read" in result.stderr
    assert len(last_json(result)["lessons"]) == len(LESSONS)


def test_learn_without_a_subcommand_opens_the_app_at_the_lessons(monkeypatch):
    opened = {}

    def run(self, *args, **kwargs):
        opened["view"] = self._view

    monkeypatch.setattr("tui_trainer.tui.app.NNTuiApp.run", run)
    result = invoke("learn", "--no-record")
    assert result.exit_code == 0, result.output
    assert opened == {"view": "lessons"}


def test_the_readme_shows_what_learn_check_prints():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    result = invoke("learn", "check", "vanishing-gradient", "--preset", "deep-sigmoid")
    assert f"# {result.output.strip()}\n" in readme
    assert f"A course of {len(LESSONS)} lessons" in readme


def test_the_app_opens_a_view_over_the_main_screen_when_asked():
    """What ``nn-tui learn`` asks of the app (``view="lessons"``), shown with the presets view; Escape
    goes back to the main screen under it."""
    import asyncio

    from tests.conftest import wait_for
    from tui_trainer.tui.app import NNTuiApp
    from tui_trainer.tui.screens.inside_presets import PresetsScreen
    from tui_trainer.tui.screens.main import MainScreen

    async def scenario():
        app = NNTuiApp(record=False, view="presets")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, PresetsScreen))
            assert isinstance(app.screen_stack[0], MainScreen)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    asyncio.run(scenario())


def test_the_readme_counts_the_presets_the_lessons_added():
    from pathlib import Path

    from tui_trainer.experiments import presets
    from tui_trainer.experiments.presets import PRESETS

    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8").split())
    before = ["spiral-tanh", "deep-sigmoid", "deep-relu", "linear-xor", "relu-xor", "overfit", "overfit-fixed",
              "features-circles"]
    added = [name for name in PRESETS if name not in before]
    assert len(added) == 9 and "The lessons start from nine more" in readme
    assert all(f"``{name}``" in presets.__doc__ for name in added)


def test_a_closed_stdout_ends_the_lesson_list_quietly(tmp_path):
    """``nn-tui learn --list | head -1``: the reader gone, no 'Error: Broken pipe' (click's quiet end)."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    try:
        proc = subprocess.run([sys.executable, "-m", "tui_trainer", "learn", "--list"], stdout=write,
                              stderr=subprocess.PIPE, env={**os.environ, "XDG_STATE_HOME": str(tmp_path)}, timeout=60)
    finally:
        os.close(write)
    assert proc.stderr.decode() == "" and proc.returncode == 1
