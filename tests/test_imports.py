"""The package's modules import one another without circles (each layer imports only below it)."""

import ast
from pathlib import Path

import tui_trainer
from tests.engine.test_layering import UI_LIBRARIES, _import_in_a_fresh_interpreter

ROOT = Path(tui_trainer.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST):
    """Every import statement, at any depth (a lazy import inside a function is a dependency too),
    except those under ``if TYPE_CHECKING:`` (for type hints only, never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _imports(node)


def imports_of(path: Path) -> set[str]:
    """The package modules that ``path`` imports."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            if node.module is None:  # from . import a, b
                found.update(f"{target}.{alias.name}" for alias in node.names)
            else:
                found.add(target)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tui_trainer"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("tui_trainer"))
    return found


def test_no_import_circles():
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    graph = {name: {m for m in imports_of(path) if m in modules and m != name}
             for name, path in modules.items()}
    circles = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(graph[name]):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not circles, "import circles:\n" + "\n".join(circles)


EXPERIMENTS = ("import tui_trainer.experiments as experiments; "
               "PATH, PREFIX = experiments.__path__, 'tui_trainer.experiments.'")


def test_importing_the_experiments_layer_loads_no_ui_library():
    """The controllers, configs and races are shared by the CLI and the app: no Textual, Rich or click."""
    count, *loaded = _import_in_a_fresh_interpreter(EXPERIMENTS, *UI_LIBRARIES)
    assert int(count) >= 10
    assert loaded == [], f"importing tui_trainer.experiments loaded {loaded}"
