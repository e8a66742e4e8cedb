"""The house's floors lean one way: core <- backends <- services <- tools / prompts / resources <-
server <- demo, evals <- cli. Checked on the source (every import, deferred ones included), so a new
cycle or a backend that learns MCP is a failing test, not a review comment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "mlflow_feast_mcp"
FLOORS = {
    "core": 0,
    "backends": 1,
    "services": 2,
    "tools": 3,
    "prompts": 3,
    "resources": 3,
    "server": 4,
    "demo": 5,
    "evals": 5,
    "cli": 6,
    "__main__": 6,
    "__init__": 0,
}
MCP_FREE = ("core", "backends", "services")
MAX_FUNCTION_LINES = 80


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_feature_repo" not in p.parts)


def area_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_areas(path: Path) -> set[tuple[str, int]]:
    """(area of this package imported, line) for every import in the module, at any depth."""
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(PACKAGE).parts) - 1  # packages between the module and the root
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                up = node.level - 1
                if up > depth:
                    continue
                base = list(path.relative_to(PACKAGE).parts[: depth - up])
                parts = base + (node.module.split(".") if node.module else [])
                if not parts:  # `from .. import x`: x is an area
                    found |= {(alias.name, node.lineno) for alias in node.names}
                else:
                    found.add((parts[0], node.lineno))
            elif node.module and node.module.startswith("mlflow_feast_mcp."):
                found.add((node.module.split(".")[1], node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("mlflow_feast_mcp."):
                    found.add((alias.name.split(".")[1], node.lineno))
    return {(area.removesuffix(".py"), line) for area, line in found}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_lean_one_way(path: Path) -> None:
    area = area_of(path)
    floor = FLOORS[area]
    upward = [
        f"line {line}: {area} imports {target}"
        for target, line in imported_areas(path)
        if target in FLOORS and target != area and FLOORS[target] > floor
    ]
    assert not upward, f"{path.relative_to(PACKAGE)} reaches up a floor: {upward}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lower_floors_know_no_mcp(path: Path) -> None:
    if area_of(path) not in MCP_FREE:
        return
    tree = ast.parse(path.read_text())
    names = [
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level]
    assert not [n for n in names if n == "mcp" or n.startswith("mcp.")], f"{path.name} imports mcp"


def test_no_sdk_internals_and_short_functions() -> None:
    long_functions, internals = [], []
    for path in modules():
        source = path.read_text()
        if "_tool_manager" in source:
            internals.append(str(path.relative_to(PACKAGE)))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{path.relative_to(PACKAGE)}:{node.name} ({length} lines)")
    assert not internals, f"SDK internals used in {internals}"
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines: {long_functions}"
