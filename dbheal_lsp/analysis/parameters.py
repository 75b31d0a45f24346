"""PARAMETER_MISMATCH: the values a call binds do not fit the statement's placeholders.

Two halves. `read_bindings` (run by the extractor on the call's `ast`) says what a call
*certainly* binds: a literal tuple, list or dict — or a name bound once to one and only ever
passed to database calls — and, for `executemany`, each row of a literal list. Anything else
(`*args`, a value of unknown length, `**extra`, a generator, keyword arguments a helper may read)
is unknown, and unknown means silence. `parameter_mismatches` (one of the checks) compares that
with the placeholders of the rendered SQL the way Python's sqlite3 binds them: a sequence must
give exactly as many values as the statement numbers, a dict needs a key for every named
placeholder (extra keys are ignored) and cannot give a value to a nameless `?`.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.positions import span_of
from dbheal_lsp.analysis.statement import SlotRange, is_stand_in, render
from dbheal_lsp.model import Issue, IssueType, Span

if TYPE_CHECKING:
    from dbheal_lsp.analysis.checks import Facts

# Calls that bind in the DB-API way: the statement, then one sequence or mapping.
_DBAPI = frozenset({"execute", "executemany"})
# asyncpg's way: every value after the statement is one parameter ($1, $2, ...).
_ARGS_STYLE = frozenset({"fetch", "fetchrow", "fetchval"})
_ARGS_STYLE_KEYWORDS = frozenset({"timeout", "record_class", "column"})
# pandas: read_sql(sql, con, params=...).
_PANDAS = frozenset({"read_sql", "read_sql_query"})
_PARAMS_KEYWORDS = ("parameters", "params", "seq_of_parameters", "args")
_DOLLAR_NUMBER = re.compile(r"\$\d")
# Placeholders the checker respells for SQLite (analysis/sqlrefs.normalize_placeholders).
_WRITTEN = re.compile(r"%\(\w+\)s|%s|\$\d+")
_SHOWN = 6  # placeholders or keys listed in a message before "..."


@dataclass(frozen=True)
class BoundRow:
    """One set of values a call binds: `count` values by position, or the `keys` of a dict."""

    span: Span  # the literal (or the name holding it) in the Python file
    count: int | None = None
    keys: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Bindings:
    """What a call certainly binds: one row, or each row of `executemany`'s literal list."""

    rows: tuple[BoundRow, ...]
    passed: bool = True  # False: the call passes no parameters at all
    many: bool = False  # executemany: messages name the row


def read_bindings(
    call: ast.Call, name: str, scope: ast.AST, lines: Sequence[str]
) -> Bindings | None:
    """Return what `call` (to `name`, in function or module `scope`) certainly binds, or None."""
    if any(kw.arg is None for kw in call.keywords):
        return None  # **kwargs may carry the parameters
    if name in _ARGS_STYLE:
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
    elif name in _DBAPI:
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
        elif isinstance(found, ast.Call) and _called(found) in _DBAPI | _PANDAS:
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


@dataclass(frozen=True)
class _Needed:
    """What the statement's placeholders need, numbered the way SQLite numbers them."""

    count: int  # the largest parameter number: how many values a sequence must give
    names: dict[int, str]  # parameter number -> its name in SQLite's spelling (":name", "?2")
    shown: tuple[str, ...]  # the placeholders as written: each `?`, every other one once
    numbered: bool  # some placeholder is ?NNN
    written: dict[str, str]  # a placeholder in SQLite's spelling -> as the code writes it
    # Both `%s`/`$1` and `?`/`:name` are written (no one driver reads both as placeholders), or
    # a `?` outside SQLite: which marks are placeholders is not known.
    unknown: bool

    def spelled(self, tokens: Sequence[str]) -> list[str]:
        """Return `tokens` as the code writes them (`%(name)s`, `$1`), for messages."""
        return [self.written.get(t, t) for t in tokens]

    @property
    def named(self) -> list[str]:
        """Return the placeholders that have a name (:name, @name, $name), once each."""
        return [t for t in self.shown if t[0] in ":@$"]

    @property
    def nameless(self) -> list[str]:
        """Return the bare `?` placeholders."""
        return [t for t in self.shown if t == "?"]


def _needed(facts: Facts, original: str) -> _Needed:
    """Number the placeholders as SQLite does: `?` takes the next number, `?NNN` is NNN, and a
    name seen before keeps its number. `original` is the SQL before pyformat and `$1` were
    respelled (the same offsets), when it is at hand."""
    text = facts.rendered.text
    if len(original) != len(text):
        original = text  # read again with slots as names: no longer the same offsets
    written: dict[str, str] = {}
    respelled = native = unsure = False
    count = 0
    names: dict[int, str] = {}
    seen: dict[str, int] = {}
    shown: list[str] = []
    numbered = False
    for ph in facts.placeholders:
        if ph.name is not None and is_stand_in(ph.name):
            continue  # a number the code interpolates, not a parameter
        token = text[ph.start : ph.end]
        if token != original[ph.start : ph.end]:
            m = _WRITTEN.match(original, ph.start)
            written[token] = m.group() if m else token
            respelled = True
        else:
            native = True
            # Outside SQLite a `?` is PostgreSQL's jsonb operator, or a placeholder of some
            # drivers (mysql-connector's prepared cursors): which one is not known.
            unsure = unsure or (token.startswith("?") and facts.settings.dialect != "sqlite")
        if token == "?":
            number = count + 1
            shown.append(token)
        else:
            numbered = numbered or token.startswith("?")
            number = int(token[1:]) if token.startswith("?") else seen.get(token, count + 1)
            if token not in seen:
                seen[token] = number
                shown.append(token)
            names.setdefault(number, token)
        count = max(count, number)
    return _Needed(count, names, tuple(shown), numbered, written, (respelled and native) or unsure)


def _may_hide_placeholders(sr: SlotRange) -> bool:
    """Return whether an interpolated slot may carry placeholders of its own.

    A number cannot, nor can a name (a table or column, even an imported constant); a fragment
    whose text is unknown can, and so can a value-position constant the extractor could not
    spell out (`IN ({marks})`, a list of `?` built at run time).
    """
    return not (sr.role in ("in_string", "identifier") or sr.slot.value.numeric_cast)


def parameter_mismatches(facts: Facts) -> Iterator[Issue]:
    """PARAMETER_MISMATCH: bound values that sqlite3 will refuse for these placeholders."""
    statement = facts.statement
    bindings = statement.bindings
    if bindings is None or statement.is_script:
        return
    # Judge slots by the role they were first given: the checker's retry reads every slot as a
    # name, and a fragment read as a name would hide its placeholders.
    first = render(statement)
    if any(_may_hide_placeholders(sr) for sr in first.slots):
        return
    if statement.call in _DBAPI and _DOLLAR_NUMBER.search(statement.literal_text):
        return  # asyncpg's execute(sql, *args): each argument is one value, not a sequence
    needed = _needed(facts, first.text)
    if needed.unknown:
        return
    if statement.call in _ARGS_STYLE and (not needed.numbered or needed.nameless):
        return  # not asyncpg's $1, $2: a helper of its own, whose binding is not known
    for number, row in enumerate(bindings.rows, start=1):
        prefix = f"row {number} " if bindings.many else ""
        message = _row_problem(row, needed, bindings.passed)
        if message:
            yield _issue(facts, row.span, prefix + message)


def _row_problem(row: BoundRow, needed: _Needed, passed: bool) -> str | None:
    """Return what sqlite3 would refuse in binding `row` to the placeholders, if anything."""
    named, nameless = needed.named, needed.nameless
    mixed = (
        f"the statement mixes named ({_listed(needed.spelled(named))}) and positional "
        f"({_listed(needed.spelled(nameless))}) placeholders"
    )
    if row.keys is None:
        count = row.count or 0
        if count != needed.count:
            given = f"{count} value{'s' if count != 1 else ''}" if passed else "no value"
            return f"binds {given} but the statement {_takes(needed)}"
        if named and nameless:
            return f"{mixed}; bind them all by name, with a dict"
        if named:
            return (
                f"binds values by position but the statement names its placeholders "
                f"({_listed(needed.spelled(named))}); pass a dict (Python 3.14's sqlite3 rejects a "
                "sequence here)"
            )
        return None
    keys = row.keys
    used = {token[1:] for token in needed.names.values()}
    for number in range(1, needed.count + 1):
        token = needed.names.get(number)
        if token is None:
            if named:
                return f"{mixed}, and a dict gives no value to ?"
            return (
                f"binds a dict but the statement has positional placeholders "
                f"({_listed(needed.spelled(needed.shown))}); a dict binds only named ones"
            )
        key = token[1:]
        if key in keys:
            continue
        given = f"the dict gives {_listed(keys)}" if keys else "the dict is empty"
        unused = [k for k in keys if k not in used]
        close = difflib.get_close_matches(key, unused, n=1, cutoff=0.6)
        shown = needed.written.get(token, token)
        return f"no value for {shown}; {given}" + (f" (did you mean {key}?)" if close else "")
    return None


def _takes(needed: _Needed) -> str:
    """Return how many values the statement takes, as the message says it."""
    if needed.numbered and needed.count != len(needed.shown):
        top = max(int(t[1:]) for t in needed.shown if t.startswith("?") and len(t) > 1)
        highest = needed.written.get(f"?{top}", f"?{top}")
        return f"numbers its placeholders up to {highest}, so it takes {needed.count}"
    n = needed.count
    listed = f" ({_listed(needed.spelled(needed.shown))})" if needed.shown else ""
    return f"has {n} placeholder{'s' if n != 1 else ''}{listed}"


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (", ..." if len(items) > _SHOWN else "")


def _issue(facts: Facts, span: Span, message: str) -> Issue:
    kind = IssueType.PARAMETER_MISMATCH
    return Issue(
        type=kind,
        severity=kind.default_severity,
        path=facts.path,
        span=span,
        message=message,
        statement_span=facts.statement.span,
        call_span=facts.statement.call_span,
        sql=facts.sql,
        fingerprint=facts.fingerprint(kind, message, None, None),
    )
