"""Packaging: what a regular install (a wheel, ``pip install .``, ``pipx install .``) carries.

pyproject.toml lists the packages by hand, because it maps the repository's top-level
``sample_data/`` into the package; these tests catch a package folder or a sample file that the list
would leave out of the wheel. ``.ci/wheel-check`` builds the wheel, installs it and runs it.
"""

import fnmatch
import tomllib
from pathlib import Path

import pytest

from tui_trainer.engine import datasets
from tui_trainer.engine.datasets import DATASETS, DataError, sample_data_dir

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
SAMPLE_PACKAGE = "tui_trainer.sample_data"


def _package_folders() -> set[str]:
    """Every folder of tui_trainer holding Python code, as a dotted package name."""
    return {
        ".".join(py.parent.relative_to(ROOT).parts)
        for py in (ROOT / "tui_trainer").rglob("*.py")
        if "__pycache__" not in py.parts
    }


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(SETUPTOOLS["packages"])
    missing = sorted(_package_folders() - listed)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml, or the wheel lacks them"
    gone = sorted(listed - _package_folders() - {SAMPLE_PACKAGE})
    assert not gone, f"pyproject.toml lists packages that have no folder: {gone}"


def test_the_wheel_carries_every_sample_file():
    assert SETUPTOOLS["package-dir"][SAMPLE_PACKAGE] == "sample_data"
    patterns = SETUPTOOLS["package-data"][SAMPLE_PACKAGE]
    files = [f.name for f in (ROOT / "sample_data").iterdir() if f.is_file()]
    assert files
    left_out = [name for name in files if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert not left_out, f"{left_out} match no package-data pattern for {SAMPLE_PACKAGE} in pyproject.toml"
    for name, info in DATASETS.items():
        if info.kind == "sample":
            assert f"{name}.csv" in files


def test_the_source_tree_reads_the_repository_folder():
    assert sample_data_dir() == ROOT / "sample_data"


def test_an_installed_package_reads_its_own_data(monkeypatch, tmp_path):
    package = tmp_path / "site-packages" / "tui_trainer"
    (package / "sample_data").mkdir(parents=True)
    monkeypatch.setattr(datasets.resources, "files", lambda name: package)
    assert sample_data_dir() == package / "sample_data"


def test_an_install_without_its_data_says_where_it_looked(monkeypatch, tmp_path):
    package = tmp_path / "site-packages" / "tui_trainer"
    package.mkdir(parents=True)
    (package.parent / "sample_data").mkdir()  # another distribution's folder: not ours to read
    monkeypatch.setattr(datasets.resources, "files", lambda name: package)
    with pytest.raises(DataError, match="sample data folder not found; looked in .*tui_trainer.sample_data$"):
        sample_data_dir()
