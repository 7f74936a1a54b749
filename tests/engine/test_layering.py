"""The engine is pure NumPy: importing it, or any module in it, loads no UI library; nor do its tests,
which run with only numpy and pytest installed."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI_LIBRARIES = ("textual", "rich", "click", "plotext")

ENGINE = "import tui_trainer.engine as engine; PATH, PREFIX = engine.__path__, 'tui_trainer.engine.'"
ENGINE_TESTS = "import tests.engine; PATH, PREFIX = tests.engine.__path__, 'tests.engine.'; import tests.conftest"
CODE = """
import importlib, pkgutil, sys
{what}
names = [info.name for info in pkgutil.walk_packages(PATH, PREFIX)]
for name in names:
    try:
        importlib.import_module(name)
    except BaseException as exc:  # a test module that skips itself (pytest.importorskip) raises Skipped
        if type(exc).__name__ != "Skipped":
            raise
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
print(len(names), *loaded)
"""


def _import_in_a_fresh_interpreter(what: str, *modules: str) -> list[str]:
    """Import every module under a package; the count imported, then which of ``modules`` got loaded."""
    code = CODE.replace("{what}", what)
    result = subprocess.run([sys.executable, "-c", code, *modules], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.split()


def test_importing_the_engine_loads_no_ui_library():
    count, *loaded = _import_in_a_fresh_interpreter(ENGINE, *UI_LIBRARIES)
    assert int(count) >= 15  # every module of the engine was imported, not only its __init__
    assert loaded == [], f"importing tui_trainer.engine loaded {loaded}"



def test_the_engine_tests_and_the_conftest_import_only_numpy_and_pytest():
    count, *loaded = _import_in_a_fresh_interpreter(ENGINE_TESTS, *UI_LIBRARIES, "tomli_w")
    assert int(count) >= 10
    assert loaded == [], f"the engine's tests (or tests/conftest.py) import {loaded}"

