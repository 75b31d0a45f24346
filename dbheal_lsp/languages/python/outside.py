"""Which names and calls read from outside the program (a request, a file, the command line, the
environment), and which read the program's own database: the words origins are read with
(languages/python/origins.py)."""

from __future__ import annotations

import ast
import re

# Names that hold what comes from outside: web requests, the command line, the environment,
# standard input, the user at a prompt.
OUTSIDE_NAMES = frozenset({"input", "raw_input", "request", "argv", "environ", "getenv", "stdin"})
# Attributes and methods that read from outside whatever their receiver: a framework request's
# fields, a file's or socket's content, parsed command-line arguments.
OUTSIDE_ATTRIBUTES = frozenset(
    {
        "argv",
        "environ",
        "getenv",
        "stdin",
        "GET",
        "POST",
        "FILES",
        "COOKIES",
        "query_params",
        "form",
        "cookies",
        "headers",
        "get_json",
        "read",
        "readline",
        "readlines",
        "read_text",
        "recv",
        "urlopen",
        "parse_args",
        "parse_known_args",
    }
)
# What a cursor or connection gives back: rows of the program's own database, row ids, counts.
# Values a database holds are the program's data here (not text a user just typed).
DATABASE_RESULTS = frozenset(
    {
        "fetchone",
        "fetchall",
        "fetchmany",
        "lastrowid",
        "rowcount",
        "last_insert_rowid",
        "changes",
        "total_changes",
    }
)
_SQL_START = re.compile(r"\s*(SELECT|PRAGMA|WITH)\b", re.IGNORECASE)


def reads_database(call: ast.Call) -> bool:
    """Return whether `call` reads rows with a query written in the code, or works on what
    such a read gives: `conn.get("SELECT ...")`, `db.query(" ".join(["SELECT ...", ...]))`,
    `...query("SELECT ...").run(limit=n).value()` (bound values do not change what is read)."""
    node: ast.expr = call
    while isinstance(node, ast.Call):
        first = node.args[0] if node.args else None
        text = _leading_text(first) if first is not None else None
        if text is not None and _SQL_START.match(text):
            return True
        func = node.func
        if not isinstance(func, ast.Attribute):
            return False
        node = func.value
        while isinstance(node, ast.Attribute):
            node = node.value
    return False


def _leading_text(node: ast.expr) -> str | None:
    """Return the literal text a string expression starts with, if it starts with one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        return _leading_text(node.values[0])
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _leading_text(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            return _leading_text(node.func.value)
        if (
            node.func.attr == "join"
            and node.args
            and isinstance(node.args[0], (ast.List, ast.Tuple))
        ):
            elements = node.args[0].elts
            return _leading_text(elements[0]) if elements else None
    return None
