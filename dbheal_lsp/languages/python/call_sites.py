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
from dataclasses import dataclass, field
from pathlib import Path

from dbheal_lsp.analysis.positions import source_lines
from dbheal_lsp.analysis.statement import Piece, Slot, Statement, TextPiece
from dbheal_lsp.config import Config
from dbheal_lsp.languages.python.calls import DEFAULT_CALLS, call_name_span
from dbheal_lsp.languages.python.constants import KEYS, FileConstants
from dbheal_lsp.languages.python.constants import Literal as GivenLiteral
from dbheal_lsp.languages.python.filecontext import MAX_VARIANTS, FileContext, Scope
from dbheal_lsp.languages.python.helper_receivers import receiver_class
from dbheal_lsp.languages.python.pieces import consistent, read_pieces
from dbheal_lsp.languages.python.project_constants import ProjectConstants
from dbheal_lsp.languages.python.pysource import parse_module, span_of
from dbheal_lsp.languages.python.reaching import reaching_name
from dbheal_lsp.languages.python.receivers import leaf_name

# How many helpers deep a call is followed (insert -> _insert_query is 2), and how many
# statements one call site gives at most.
MAX_DEPTH = 3
MAX_CALL_SITE_VARIANTS = 4
_SQL_START = re.compile(
    r"\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH)\b", re.IGNORECASE
)
_WORD = re.compile(r"[A-Za-z_]\w*")
_Function = ast.FunctionDef | ast.AsyncFunctionDef


def with_helpers(
    merged: ProjectConstants, found: Mapping[str, FileConstants], config: Config
) -> ProjectConstants:
    """Return `merged` with where each class is defined and which methods reach a database
    call (`found`: every file's constants by relative path)."""
    from dataclasses import replace

    where: dict[str, str | None] = {}
    for rel, constants in found.items():
        for name, _bases in constants.bases:
            where[name] = rel if where.get(name, rel) == rel else None
    calls = DEFAULT_CALLS | frozenset(config.extra_calls)
    made: dict[str, set[str]] = {}
    for constants in found.values():
        for call in constants.calls:
            if call.caller:
                made.setdefault(call.caller, set()).add(call.name)
    helpers = {m for m, names in made.items() if names & calls}
    for _ in range(MAX_DEPTH - 1):
        helpers |= {m for m, names in made.items() if names & helpers}
    return replace(
        merged,
        class_files={k: v for k, v in where.items() if v is not None},
        project_root=str(config.root),
        sql_methods=frozenset(m for m in helpers if not m.startswith("__")),
    )


@dataclass
class HelperFiles:
    """The files helpers are defined in, parsed once per process (None: not readable)."""

    parsed: dict[str, tuple[ast.Module, list[str]] | None] = field(default_factory=dict)

    def read(self, path: str) -> tuple[ast.Module, list[str]] | None:
        """Return the tree and lines of the file at `path`."""
        if path not in self.parsed:
            try:
                text = Path(path).read_text(encoding="utf-8")
                self.parsed[path] = (parse_module(text, path), source_lines(text))
            except (OSError, SyntaxError, ValueError, RecursionError):
                self.parsed[path] = None
        return self.parsed[path]


@dataclass(frozen=True)
class _Helper:
    """A method found for a call: its class node, the file it is in."""

    method: _Function
    cls: ast.ClassDef
    module: ast.Module
    lines: list[str]
    path: str  # "" for the caller's own file


def call_site_statements(
    call: ast.Call, name: str, scope: Scope, ctx: FileContext, files: HelperFiles
) -> list[Statement]:
    """Return the statements the project's method `name`, called by `call`, sends with what
    the call passes (none when its SQL does not depend on the call, or is not all known)."""
    func = call.func
    if not isinstance(func, ast.Attribute) or any(isinstance(a, ast.Starred) for a in call.args):
        return []
    receiver = receiver_class(func.value, scope, ctx)
    if not receiver:
        return []
    helper = _find_method(receiver, name, ctx, files)
    if helper is None:
        return []
    words: dict[str, ast.expr] = {}
    environment = _bind(helper.method, call, scope, ctx, words)
    if environment is None:
        return []
    hctx = FileContext(helper.lines, ctx.options, frozenset(), Scope(helper.module, ""))
    hctx.deadline = ctx.deadline
    hctx.origins.module = helper.module
    hctx.class_node = helper.cls
    hctx.own_attributes = constructor_attributes(receiver, ctx, files)
    found: list[tuple[str, list[Piece]]] = []
    for db_call, variant in _read_helper(helper, environment, receiver, hctx, ctx, files, 0):
        if (db_call, variant) not in found:
            found.append((db_call, variant))
    where = f"{helper.cls.name}.{name} in {helper.path or 'this file'}:{helper.method.lineno}"
    out: list[Statement] = []
    for db_call, variant in found[:MAX_CALL_SITE_VARIANTS]:
        text = "".join(p.text for p in variant if isinstance(p, TextPiece))
        piece = _pinned_to_call(text, call, words, ctx)
        out.append(_statement(call, db_call, piece, scope, ctx, where))
    return out


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
    helper: _Helper,
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
    for node in _calls_of(method):
        called = leaf_name(node.func)
        if called is None:
            continue
        if called in ctx.options.calls and node.args:
            yield from ((called, v) for v in _variants(node, scope, environment, receiver, hctx))
        elif (
            depth + 1 < MAX_DEPTH
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
            and called in ctx.options.constants.sql_methods
        ):
            inner = _find_method(receiver, called, ctx, files)
            if inner is None or inner.path != helper.path:
                continue
            passed = _passed_on(inner.method, node, environment)
            if passed:
                yield from _read_helper(inner, passed, receiver, hctx, ctx, files, depth + 1)


def _variants(
    node: ast.Call,
    scope: Scope,
    environment: dict[str, GivenLiteral],
    receiver: str,
    hctx: FileContext,
) -> Iterator[list[Piece]]:
    """Yield the whole variants of database call `node`'s SQL, read with `environment`."""
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
    for variant in variants[:MAX_VARIANTS]:
        if not consistent(variant, hctx) or any(isinstance(p, Slot) for p in variant):
            continue
        text = "".join(p.text for p in variant if isinstance(p, TextPiece))
        if _SQL_START.match(text):
            yield variant


def constructor_attributes(
    receiver: str, ctx: FileContext, files: HelperFiles
) -> dict[str, GivenLiteral]:
    """Return the literal each `self.<attribute>` of an instance of `receiver` is given by
    the constructors it runs: `super().__init__(db, "History")` in it, `self._name = name` in
    its base's."""
    out: dict[str, GivenLiteral] = {}
    passed: dict[str, GivenLiteral] = {}
    cls = receiver
    for _ in range(MAX_DEPTH + 1):
        found = _method_in(cls, "__init__", ctx, files, ctx.options.constants)
        node = _class_of(cls, ctx, files)
        if node is None:
            break
        base = next((b for b in map(leaf_name, node.bases) if b), None)
        if found is not None:
            init = found.method
            for value, attr in _self_assignments(init):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    out.setdefault(attr, value.value)
                elif isinstance(value, ast.Name) and value.id in passed:
                    out.setdefault(attr, passed[value.id])
            up = next((c for c in _calls_of(init) if _calls_base_init(c, base)), None)
            base_init = (
                _method_in(base, "__init__", ctx, files, ctx.options.constants) if base else None
            )
            if up is None or base_init is None:
                break
            passed = _passed_on(base_init.method, _without_self(up), passed)
        if base is None:
            break
        cls = base
    return out


def _class_of(cls: str, ctx: FileContext, files: HelperFiles) -> ast.ClassDef | None:
    module = ctx.module.node
    assert isinstance(module, ast.Module)
    node = _class_node(module, cls)
    if node is None and cls in ctx.options.constants.class_files:
        constants = ctx.options.constants
        read = files.read(str(Path(constants.project_root) / constants.class_files[cls]))
        node = _class_node(read[0], cls) if read is not None else None
    return node


def _self_assignments(function: _Function) -> Iterator[tuple[ast.expr, str]]:
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    yield node.value, target.attr


def _calls_base_init(call: ast.Call, base: str | None) -> bool:
    """Return whether `call` is `super().__init__(...)` or `Base.__init__(self, ...)`."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "__init__"):
        return False
    owner = func.value
    if isinstance(owner, ast.Call) and leaf_name(owner.func) == "super":
        return True
    return base is not None and leaf_name(owner) == base


def _without_self(call: ast.Call) -> ast.Call:
    """Return `Base.__init__(self, a)` as `__init__(a)`; `super().__init__(a)` as it is."""
    func = call.func
    if isinstance(func, ast.Attribute) and not isinstance(func.value, ast.Call) and call.args:
        return ast.Call(func=func, args=call.args[1:], keywords=call.keywords)
    return call


def _calls_of(function: _Function) -> Iterator[ast.Call]:
    """Yield the calls in `function`'s body (nested functions left out), in source order."""
    found: list[ast.Call] = []
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return iter(sorted(found, key=lambda c: (c.lineno, c.col_offset)))


def _parameters(method: _Function) -> list[str]:
    args = method.args
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    return names[1:]  # `self`


def _arguments(method: _Function, call: ast.Call) -> dict[str, ast.expr] | None:
    """Return the argument `call` passes each parameter of `method` (None: it cannot call it)."""
    names = _parameters(method)
    keywords = {a.arg for a in method.args.kwonlyargs}
    if len(call.args) > len(names):
        return None
    given = dict(zip(names, call.args, strict=False))
    for keyword in call.keywords:
        if keyword.arg is None or keyword.arg not in (*names, *keywords):
            return None
        given[keyword.arg] = keyword.value
    return given


def _bind(
    method: _Function,
    call: ast.Call,
    scope: Scope,
    ctx: FileContext,
    words: dict[str, ast.expr],
) -> dict[str, GivenLiteral] | None:
    """Return the literal `call` passes each parameter of `method` where it passes one,
    noting in `words` where the caller writes each name it passes."""
    given = _arguments(method, call)
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


def _passed_on(
    method: _Function, call: ast.Call, environment: Mapping[str, GivenLiteral]
) -> dict[str, GivenLiteral]:
    """Return what a helper passes the helper `method` it calls: its own parameters' values
    (as the call site gave them) and literals."""
    given = _arguments(method, call) or {}
    out: dict[str, GivenLiteral] = {}
    for parameter, value in given.items():
        if isinstance(value, ast.Name) and value.id in environment:
            out[parameter] = environment[value.id]
        elif isinstance(value, ast.Constant) and isinstance(value.value, str):
            out[parameter] = value.value
    return out


def _find_method(receiver: str, name: str, ctx: FileContext, files: HelperFiles) -> _Helper | None:
    """Return the method `name` an instance of class `receiver` runs: its own, else the
    nearest base's, in this file or the file the project defines that class in."""
    constants = ctx.options.constants
    level, seen = [receiver], {receiver}
    while level:
        for cls in level:
            found = _method_in(cls, name, ctx, files, constants)
            if found is not None:
                return found
        level = [
            b for c in level for b in sorted(constants.hierarchy.up.get(c, ())) if b not in seen
        ]
        seen.update(level)
    return None


def _method_in(
    cls: str, name: str, ctx: FileContext, files: HelperFiles, constants: ProjectConstants
) -> _Helper | None:
    module = ctx.module.node
    assert isinstance(module, ast.Module)
    node = _class_node(module, cls)
    path, lines = "", list(ctx.lines)
    if node is None and cls in constants.class_files:
        path = constants.class_files[cls]
        read = files.read(str(Path(constants.project_root) / path))
        if read is None:
            return None
        module, lines = read
        node = _class_node(module, cls)
    if node is None:
        return None
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
            return _Helper(item, node, module, lines, path)
    return None


def _class_node(module: ast.Module, name: str) -> ast.ClassDef | None:
    for node in module.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
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
