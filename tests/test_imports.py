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


def _imported_by_name(tree: ast.AST, package: str, modules: set[str]) -> set[str]:
    """The modules an ``import_module(...)`` call in ``tree`` may load: a literal name, or for a name
    built as ``f"{__package__}.{x}"`` every string in the module naming a module of its package (as a
    table of screens does). Any other argument fails: the import test must see every import."""
    found = set()
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module"):
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.add(arg.value)
        elif (isinstance(arg, ast.JoinedStr) and ast.unparse(arg).startswith("f'{__package__}.")):
            found.update(f"{package}.{s}" for s in strings if f"{package}.{s}" in modules)
        else:
            raise AssertionError(f"cannot follow import_module({ast.unparse(arg)}) in {package}")
    return found


def imports_of(path: Path, modules: set[str] = frozenset()) -> set[str]:
    """The package modules that ``path`` imports, with those it loads by ``import_module``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = _imported_by_name(tree, package, modules)
    for node in _imports(tree):
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
    graph = {name: {m for m in imports_of(path, set(modules)) if m in modules and m != name}
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


def test_the_import_test_follows_import_module():
    """A table of screens loaded by name is a dependency: the circle test sees through it."""
    views = ROOT / "tui" / "screens" / "views.py"
    found = imports_of(views, {module_name(p) for p in ROOT.rglob("*.py")})
    assert {"tui_trainer.tui.screens.inside_boundary", "tui_trainer.tui.screens.lab_matrix",
            "tui_trainer.tui.screens.runs_screen"} <= found


EXPERIMENTS = ("import tui_trainer.experiments as experiments; "
               "PATH, PREFIX = experiments.__path__, 'tui_trainer.experiments.'")


def test_importing_the_experiments_layer_loads_no_ui_library():
    """The controllers, configs and races are shared by the CLI and the app: no Textual, Rich or click."""
    count, *loaded = _import_in_a_fresh_interpreter(EXPERIMENTS, *UI_LIBRARIES)
    assert int(count) >= 10
    assert loaded == [], f"importing tui_trainer.experiments loaded {loaded}"


def test_no_lower_layer_imports_a_ui_library_even_lazily():
    """The engine and the experiments layer name no Textual, Rich or click import, not even inside a
    function (one run later, e.g. only on a bad option, would break the rule where no test looks).
    (The charts import plotext when they first draw, for the app and the CLI alike.)"""
    found = []
    for layer in ("engine", "experiments"):
        for path in (ROOT / layer).rglob("*.py"):
            for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                         else [alias.name for alias in node.names])
                found += [f"{module_name(path)}: {n}" for n in names if n.split(".")[0] in ("textual", "rich", "click")]
    assert found == []
