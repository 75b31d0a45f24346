"""No module-level mutable state in the package, but in the one module the process needs it.

A language server, a CLI and a wrapper inside the user's application share this code; state kept
at module level would leak between workspaces, threads and tests. So every module-level value is
a constant (a tuple, a frozenset, a MappingProxyType, a frozen value), and nothing rebinds a
global. The one exception is `dbheal_lsp/runtime/process.py`: the runtime wrapper lives inside
the application's process, and its heal locks and recent heals must be shared by every
connection of it (that module says why).

`make lint` runs this file; tests/test_globals.py plants each kind of violation.
Usage: python scripts/check_globals.py [PACKAGE_DIR]  (exit 1 and one line per violation).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

#: The module allowed to hold process-wide state, relative to the package folder.
PROCESS_STATE = "runtime/process.py"

#: Calls that make a mutable container or a synchronisation object.
MUTABLE_CALLS = frozenset(
    {
        "dict",
        "list",
        "set",
        "bytearray",
        "defaultdict",
        "OrderedDict",
        "Counter",
        "deque",
        "WeakSet",
        "WeakKeyDictionary",
        "WeakValueDictionary",
        "local",
        "Lock",
        "RLock",
        "Event",
        "Condition",
        "Semaphore",
    }
)
_DISPLAYS = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)


def _called_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return ""


def violations(package_dir: Path) -> list[str]:
    """Return one line per module-level mutable value or `global` statement in the package."""
    found: list[str] = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir).as_posix()
        if rel == PROCESS_STATE:
            continue
        shown = f"{package_dir.name}/{rel}"
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for statement in tree.body:
            if isinstance(statement, ast.Assign):
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets, value = [statement.target], statement.value
            else:
                continue
            names = [t.id for t in targets if isinstance(t, ast.Name) and t.id != "__all__"]
            if names and (isinstance(value, _DISPLAYS) or _called_name(value) in MUTABLE_CALLS):
                found.append(
                    f"{shown}:{statement.lineno}: {names[0]} is mutable module-level state"
                )
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                found.append(f"{shown}:{node.lineno}: global {', '.join(node.names)}")
    return found


def main(argv: list[str]) -> int:
    """Print the violations of the package given (default: dbheal_lsp beside this script)."""
    package_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent.parent / "dbheal_lsp"
    found = violations(package_dir)
    for line in found:
        print(line)
    if found:
        print(
            f"{len(found)} module-level mutable value(s): make them constants "
            "(tuple, frozenset, MappingProxyType) or keep them on an object"
        )
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
