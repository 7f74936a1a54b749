"""What computes: ``describe_compute`` says CPU, NumPy and BLAS; the help screen and ``nn-tui info`` show it."""

import asyncio

import numpy as np
from click.testing import CliRunner
from textual.widgets import Markdown

from tests.test_app import settings_ready, small_config
from tui_trainer.experiments import compute
from tui_trainer.cli import main
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.help import HelpScreen


def test_describe_compute_names_the_cpu_numpy_and_blas():
    text = compute.describe_compute()
    assert "CPU" in text and "no GPU" in text
    assert f"NumPy {np.__version__}" in text
    assert "BLAS" in text and "thread" in text
    assert "\n" not in text
    assert compute.describe_compute() is text  # cached


def test_blas_threads_come_from_the_library_or_the_environment(monkeypatch):
    facts = compute.compute_facts()
    assert facts.blas_threads is None or facts.blas_threads >= 1
    assert facts.cores is None or facts.cores >= 1
    monkeypatch.setattr(compute, "_threads_from_library", lambda: None)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    compute.compute_facts.cache_clear()
    compute.describe_compute.cache_clear()
    try:
        assert compute.compute_facts().blas_threads_source == "OPENBLAS_NUM_THREADS"
        assert "3 threads (OPENBLAS_NUM_THREADS)" in compute.describe_compute()
    finally:
        compute.compute_facts.cache_clear()
        compute.describe_compute.cache_clear()


def test_the_app_starts_without_looking_it_up_and_help_shows_it():
    compute.compute_facts.cache_clear()
    compute.describe_compute.cache_clear()

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            assert compute.compute_facts.cache_info().misses == 0  # not at start-up
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            source = app.screen.query_one(Markdown).source
            assert compute.describe_compute() in source
            await pilot.press("escape", "q")

    asyncio.run(scenario())


def test_cli_info_prints_the_version_and_the_compute_line():
    result = CliRunner().invoke(main, ["info"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("nn-tui")
    assert lines[1] == compute.describe_compute()
