"""The package's layout is its architecture: layers whose imports point down only, no import circle, small
modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "spectrostyle"
# bottom to top; a module may import from its own layer and the layers below it
LAYERS = ("core", "data", "nets", "store", "methods", "pipeline", "folders", "instrument", "eval", "train",
          "experiment", "ui")
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("spectrostyle", *parts))


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """The spectrostyle modules that ``path`` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("spectrostyle"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("spectrostyle"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("spectrostyle."):
            found.add(node.value.split(":")[0])  # "spectrostyle.nets.unet:UNet" in a registry
    modules = _modules()
    return {name for name in found if name in modules}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_imports_point_down_the_layers():
    wrong = []
    for module, path in _modules().items():
        own = _layer(module)
        if own is None:
            continue
        for imported in _imports(path):
            other = _layer(imported)
            if other is not None and other > own:
                wrong.append(f"{module} imports {imported} ({LAYERS[other]} is above {LAYERS[own]})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle():
    graph = {module: _imports(path) - {module} for module, path in _modules().items()}
    # package __init__ files import their children; a child importing its package is not a circle of code
    state: dict[str, int] = {}
    circles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph.get(module, ())):
            if imported.startswith(module + ".") or module.startswith(imported + "."):
                continue
            if state.get(imported) == 1:
                circles.append(" -> ".join(trail[trail.index(imported):] + [imported]))
            elif imported not in state:
                visit(imported, trail + [imported])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(circles)


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_is_small(module):
    lines = len(_modules()[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"
