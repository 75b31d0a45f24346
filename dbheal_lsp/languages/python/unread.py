"""The Python calls given SQL-looking strings that are not read as statements (for
`dbheal check --statements`: a helper `extra-calls` does not name yet)."""

from __future__ import annotations

import ast
from collections.abc import Sequence

from dbheal_lsp.analysis.inventory import reads_as_sql
from dbheal_lsp.analysis.statement import Statement
from dbheal_lsp.languages.language import CallNotRead
from dbheal_lsp.languages.python.receivers import leaf_name

__all__ = ["unread_calls"]

# Calls that show or translate text, never run it: SQL in a log line is not a statement.
_NOT_RUNNERS = frozenset(
    {"_", "gettext", "ngettext", "print", "debug", "info", "warning", "warn", "error"}
    | {"exception", "critical", "log", "write", "echo", "assertEqual", "assertIn"}
)


def unread_calls(
    tree: ast.Module, statements: Sequence[Statement], calls: frozenset[str]
) -> tuple[CallNotRead, ...]:
    """Return the calls of `tree` that receive SQL-looking string literals but are not read.

    `statements` are those found in it; `calls` the call names dbheal reads. A literal counts
    when it is a direct argument of a call whose name is not in `calls` (the receiver is
    ignored: `db.run_sql(...)` is "run_sql").
    """
    found_lines = {s.call_span.line for s in statements} | {s.span.line for s in statements}
    out: list[CallNotRead] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = leaf_name(node.func)
        if name is None or name in calls or name in _NOT_RUNNERS or node.lineno in found_lines:
            continue
        if any(_sql_literal(arg) for arg in node.args):
            out.append(CallNotRead(name, node.lineno))
    return tuple(out)


def _sql_literal(node: ast.expr) -> bool:
    while isinstance(node, ast.BinOp):  # "..." % x, "..." + x + y: the leftmost operand
        node = node.left
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and reads_as_sql(node.value)
    )
