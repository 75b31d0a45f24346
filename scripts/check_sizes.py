"""Small modules, classes and functions in the package: each has one job a reader can hold.

A module over 500 lines, a class over 400 or a function over 80 is doing more than one job; the
fix is to split it by job, naming each part for what it holds. Lines are counted as the source
spans them (docstrings, comments and blank lines included): that is what a reader scrolls.

`make lint` runs this file; tests/test_sizes.py plants each kind of violation.
Usage: python scripts/check_sizes.py [PACKAGE_DIR]  (exit 1 and one line per violation).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 400
MAX_FUNCTION_LINES = 80


def _span(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Return the lines `node` spans, its decorators included."""
    end = node.end_lineno if node.end_lineno is not None else node.lineno
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return end - first + 1


def violations(package_dir: Path) -> list[str]:
    """Return one line per module, class or function of the package over its size limit."""
    found: list[str] = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir).as_posix()
        shown = f"{package_dir.name}/{rel}"
        source = path.read_bytes()
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{shown}: module has {lines} lines (limit {MAX_MODULE_LINES})")
        tree = ast.parse(source, filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                kind, limit = "class", MAX_CLASS_LINES
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                kind, limit = "function", MAX_FUNCTION_LINES
            else:
                continue
            size = _span(node)
            if size > limit:
                found.append(
                    f"{shown}:{node.lineno}: {kind} {node.name} has {size} lines (limit {limit})"
                )
    return found


def main(argv: list[str]) -> int:
    """Print the violations of the package given (default: dbheal_lsp beside this script)."""
    package_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent.parent / "dbheal_lsp"
    found = violations(package_dir)
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} oversized module(s), class(es) or function(s): split each by job")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
