"""Which calls send SQL: the call names read by default, and how a call names its parts."""

from __future__ import annotations

import ast
from collections.abc import Sequence

from dbheal_lsp.languages.python.pysource import span_of
from dbheal_lsp.model import Span

DEFAULT_CALLS: frozenset[str] = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "query",
        "raw",
        "read_sql",
        "read_sql_query",
        "fetch",
        "fetchrow",
        "fetchval",
        "text",
    }
)
# Calls whose name alone says "this runs SQL" (DB-API); for the others the string must also
# start like SQL, so that e.g. pandas' df.query("a > 1") or fetch(url) are not mistaken for SQL.
DBAPI_CALLS = frozenset({"execute", "executemany", "executescript"})
TEXT_CALLS = frozenset({"text"})


def keyword_value(call: ast.Call, names: tuple[str, ...]) -> ast.expr | None:
    """Return the value of the first keyword argument of `call` named one of `names`."""
    for kw in call.keywords:
        if kw.arg in names:
            return kw.value
    return None


def call_name_span(func: ast.expr, lines: Sequence[str]) -> Span:
    """Return the span of the name a call calls: `execute` of `db.execute`, all of `f`."""
    full = span_of(lines, func)
    if isinstance(func, ast.Attribute):
        return Span(full.end_line, full.end_column - len(func.attr), full.end_line, full.end_column)
    return full
