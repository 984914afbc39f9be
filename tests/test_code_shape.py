"""The shape issue 18 set for the code: no module in src over 500 lines, no function over 60
lines of code, the napari skin free of core imports it should not need, inference independent of
training."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "napari_seisseg"
MAX_FILE_LINES = 500
MAX_FUNCTION_CODE_LINES = 60
MODULES = sorted(SRC.rglob("*.py"))


def _code_lines(lines: list[str], node: ast.AST) -> int:
    """Lines of a function that hold code: not blank, not comments, not its docstring."""
    skip: set[int] = set()
    body = getattr(node, "body", [])
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        skip = set(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(
        1 for i in range(node.lineno, node.end_lineno + 1)
        if i not in skip and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#")
    )


def _name(path: Path) -> str:
    return str(path.relative_to(SRC.parent))


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_module_is_short(path: Path) -> None:
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_FILE_LINES, f"{_name(path)} has {n} lines (at most {MAX_FILE_LINES}): split it"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_functions_are_short(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    long = [
        f"{node.name} (line {node.lineno}): {n} lines of code"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (n := _code_lines(lines, node)) > MAX_FUNCTION_CODE_LINES
    ]
    assert not long, f"{_name(path)}: functions over {MAX_FUNCTION_CODE_LINES} lines: {long}"


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules a file imports (relative imports resolved)."""
    package = path.relative_to(SRC.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            found.add(".".join(base + ([node.module] if node.module else [])))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted((SRC / "inference").rglob("*.py")), ids=_name)
def test_inference_does_not_import_training(path: Path) -> None:
    bad = sorted(m for m in _imported_modules(path) if m.startswith("napari_seisseg.training"))
    assert not bad, f"{_name(path)} imports {bad}: what inference shares with training lives " \
                    "in bundle/, models/ or io/"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_only_the_skin_imports_qt(path: Path) -> None:
    if path.relative_to(SRC).parts[0] == "_widgets":
        return
    qt = sorted(m for m in _imported_modules(path)
                if m.split(".")[0] in {"qtpy", "magicgui", "PyQt5", "PyQt6"}
                or m.startswith("napari.qt"))
    assert not qt, f"{_name(path)} imports {qt}: Qt code belongs in _widgets/"
