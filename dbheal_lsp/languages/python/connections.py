"""Which database a connection opens (issue 11, pattern 5).

`cache = sqlite3.connect("cache.db")` then `cache.execute(...)`: the receiver of the call is
followed like any name (assignments, `with ... as c`, `.cursor()`, `closing(...)`, module
constants, `self.conn` assigned in a method of the same class) to a `connect(...)` whose path
is literal text. What cannot be seen is None: the main database, as before.
"""

from __future__ import annotations

import ast
from dataclasses import replace

from dbheal_lsp.analysis.statement import RUN_TIME, Slot, Statement, TextPiece
from dbheal_lsp.languages.python.calls import keyword_value
from dbheal_lsp.languages.python.filecontext import MAX_NAME_DEPTH, FileContext, Scope
from dbheal_lsp.languages.python.pieces import read_pieces
from dbheal_lsp.languages.python.reaching import reaching_name
from dbheal_lsp.languages.python.receivers import leaf_name

# Calls that open a database file (sqlite3, aiosqlite, apsw).
CONNECT_CALLS = frozenset({"connect", "Connection"})
# Drivers of database servers: what their `connect(...)` is given is a connection string or a
# host, never a file (`psycopg.connect("")` reads the libpq environment).
_SERVER_DRIVERS = frozenset(
    {
        "psycopg",
        "psycopg2",
        "asyncpg",
        "pg8000",
        "pymysql",
        "MySQLdb",
        "mysql",
        "mariadb",
        "oracledb",
    }
)
_PATH_WRAPPERS = frozenset({"Path", "PurePath", "PosixPath", "str", "fspath"})


def database_of_call(call: ast.Call, scope: Scope, ctx: FileContext) -> str | None:
    """Return the database `call`'s receiver opens (`x.execute(...)`: what x is connected to)."""
    if not isinstance(call.func, ast.Attribute):
        return None
    return _database_of(call.func.value, scope, ctx, 0)


def _database_of(node: ast.expr, scope: Scope, ctx: FileContext, depth: int) -> str | None:
    """Return the database the connection (or cursor) `node` opens, or None when not seen."""
    if depth > MAX_NAME_DEPTH:
        return None
    configured = _configured_database(node, ctx)
    if configured is not None:
        return configured
    if isinstance(node, ast.Await):
        node = node.value  # aiosqlite: `await aiosqlite.connect(...)`
    if isinstance(node, ast.Call):
        name = leaf_name(node.func)
        if name in CONNECT_CALLS and _server_driver(node.func):
            return None  # a database server's connection string names no file: the main one
        if name in CONNECT_CALLS:
            arg = (
                node.args[0] if node.args else keyword_value(node, ("database", "filename", "path"))
            )
            if arg is None:
                return None
            path = _literal_path(arg, scope, ctx, 0)
            return path if path is not None else run_time_database(node)
        if name in ("cursor", "__enter__") and isinstance(node.func, ast.Attribute):
            return _database_of(node.func.value, scope, ctx, depth + 1)
        if name == "closing" and node.args:
            return _database_of(node.args[0], scope, ctx, depth + 1)
        function = _function_called(node.func, ctx)
        return None if function is None else _returned_database(function, ctx, depth + 1)
    if isinstance(node, ast.Name):
        if (bound := reaching_name(node, scope, ctx)) is None:
            return None
        candidate, reaching = bound
        found = {
            None if value is None else _database_of(value, candidate, ctx, depth + 1)
            for value, _augments in reaching
            if not (isinstance(value, ast.Constant) and value.value is None)
        }
        # Every value it can hold opens the same file, or it is not known.
        return found.pop() if len(found) == 1 else None
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and ctx.class_node is not None
    ):
        return _attribute_database(ctx.class_node, node.attr, ctx, depth + 1)
    return None


def run_time_database(connect: ast.Call) -> str:
    """Return the name of the database a `connect(...)` call opens from a path the code does
    not spell (a parameter, a setting): one per call site."""
    return f"{RUN_TIME}line {connect.lineno}"


def one_run_time_database_is_the_main_one(statements: list[Statement]) -> list[Statement]:
    """Return `statements` with the run-time databases read as the main one, except in a
    function that opens several: a converter copying from an old database into the app's
    (`old = connect(old_path); new = connect(new_path)`) talks to two schemas, and which is
    which is told by the tables each names (analysis/databases.py)."""
    opened: dict[str, set[str]] = {}
    for s in statements:
        if s.database is not None and s.database.startswith(RUN_TIME):
            opened.setdefault(s.function, set()).add(s.database)
    return [
        replace(s, database=None)
        if s.database is not None
        and s.database.startswith(RUN_TIME)
        and len(opened[s.function]) < 2
        else s
        for s in statements
    ]


def _function_called(
    func: ast.expr, ctx: FileContext
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """Return the module's function `f` of `f()`, or the class's method `m` of `self.m()`."""
    body: list[ast.stmt] = []
    if isinstance(func, ast.Name) and isinstance(ctx.module.node, ast.Module):
        body, wanted = ctx.module.node.body, func.id
    elif (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "self"
        and ctx.class_node is not None
    ):
        body, wanted = ctx.class_node.body, func.attr
    found = [
        n
        for n in body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == wanted
    ]
    return found[-1] if len(found) == 1 else None


def _returned_database(
    function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext, depth: int
) -> str | None:
    """Return the database every `return` (or `yield`: a context manager) of `function`
    gives a connection to, when they all agree."""
    key = (id(function), "()")
    if key in ctx.attributes:
        return ctx.attributes[key]
    ctx.attributes[key] = None  # while reading: a function that calls itself must not loop
    scope = ctx.method_scopes.get(id(function))
    if scope is None:
        scope = ctx.method_scopes[id(function)] = Scope(function, function.name)
    found: set[str | None] = set()
    for node in ast.walk(function):
        if isinstance(node, (ast.Return, ast.Yield)) and node.value is not None:
            found.add(_database_of(node.value, scope, ctx, depth + 1))
    result = found.pop() if len(found) == 1 else None
    ctx.attributes[key] = result
    return result


def _configured_database(node: ast.expr, ctx: FileContext) -> str | None:
    """Return the database [tool.dbheal.databases] gives the receiver `node` (its dotted text,
    or `Class.attribute` for `self.attribute` in that class), if any."""
    if not ctx.options.receivers:
        return None
    parts: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        return None
    parts.append(current.id)
    text = ".".join(reversed(parts))
    names = [text]
    if len(parts) == 2 and current.id == "self" and ctx.class_node is not None:
        names.append(f"{ctx.class_node.name}.{parts[0]}")
    for receiver, database in ctx.options.receivers:
        if receiver in names:
            return database
    return None


def _attribute_database(
    cls: ast.ClassDef, attribute: str, ctx: FileContext, depth: int
) -> str | None:
    """Return the database `self.<attribute>` opens: what every `self.<attribute> = ...` in
    the methods of `cls` assigns, when they all agree."""
    key = (id(cls), attribute)
    if key in ctx.attributes:
        return ctx.attributes[key]
    ctx.attributes[key] = None  # while reading: `self.a = self.a.cursor()` must not loop
    found: set[str | None] = set()
    for method in cls.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(method):
            if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not any(
                isinstance(t, ast.Attribute)
                and t.attr == attribute
                and isinstance(t.value, ast.Name)
                and t.value.id == "self"
                for t in targets
            ):
                continue
            if isinstance(node.value, ast.Constant) and node.value.value is None:
                continue  # `self.conn = None` until opened
            scope = ctx.method_scopes.get(id(method))
            if scope is None:
                scope = ctx.method_scopes[id(method)] = Scope(method, method.name)
            found.add(_database_of(node.value, scope, ctx, depth + 1))
    result = found.pop() if len(found) == 1 else None
    ctx.attributes[key] = result
    return result


def _literal_path(arg: ast.expr, scope: Scope, ctx: FileContext, depth: int) -> str | None:
    """Return the path `connect(arg)` opens when the code spells it (literal text, names of
    literals, `Path(...)`, `os.path.join(...)`), ":memory:" for an in-memory database."""
    if depth > MAX_NAME_DEPTH:
        return None
    if isinstance(arg, ast.Call):
        name = leaf_name(arg.func)
        if name in _PATH_WRAPPERS and len(arg.args) == 1:
            return _literal_path(arg.args[0], scope, ctx, depth + 1)
        if name == "join" and isinstance(arg.func, ast.Attribute) and arg.args:
            if not (isinstance(arg.func.value, ast.Attribute) and arg.func.value.attr == "path"):
                return None  # only os.path.join: ",".join(...) is no path
            parts = [_literal_path(a, scope, ctx, depth) for a in arg.args]
            known = [p for p in parts if p is not None]
            return "/".join(known) if len(known) == len(parts) else None
        return None
    if isinstance(arg, ast.Name):
        if (bound := reaching_name(arg, scope, ctx)) is None:
            return None
        candidate, reaching = bound
        paths = {
            None if value is None or augments else _literal_path(value, candidate, ctx, depth + 1)
            for value, augments in reaching
        }
        return paths.pop() if len(paths) == 1 else None
    saved = ctx.strict
    ctx.strict = True
    try:
        variants = read_pieces(arg, scope, ctx, (arg.lineno, arg.col_offset), depth + 1)
    finally:
        ctx.strict = saved
    if variants is None or len(variants) != 1:
        return None
    if any(isinstance(p, Slot) for p in variants[0]):
        return None
    text = "".join(p.text for p in variants[0] if isinstance(p, TextPiece))
    if text.startswith("file:"):  # a URI: file:cache.db?mode=ro
        path, _, query = text[5:].partition("?")
        text = ":memory:" if "mode=memory" in query else path
    elif "=" in text or "://" in text:
        return None  # a server's DSN (psycopg, SQLAlchemy), not a file: as before
    return ":memory:" if text in ("", ":memory:") else text


def _server_driver(func: ast.expr) -> bool:
    """Return whether `func` is a server driver's connect (`psycopg.connect`,
    `mysql.connector.connect`), by the first name of its dotted path."""
    while isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and func.id in _SERVER_DRIVERS
