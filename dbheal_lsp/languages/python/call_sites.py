"""A helper method's SQL checked at each call of it, in the caller's file (issue 11, 11).

`self.insert({'url': u, 'atime': t})` on a `SqlTable` subclass runs SQL that the base class
builds from the call's arguments and the subclass's table name:
`f"INSERT INTO {self._name} ({', '.join(values)}) ..."`. Read once where it is written, that
text has holes; read for one call, with the call's literal arguments bound to the helper's
parameters (through helpers it calls: `insert` -> `_insert_query`) and `self` an instance of
the receiver's class, it is a whole statement. That statement is made at the call, where the
table and column names are written, and says which helper built it (`Statement.built_by`).

The helper's own statement stays where its text is: it checks what the helper writes itself.
A call-site statement is made only when the text read took something from the call (an
argument or the receiver's class) and holds no hole.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace

from dbheal_lsp.analysis.statement import Parameter, Piece, Slot, Statement, TextPiece
from dbheal_lsp.config import Config
from dbheal_lsp.languages.python.calls import DEFAULT_CALLS, call_name_span
from dbheal_lsp.languages.python.constants import KEYS, FileConstants
from dbheal_lsp.languages.python.constants import Literal as GivenLiteral
from dbheal_lsp.languages.python.filecontext import MAX_VARIANTS, FileContext, Scope
from dbheal_lsp.languages.python.helper_receivers import (
    MAX_DEPTH,
    Helper,
    HelperFiles,
    arguments_of,
    calls_of,
    constructor_attributes,
    find_method,
    passed_on,
    receiver_class,
)
from dbheal_lsp.languages.python.pieces import consistent, read_pieces
from dbheal_lsp.languages.python.project_constants import ProjectConstants
from dbheal_lsp.languages.python.pysource import span_of
from dbheal_lsp.languages.python.reaching import reaching_name
from dbheal_lsp.languages.python.receivers import leaf_name
from dbheal_lsp.languages.python.values import literal_parameters, value_info
from dbheal_lsp.languages.python.variants import per_caller_variants, per_class_variants

# How many helpers deep a call is followed (insert -> _insert_query is 2), and how many
# statements one call site gives at most.
MAX_CALL_SITE_VARIANTS = 4
_SQL_START = re.compile(
    r"\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH)\b", re.IGNORECASE
)
_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_WORD = re.compile(r"[A-Za-z_]\w*")
_Function = ast.FunctionDef | ast.AsyncFunctionDef


def with_helpers(
    merged: ProjectConstants, found: Mapping[str, FileConstants], config: Config
) -> ProjectConstants:
    """Return `merged` with where each class is defined and which methods reach a database
    call (`found`: every file's constants by relative path)."""
    where: dict[str, str | None] = {}
    for rel, constants in found.items():
        for name, _bases in constants.bases:
            where[name] = rel if where.get(name, rel) == rel else None
    calls = DEFAULT_CALLS | frozenset(config.extra_calls)
    made: dict[str, set[str]] = {}
    sends: set[str] = set()  # methods that send SQL they do not spell in full
    for constants in found.values():
        for call in constants.calls:
            if not call.caller:
                continue
            made.setdefault(call.caller, set()).add(call.name)
            if call.name in calls and call.positional and not isinstance(call.positional[0], str):
                sends.add(call.caller)
    helpers = set(sends)
    for _ in range(MAX_DEPTH - 1):
        helpers |= {m for m, names in made.items() if names & helpers}
    names = frozenset(m for m in helpers if not m.startswith("__"))
    owners: dict[str, set[str]] = {}
    for constants in found.values():
        for sig in constants.signatures:
            if sig.method and sig.name in names:
                owners.setdefault(sig.name, set()).add(sig.owner)
    return replace(
        merged,
        class_files={k: v for k, v in where.items() if v is not None},
        project_root=str(config.root),
        sql_methods=names,
        sql_method_owners={k: frozenset(v) for k, v in owners.items()},
    )


def call_site_statements(
    call: ast.Call, name: str, scope: Scope, ctx: FileContext, files: HelperFiles
) -> list[Statement]:
    """Return the statements the project's method `name`, called by `call`, sends with what
    the call passes (none when its SQL does not depend on the call, or is not all known)."""
    func = call.func
    if not isinstance(func, ast.Attribute) or any(isinstance(a, ast.Starred) for a in call.args):
        return []
    ctx.work = 0  # the names this call's arguments hold are followed afresh
    passed = [*call.args, *(k.value for k in call.keywords)]
    if not any(_literal_of(a, scope, ctx, {}) is not None for a in passed):
        return []  # it gives the helper no name: the helper's own statement is all there is
    receiver = receiver_class(func.value, scope, ctx)
    if not receiver:
        return []
    helper = find_method(receiver, name, ctx, files)
    if helper is None:
        return []
    words: dict[str, ast.expr] = {}
    environment = _bind(helper.method, call, scope, ctx, words)
    if environment is None:
        return []
    if not environment:
        return []  # the call gives the helper nothing it could build names from
    if receiver not in ctx.call_site_attributes:
        ctx.call_site_attributes[receiver] = constructor_attributes(receiver, ctx, files)
    hctx = FileContext(helper.lines, ctx.options, frozenset(), Scope(helper.module, ""))
    hctx.deadline = ctx.deadline
    hctx.origins.module = helper.module
    hctx.class_node = helper.cls
    hctx.own_attributes = ctx.call_site_attributes[receiver]
    found: list[tuple[str, list[Piece]]] = []
    for db_call, variant in _read_helper(helper, environment, receiver, hctx, ctx, files, 0):
        if (db_call, variant) not in found:
            found.append((db_call, variant))
    built = f"{helper.cls.name}.{name}"
    line = helper.method.lineno
    where = f"{built} in {helper.path}:{line}" if helper.path else f"{built} at line {line}"
    out: list[Statement] = []
    for db_call, variant in found[:MAX_CALL_SITE_VARIANTS]:
        text = "".join(p.text for p in variant if isinstance(p, TextPiece))
        piece = _pinned_to_call(text, call, words, ctx)
        statement = _statement(call, db_call, piece, scope, ctx, where)
        out.append(replace(statement, parameters=_bound_values(call, text, scope, ctx)))
    return out


def _bound_values(
    call: ast.Call, text: str, scope: Scope, ctx: FileContext
) -> tuple[Parameter, ...] | None:
    """Return the values the call's dict display binds, when the SQL's placeholders are
    exactly its keys (`insert({'atime': int(t)})` gives `VALUES (:atime)`): their types are
    checked against the columns. None when the call passes no such dict."""
    placeholders = set(_PLACEHOLDER.findall(text))
    for arg in (*call.args, *(k.value for k in call.keywords)):
        if isinstance(arg, ast.Dict) and placeholders:
            found = literal_parameters(arg, ctx)
            if found is not None and {p.name for p in found} == placeholders:
                values = [v for k, v in zip(arg.keys, arg.values, strict=True) if k is not None]
                return tuple(_typed(p, v, scope, ctx) for p, v in zip(found, values, strict=False))
    return None


def _typed(parameter: Parameter, node: ast.expr, scope: Scope, ctx: FileContext) -> Parameter:
    """Return `parameter` with the type of what a name passed holds, when its one value is a
    cast (`atime = int(a) if a else int(time.time())`): as the cast itself would give."""
    if parameter.value.code_type is not None or not isinstance(node, ast.Name):
        return parameter
    found = reaching_name(node, scope, ctx)
    if found is None or len(found[1]) != 1 or found[1][0][1] or found[1][0][0] is None:
        return parameter
    value = found[1][0][0]
    branches = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
    infos = [value_info(b, ctx) for b in branches]
    kinds = {(i.code_type, i.helper) for i in infos}
    if len(kinds) != 1 or infos[0].helper is None:
        return parameter
    code_type, helper = kinds.pop()
    info = replace(
        parameter.value, code_type=code_type, helper=helper, numeric_cast=infos[0].numeric_cast
    )
    return replace(parameter, value=info)


def _statement(
    call: ast.Call, db_call: str, piece: TextPiece, scope: Scope, ctx: FileContext, where: str
) -> Statement:
    span = span_of(ctx.lines, call)
    return Statement(
        pieces=(piece,),
        call=db_call,
        span=span,
        name_span=call_name_span(call.func, ctx.lines),
        call_span=span,
        parameters=None,
        function=scope.qualname,
        guarded=ctx.guarded,
        database=None,
        built_by=where,
    )


def _read_helper(
    helper: Helper,
    environment: dict[str, GivenLiteral],
    receiver: str,
    hctx: FileContext,
    ctx: FileContext,
    files: HelperFiles,
    depth: int,
) -> Iterator[tuple[str, list[Piece]]]:
    """Yield (database call, variant) for each statement `helper` sends with `environment`,
    following the helpers of its own class it calls, up to MAX_DEPTH levels."""
    method = helper.method
    scope = Scope(method, f"{helper.cls.name}.{method.name}")
    for node in calls_of(method):
        called = leaf_name(node.func)
        if called is None:
            continue
        if called in ctx.options.calls and node.args:
            yield from (
                (called, v)
                for v in _variants(node, scope, environment, receiver, hctx, (helper.path, files))
            )
        elif (
            depth + 1 < MAX_DEPTH
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
            and called in ctx.options.constants.sql_methods
        ):
            inner = find_method(receiver, called, ctx, files)
            if inner is None or inner.path != helper.path:
                continue
            passed = passed_on(inner.method, node, environment)
            if passed:
                yield from _read_helper(inner, passed, receiver, hctx, ctx, files, depth + 1)


def _variants(
    node: ast.Call,
    scope: Scope,
    environment: dict[str, GivenLiteral],
    receiver: str,
    hctx: FileContext,
    where: tuple[str, HelperFiles],
) -> Iterator[list[Piece]]:
    """Yield the whole variants of database call `node`'s SQL, read with `environment`
    (`where`: the helper's file, "" for the caller's, and the files read)."""
    path, files = where
    hctx.scope = scope
    hctx.slots = hctx.work = 0
    hctx.strict = False
    hctx.alternatives = {}
    hctx.reached.clear()
    hctx.environment, hctx.environment_of = dict(environment), scope.node
    hctx.as_class, hctx.call_site, hctx.given = receiver, True, False
    try:
        variants = read_pieces(node.args[0], scope, hctx, (node.lineno, node.col_offset), 0)
    finally:
        hctx.call_site = False
    if not variants or not hctx.given:
        return  # nothing taken from the call: the helper's own statement checks it
    whole = [
        v
        for v in variants[:MAX_VARIANTS]
        if consistent(v, hctx) and not any(isinstance(p, Slot) for p in v)
    ]
    own: frozenset[str] | None = None
    for variant in whole:
        text = "".join(p.text for p in variant if isinstance(p, TextPiece))
        if not _SQL_START.match(text):
            continue
        if own is None:
            key = (path, node.lineno, node.col_offset)
            own = files.own.get(key) if path else None
            if own is None:
                own = _own_texts(node, scope, hctx)
            if path:
                files.own[key] = own
        if text not in own:
            yield variant


def _own_texts(node: ast.Call, scope: Scope, hctx: FileContext) -> frozenset[str]:
    """Return the whole texts the helper's own statement is read as where it is written (each
    caller's, each class's): what it checks and reports there is not made again at a call."""
    hctx.scope = scope
    hctx.slots = hctx.work = 0
    hctx.strict = hctx.several = False
    hctx.alternatives, hctx.environment, hctx.environment_of = {}, {}, None
    hctx.as_class, hctx.per_class = None, set()
    hctx.reached.clear()
    at = (node.lineno, node.col_offset)
    variants = read_pieces(node.args[0], scope, hctx, at, 0) or []
    if hctx.several:
        variants = per_caller_variants(node.args[0], node, scope, hctx) or variants
    elif hctx.per_class:
        variants = per_class_variants(node.args[0], node, scope, hctx) or variants
    return frozenset(
        "".join(p.text for p in v if isinstance(p, TextPiece))
        for v in variants
        if not any(isinstance(p, Slot) for p in v)
    )


def _bind(
    method: _Function,
    call: ast.Call,
    scope: Scope,
    ctx: FileContext,
    words: dict[str, ast.expr],
) -> dict[str, GivenLiteral] | None:
    """Return the literal `call` passes each parameter of `method` where it passes one,
    noting in `words` where the caller writes each name it passes."""
    given = arguments_of(method, call)
    if given is None:
        return None
    out: dict[str, GivenLiteral] = {}
    for parameter, value in given.items():
        literal = _literal_of(value, scope, ctx, words)
        if literal is not None:
            out[parameter] = literal
    return out


def _literal_of(
    node: ast.expr, scope: Scope, ctx: FileContext, words: dict[str, ast.expr]
) -> GivenLiteral | None:
    """Return the name or dict keys `node` gives (through a name bound once to one)."""
    if isinstance(node, ast.Name):
        found = reaching_name(node, scope, ctx)
        if found is None or len(found[1]) != 1 or found[1][0][1] or found[1][0][0] is None:
            return None
        node = found[1][0][0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        words.setdefault(node.value, node)
        return node.value
    if isinstance(node, ast.Dict) and node.keys:
        keys: list[str] = []
        for key in node.keys:
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                return None
            words.setdefault(key.value, key)
            keys.append(key.value)
        return (KEYS, *keys)
    return None


def _pinned_to_call(
    text: str, call: ast.Call, words: Mapping[str, ast.expr], ctx: FileContext
) -> TextPiece:
    """Return `text` as one piece in the caller's file: each name the caller writes (a key of
    its dict, a string it passes) points at that string's text, the rest at the called name."""
    assert isinstance(call.func, ast.Attribute)
    named = call_name_span(call.func, ctx.lines)
    start, last = (named.line, named.column), (named.end_line, named.end_column - 1)
    positions: list[tuple[int, int]] = [last] * len(text)
    whole = span_of(ctx.lines, call)
    for match in _WORD.finditer(text):
        node = words.get(match.group())
        span = span_of(ctx.lines, node) if node is not None else None
        if (
            span is not None
            and whole.line <= span.line == span.end_line <= whole.end_line
            and span.end_column - span.column > 2
        ):
            # Inside the quotes: the name itself.
            first, end = (span.line, span.column + 1), (span.line, span.end_column - 2)
        else:
            first, end = start, last
        positions[match.start()] = first
        for i in range(match.start() + 1, match.end()):
            positions[i] = end
    return TextPiece(text, (*positions, (named.end_line, named.end_column)))
