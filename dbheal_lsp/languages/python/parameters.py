"""What a Python call certainly binds (`Statement.bindings`), for PARAMETER_MISMATCH
(`rules/parameter_mismatch.py`).

`read_bindings` (run by the extractor on the call's `ast`) says what a call *certainly* binds: a
literal tuple, list or dict — or a name bound once to one and only ever passed to database calls
— and, for `executemany`, each row of a literal list. Anything else (`*args`, a value of unknown
length, `**extra`, a generator, keyword arguments a helper may read) is unknown, and unknown
means silence.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from dbheal_lsp.analysis.statement import (
    ARGS_STYLE_CALLS,
    DBAPI_CALLS,
    Bindings,
    BoundRow,
)
from dbheal_lsp.languages.python.pysource import span_of
from dbheal_lsp.model import Span

_ARGS_STYLE_KEYWORDS = frozenset({"timeout", "record_class", "column"})
# pandas: read_sql(sql, con, params=...).
_PANDAS = frozenset({"read_sql", "read_sql_query"})
_PARAMS_KEYWORDS = ("parameters", "params", "seq_of_parameters", "args")


def read_bindings(
    call: ast.Call, name: str, scope: ast.AST, lines: Sequence[str]
) -> Bindings | None:
    """Return what `call` (to `name`, in function or module `scope`) certainly binds, or None."""
    if any(kw.arg is None for kw in call.keywords):
        return None  # **kwargs may carry the parameters
    if name in ARGS_STYLE_CALLS:
        if any(isinstance(a, ast.Starred) for a in call.args[1:]):
            return None
        if any(kw.arg not in _ARGS_STYLE_KEYWORDS for kw in call.keywords):
            return None
        count = len(call.args) - 1
        return Bindings((BoundRow(span_of(lines, call), count=count),), passed=count > 0)
    if name in _PANDAS:
        if len(call.args) > 2 or any(
            kw.arg not in ("params", "con", "sql") for kw in call.keywords
        ):
            return None
        params = next((kw.value for kw in call.keywords if kw.arg == "params"), None)
    elif name in DBAPI_CALLS:
        if len(call.args) > 2 or any(isinstance(a, ast.Starred) for a in call.args):
            return None
        keywords = [kw for kw in call.keywords if kw.arg not in ("sql", "query", "statement")]
        if any(kw.arg not in _PARAMS_KEYWORDS for kw in keywords) or len(keywords) > 1:
            return None  # a keyword a helper (or SQLAlchemy 1.x) may bind as a value
        if len(call.args) == 2 and keywords:
            return None
        params = call.args[1] if len(call.args) == 2 else (keywords[0].value if keywords else None)
    else:
        return None  # query(), raw(), text(), configured helpers: their binding is not known
    if params is None:
        if name == "executemany":
            return None
        return Bindings((BoundRow(span_of(lines, call), count=0),), passed=False)
    if isinstance(params, ast.Constant) and params.value is None:
        return None  # sqlite3 refuses it, psycopg reads it as "no parameters": not judged
    span = span_of(lines, params)
    value = _literal_of(params, call, scope)
    if value is None:
        return None
    if name != "executemany":
        if isinstance(value, (ast.Tuple, ast.List)) and any(
            isinstance(e, (ast.Tuple, ast.List, ast.Dict)) for e in value.elts
        ):
            return None  # rows, not values: SQLAlchemy's execute(text(...), [{...}, {...}])
        row = _row(value, span)
        return Bindings((row,)) if row is not None else None
    if not isinstance(value, (ast.List, ast.Tuple)):
        return None
    rows: list[BoundRow] = []
    for element in value.elts:
        # A row written in place points at itself; rows held by a name, at the name.
        row = _row(element, span_of(lines, element) if value is params else span)
        if row is None:
            return None
        rows.append(row)
    return Bindings(tuple(rows), many=True)


def _row(node: ast.expr, span: Span) -> BoundRow | None:
    """Return the values a literal binds: a tuple or list by position, a dict by key."""
    if isinstance(node, (ast.Tuple, ast.List)):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            return None
        return BoundRow(span, count=len(node.elts))
    if isinstance(node, ast.Dict):
        keys: list[str] = []
        for key in node.keys:
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                return None  # **extra (key None) or a computed key
            keys.append(key.value)
        return BoundRow(span, keys=tuple(keys))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "dict"
        and not node.args
        and all(kw.arg is not None for kw in node.keywords)
    ):
        return BoundRow(span, keys=tuple(str(kw.arg) for kw in node.keywords))
    return None


def _literal_of(node: ast.expr, call: ast.Call, scope: ast.AST) -> ast.expr | None:
    """Return the literal `node` is, or the one literal a name is bound to, else None.

    A name counts only when `scope` binds it once, with a plain `name = literal` before the
    call, and uses it nowhere but as the parameters of database calls: `.append()`, `[k] = v`,
    `+=` or handing it to other code may change what it holds.
    """
    if not isinstance(node, ast.Name):
        return node if isinstance(node, (ast.Tuple, ast.List, ast.Dict, ast.Call)) else None
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = scope.args
        every = (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
        if any(a is not None and a.arg == node.id for a in every):
            return None  # a parameter: whatever the caller passes
    value: ast.expr | None = None
    targets: set[int] = set()  # the Name nodes that the one assignment binds
    passed: set[int] = set()  # Name nodes given as a database call's parameters
    loads: list[ast.Name] = []
    for found in ast.walk(scope):
        if isinstance(found, (ast.Global, ast.Nonlocal)) and node.id in found.names:
            return None
        if isinstance(found, ast.Assign) and any(
            isinstance(n, ast.Name) and n.id == node.id for t in found.targets for n in ast.walk(t)
        ):
            if value is not None or len(found.targets) != 1:
                return None  # bound twice: which value reaches the call is not certain
            if not isinstance(found.targets[0], ast.Name):
                return None  # unpacked from something: not read
            value = found.value
            targets.add(id(found.targets[0]))
        elif isinstance(found, ast.Call) and _called(found) in DBAPI_CALLS | _PANDAS:
            passed.update(id(a) for a in found.args[1:])
            passed.update(id(kw.value) for kw in found.keywords)
        elif isinstance(found, ast.Name) and found.id == node.id:
            if isinstance(found.ctx, ast.Load):
                loads.append(found)
            elif id(found) not in targets:
                # A `for` target, `+=`, `with ... as`, a walrus, `del` (ast.walk is breadth
                # first: the one `=` is met before its target).
                return None
        elif isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if found is not scope and found.name == node.id:
                return None
        elif isinstance(found, (ast.Import, ast.ImportFrom)) and any(
            (a.asname or a.name).split(".")[0] == node.id for a in found.names
        ):
            return None
    if value is None or (value.lineno, value.col_offset) > (call.lineno, call.col_offset):
        return None
    if any(id(load) not in passed for load in loads):
        return None
    return value if isinstance(value, (ast.Tuple, ast.List, ast.Dict, ast.Call)) else None


def _called(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None
