"""Find every SQL statement that Python code sends to a database, using the standard `ast`.

A statement is the SQL argument of a database call (execute, executemany, executescript, query,
text(...), ...) as a plain string, implicit concatenation, f-string, `%` formatting, `.format()`,
`+` concatenation, or a name bound to such a value earlier in the same function or at module
level (including `sql += "..."`). Each is returned as a `Statement`: literal text pieces with
source positions, interpolated slots, and the parameters bound to its placeholders.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from dbheal_lsp.analysis.positions import LiteralText, scan_string, source_lines, span_of
from dbheal_lsp.analysis.sqllex import skip_trivia
from dbheal_lsp.analysis.statement import (
    Parameter,
    Piece,
    Slot,
    SlotKind,
    Statement,
    TextPiece,
    ValueInfo,
)
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
_DBAPI_CALLS = frozenset({"execute", "executemany", "executescript"})
# asyncpg passes parameters as extra positional arguments: conn.fetch(sql, a, b).
_ARGS_STYLE_CALLS = frozenset({"fetch", "fetchrow", "fetchval"})
_TEXT_CALLS = frozenset({"text"})

# The words a SQL statement starts with, after any whitespace, comments and opening parentheses
# (skipped by `_starts_like_sql` with str.find: a pattern with nested repeats backtracks
# exponentially on a run of comments).
_SQL_START = re.compile(
    r"(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH|PRAGMA|BEGIN|COMMIT|END|"
    r"ROLLBACK|SAVEPOINT|RELEASE|EXPLAIN|VACUUM|ATTACH|DETACH|ANALYZE|REINDEX|VALUES)\b",
    re.IGNORECASE,
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SQL_WORD = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|INTO|TABLE|WHERE|SET|VALUES|PRAGMA)\b", re.IGNORECASE
)
_PERCENT_SPEC = re.compile(
    r"%(?:\((?P<key>[^)%]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
_FORMAT_FIELD = re.compile(r"\{\{|\}\}|\{(?P<name>[^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")
_CAST_TYPES = {
    "int": "INTEGER",
    "float": "REAL",
    "str": "TEXT",
    "bool": "INTEGER",
    "Decimal": "NUMERIC",
}
_NUMERIC_CASTS = frozenset({"int", "float", "Decimal", "bool"})
_MAX_NAME_DEPTH = 8
_PLACEHOLDER_TEXTS = frozenset({"?", "%s", "?,", "%s,", ", ?", ", %s", ",?"})


@dataclass(frozen=True)
class ExtractOptions:
    """What counts as a database call, and which helpers make an identifier safe."""

    calls: frozenset[str] = DEFAULT_CALLS
    identifier_helpers: frozenset[str] = frozenset()


@dataclass
class _Scope:
    """Assignments of one function (or the module), collected on first use."""

    node: ast.AST
    qualname: str
    assignments: dict[str, list[tuple[tuple[int, int], ast.expr, bool]]] | None = None


class OutOfTime(Exception):
    """Extraction ran past its deadline, at the statement on `line`."""

    def __init__(self, line: int) -> None:
        super().__init__(f"out of time at line {line}")
        self.line = line


@dataclass
class _FileContext:
    lines: Sequence[str]
    options: ExtractOptions
    candidate_lines: frozenset[int]
    module: _Scope
    deadline: float = float("inf")  # time.monotonic() after which no statement is read
    statements: list[Statement] = field(default_factory=list)
    # Calls already handled as the argument of an outer call (text() inside execute()).
    consumed: set[int] = field(default_factory=set)
    # The scope of the call being read, to follow names that slots interpolate.
    scope: _Scope | None = None
    # Slots are numbered within their statement, so that stand-in names (and the fingerprints
    # of issues) do not change when code above the statement moves.
    slots: int = 0
    # What each expression node says about its value, read once: `.format(*args)` and `%`
    # give every field the same node, and copying its source text per field is quadratic.
    values: dict[int, ValueInfo] = field(default_factory=dict)


class Extractor:
    """Finds statements in Python source; holds the compiled call-name pattern."""

    def __init__(self, options: ExtractOptions | None = None) -> None:
        self.options = options or ExtractOptions()
        names = "|".join(sorted(re.escape(n) for n in self.options.calls))
        self._candidate = re.compile(rf"\b(?:{names})\s*\(")

    def might_contain_sql(self, source: str) -> bool:
        """Return whether `source` calls any database call name at all (a cheap pre-filter)."""
        return self._candidate.search(source) is not None

    def extract(
        self,
        source: str,
        tree: ast.Module,
        only: Sequence[ast.stmt] | None = None,
        lines: Sequence[str] | None = None,
        deadline: float = float("inf"),
    ) -> tuple[Statement, ...]:
        """Return every statement the module `tree` (parsed from `source`) sends to a database.

        `only` limits the search to some of the module's top-level statements (the ones that
        changed since the last check); names are still resolved at module level. `lines` are
        the source's lines when the caller has split them already. Past `deadline`
        (time.monotonic), raise OutOfTime: reading a huge file's strings takes time too.
        """
        candidate_lines = self._candidate_lines(source)
        if not candidate_lines:
            return ()
        lines = lines if lines is not None else source_lines(source)
        ctx = _FileContext(lines, self.options, candidate_lines, _Scope(tree, ""), deadline)
        _visit_body(tree.body if only is None else only, ctx.module, ctx)
        return tuple(sorted(ctx.statements, key=lambda s: (s.span.line, s.span.column)))

    def _candidate_lines(self, source: str) -> frozenset[int]:
        found: set[int] = set()
        line = 1
        last = 0
        for match in self._candidate.finditer(source):
            line += source.count("\n", last, match.start())
            last = match.start()
            found.add(line)
        return frozenset(found)


def _has_candidate(node: ast.stmt, ctx: _FileContext) -> bool:
    end = node.end_lineno or node.lineno
    if end - node.lineno < 32:
        return any(n in ctx.candidate_lines for n in range(node.lineno, end + 1))
    return any(node.lineno <= n <= end for n in ctx.candidate_lines)


def _visit_body(body: Sequence[ast.stmt], scope: _Scope, ctx: _FileContext) -> None:
    for stmt in body:
        if _has_candidate(stmt, ctx):
            _visit_stmt(stmt, scope, ctx)


def _visit_stmt(stmt: ast.stmt, scope: _Scope, ctx: _FileContext) -> None:
    if time.monotonic() >= ctx.deadline:
        raise OutOfTime(stmt.lineno)
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        qual = f"{scope.qualname}.{stmt.name}" if scope.qualname else stmt.name
        _visit_body(stmt.body, _Scope(stmt, qual), ctx)
        return
    if isinstance(stmt, ast.ClassDef):
        qual = f"{scope.qualname}.{stmt.name}" if scope.qualname else stmt.name
        # Class bodies are not a scope for name lookups from methods; keep the enclosing one.
        _visit_body(stmt.body, _Scope(scope.node, qual, scope.assignments), ctx)
        return
    for _name, value in ast.iter_fields(stmt):
        if isinstance(value, list):
            for item in value:
                if isinstance(item, ast.stmt):
                    if _has_candidate(item, ctx):
                        _visit_stmt(item, scope, ctx)
                elif isinstance(item, (ast.ExceptHandler, ast.match_case)):
                    _visit_body(item.body, scope, ctx)
                elif isinstance(item, ast.AST):
                    _visit_expr(item, scope, ctx)
        elif isinstance(value, ast.AST):
            _visit_expr(value, scope, ctx)


def _visit_expr(node: ast.AST, scope: _Scope, ctx: _FileContext) -> None:
    for call in _calls_in(node):
        if id(call) in ctx.consumed:
            continue
        name = _called_name(call.func)
        if name is None or name not in ctx.options.calls:
            continue
        statement = _statement_of_call(call, name, scope, ctx)
        if statement is not None:
            ctx.statements.append(statement)


def _calls_in(node: ast.AST) -> Iterator[ast.Call]:
    """Yield the calls in `node` in source order, outer calls before the calls inside them."""
    stack = [node]
    found: list[ast.Call] = []
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call):
            found.append(current)
        stack.extend(ast.iter_child_nodes(current))
    found.sort(key=lambda c: (c.lineno, c.col_offset))
    yield from found


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _statement_of_call(
    call: ast.Call, name: str, scope: _Scope, ctx: _FileContext
) -> Statement | None:
    sql_arg = call.args[0] if call.args else _keyword(call, ("sql", "query", "statement"))
    if sql_arg is None or isinstance(sql_arg, ast.Starred):
        return None
    outer_call = call
    if (
        isinstance(sql_arg, ast.Call)
        and _called_name(sql_arg.func) in _TEXT_CALLS
        and "text" in ctx.options.calls
    ):
        # conn.execute(text("..."), {...}): one statement, parameters from the outer call.
        ctx.consumed.add(id(sql_arg))
        inner = sql_arg.args[0] if sql_arg.args else None
        if inner is None:
            return None
        sql_arg = inner
    ctx.scope = scope
    ctx.slots = 0
    pieces = _pieces(sql_arg, scope, ctx, (call.lineno, call.col_offset), 0)
    if not pieces:
        return None
    literal = "".join(p.text for p in pieces if isinstance(p, TextPiece))
    if name in _DBAPI_CALLS:
        if not _starts_like_sql(literal) and not _SQL_WORD.search(literal):
            return None
    elif not (isinstance(pieces[0], TextPiece) and _starts_like_sql(pieces[0].text)):
        return None
    return Statement(
        pieces=tuple(pieces),
        call=name,
        span=span_of(ctx.lines, sql_arg),
        name_span=_name_span(call.func, ctx.lines),
        call_span=span_of(ctx.lines, call),
        parameters=_parameters(outer_call, name, ctx),
        function=scope.qualname,
    )


def _starts_like_sql(text: str) -> bool:
    """Return whether `text` starts like a SQL statement (after blanks, comments and `(`)."""
    return _SQL_START.match(text, skip_trivia(text, 0, also="(")) is not None


def _keyword(call: ast.Call, names: tuple[str, ...]) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg in names:
            return kw.value
    return None


def _name_span(func: ast.expr, lines: Sequence[str]) -> Span:
    full = span_of(lines, func)
    if isinstance(func, ast.Attribute):
        return Span(full.end_line, full.end_column - len(func.attr), full.end_line, full.end_column)
    return full


# --- building pieces from Python expressions -------------------------------------------------


def _pieces(
    node: ast.expr, scope: _Scope, ctx: _FileContext, at: tuple[int, int], depth: int
) -> list[Piece] | None:
    """Return the pieces of the string expression `node`, or None when it is not one we read."""
    if depth > _MAX_NAME_DEPTH:
        return None
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str):
            return None
        return _literal_pieces(node, ctx)
    if isinstance(node, ast.JoinedStr):
        return _literal_pieces(node, ctx)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _concat_pieces(node, scope, ctx, at, depth)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        template = _pieces(node.left, scope, ctx, at, depth + 1)
        if template is None:
            return None
        return _percent_pieces(template, node.right, ctx)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            template = _pieces(node.func.value, scope, ctx, at, depth + 1)
            if template is None:
                return None
            return _format_pieces(template, node, ctx)
        if node.func.attr in ("strip", "lstrip", "rstrip") and not node.args:
            return _pieces(node.func.value, scope, ctx, at, depth + 1)
    if isinstance(node, ast.Call) and _called_name(node.func) in _TEXT_CALLS and node.args:
        return _pieces(node.args[0], scope, ctx, at, depth + 1)
    if isinstance(node, ast.Name):
        return _name_pieces(node, scope, ctx, at, depth)
    return None


def _concat_pieces(
    node: ast.BinOp, scope: _Scope, ctx: _FileContext, at: tuple[int, int], depth: int
) -> list[Piece] | None:
    """Pieces of `a + b + c ...`: the chain's operands read in a loop, not by recursion.

    `+` nests to the left, so a long chain is a deep tree: reading it recursively, one level
    per term, would stop at the name depth limit or exhaust Python's recursion.
    """
    operands: list[ast.expr] = []
    current: ast.expr = node
    while isinstance(current, ast.BinOp) and isinstance(current.op, ast.Add):
        operands.append(current.right)
        current = current.left
    operands.append(current)
    operands.reverse()
    parts = [_pieces(operand, scope, ctx, at, depth + 1) for operand in operands]
    if all(part is None for part in parts):
        return None
    out: list[Piece] = []
    for operand, part in zip(operands, parts, strict=True):
        out.extend(part if part is not None else [_new_slot(operand, "concat", ctx)])
    return out


def _literal_pieces(node: ast.Constant | ast.JoinedStr, ctx: _FileContext) -> list[Piece] | None:
    scanned = scan_string(ctx.lines, node)
    if scanned is None:
        return _fallback_pieces(node, ctx)
    pieces: list[Piece] = []
    start = 0
    for f in scanned.fields:
        if f.offset > start:
            pieces.append(_text_piece(scanned, start, f.offset))
        pieces.append(_new_slot(f.value, "fstring", ctx))
        start = f.offset
    if start < len(scanned.text) or not pieces:
        pieces.append(_text_piece(scanned, start, len(scanned.text)))
    return pieces


def _text_piece(scanned: LiteralText, start: int, end: int) -> TextPiece:
    return TextPiece(_sql_safe(scanned.text[start:end]), scanned.positions[start : end + 1])


def _sql_safe(text: str) -> str:
    """Return `text` with each lone surrogate (`"\\ud800"`) as U+FFFD, one for one.

    Python strings may hold them, UTF-8 (what SQLite and every output read) cannot: a
    stranger's `"\\ud800"` would make the whole run fail to encode. One character for one
    keeps every position.
    """
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


def _fallback_pieces(node: ast.Constant | ast.JoinedStr, ctx: _FileContext) -> list[Piece] | None:
    """Pieces pointing at the whole expression, when the exact scan could not be trusted."""
    span = span_of(ctx.lines, node)
    at = (span.line, span.column)
    if isinstance(node, ast.Constant):
        text = _sql_safe(str(node.value))
        return [TextPiece(text, (at,) * (len(text) + 1))]
    pieces: list[Piece] = []
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            text = _sql_safe(part.value)
            pieces.append(TextPiece(text, (at,) * (len(text) + 1)))
        elif isinstance(part, ast.FormattedValue):
            pieces.append(_new_slot(part.value, "fstring", ctx))
    return pieces


def _new_slot(node: ast.expr, kind: SlotKind, ctx: _FileContext) -> Slot:
    index = ctx.slots
    ctx.slots += 1
    info = _value_info(node, ctx)
    if not info.constant and _is_placeholder_list(node, ctx):
        info = replace(info, constant=True)
    return Slot(index, kind, info)


def _is_placeholder_list(node: ast.expr, ctx: _FileContext) -> bool:
    """Return whether `node` builds only placeholders: `",".join("?" * len(ids))` and kin.

    `IN ({placeholders})` is how code binds a list of values safely: the text interpolated is
    made of "?" alone, the values still go as parameters.
    """
    if isinstance(node, ast.Name) and ctx.scope is not None:
        at = (node.lineno, node.col_offset)
        for scope in (ctx.scope, ctx.module):
            chain = _binding_chain(scope, node.id, at)
            if chain is not None:
                return not chain[1] and _is_placeholder_list(chain[0], ctx)
        return False
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    if node.func.attr != "join" or not isinstance(node.func.value, ast.Constant):
        return False
    strings = [
        n.value
        for arg in node.args
        for n in ast.walk(arg)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    return bool(strings) and all(s.strip() in _PLACEHOLDER_TEXTS for s in strings)


def _split_text(piece: TextPiece, cuts: list[tuple[int, int, Piece | None]]) -> list[Piece]:
    """Replace the ranges `cuts` (start, end, replacement) of a text piece, in order."""
    out: list[Piece] = []
    pos = 0
    for start, end, replacement in cuts:
        if start > pos:
            out.append(TextPiece(piece.text[pos:start], piece.positions[pos : start + 1]))
        if replacement is not None:
            out.append(replacement)
        pos = end
    if pos < len(piece.text):
        out.append(TextPiece(piece.text[pos:], piece.positions[pos:]))
    return out


def _literal_char(piece: TextPiece, start: int, char: str) -> TextPiece:
    return TextPiece(char, (piece.positions[start], piece.positions[start + 1]))


def _percent_pieces(template: list[Piece], right: ast.expr, ctx: _FileContext) -> list[Piece]:
    """Pieces of `template % right`: each conversion spec becomes a slot for its value."""
    if isinstance(right, ast.Tuple):
        values: list[ast.expr] = list(right.elts)
    else:
        values = [right]
    mapping: dict[str, ast.expr] = {}
    if isinstance(right, ast.Dict):
        for dict_key, dict_value in zip(right.keys, right.values, strict=True):
            if isinstance(dict_key, ast.Constant) and isinstance(dict_key.value, str):
                mapping[dict_key.value] = dict_value
    out: list[Piece] = []
    position = 0
    for piece in template:
        if not isinstance(piece, TextPiece):
            out.append(piece)
            continue
        cuts: list[tuple[int, int, Piece | None]] = []
        for match in _PERCENT_SPEC.finditer(piece.text):
            if match.group("conv") == "%":
                cuts.append((match.start(), match.end(), _literal_char(piece, match.start(), "%")))
                continue
            key = match.group("key")
            value: ast.expr = right
            if key is not None and key in mapping:
                value = mapping[key]
            elif key is None and position < len(values):
                value = values[position]
            position += 1
            cuts.append((match.start(), match.end(), _new_slot(value, "percent", ctx)))
        out.extend(_split_text(piece, cuts) if cuts else [piece])
    return out


def _format_pieces(template: list[Piece], call: ast.Call, ctx: _FileContext) -> list[Piece]:
    """Pieces of `template.format(...)`: each replacement field becomes a slot for its value."""
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    auto = 0
    out: list[Piece] = []
    for piece in template:
        if not isinstance(piece, TextPiece):
            out.append(piece)
            continue
        cuts: list[tuple[int, int, Piece | None]] = []
        for match in _FORMAT_FIELD.finditer(piece.text):
            name = match.group("name")
            if name is None:  # "{{" or "}}"
                cuts.append(
                    (
                        match.start(),
                        match.end(),
                        _literal_char(piece, match.start(), match.group()[0]),
                    )
                )
                continue
            base = re.split(r"[.\[]", name, maxsplit=1)[0]
            value: ast.expr = call
            if base == "":
                if auto < len(call.args):
                    value = call.args[auto]
                auto += 1
            elif base.isdigit():
                if int(base) < len(call.args):
                    value = call.args[int(base)]
            elif base in keywords:
                value = keywords[base]
            cuts.append((match.start(), match.end(), _new_slot(value, "format", ctx)))
        out.extend(_split_text(piece, cuts) if cuts else [piece])
    return out


def _name_pieces(
    node: ast.Name, scope: _Scope, ctx: _FileContext, at: tuple[int, int], depth: int
) -> list[Piece] | None:
    for candidate in (scope, ctx.module) if scope is not ctx.module else (ctx.module,):
        chain = _binding_chain(candidate, node.id, at)
        if chain is None:
            continue
        base, augments = chain
        base_pos = (base.lineno, base.col_offset)
        pieces = _pieces(base, candidate, ctx, base_pos, depth + 1)
        if pieces is None:
            return None
        for value in augments:
            more = _pieces(value, candidate, ctx, (value.lineno, value.col_offset), depth + 1)
            pieces = pieces + (more or [_new_slot(value, "concat", ctx)])
        return pieces
    return None


def _binding_chain(
    scope: _Scope, name: str, at: tuple[int, int]
) -> tuple[ast.expr, list[ast.expr]] | None:
    """Return the last plain assignment of `name` before `at` and the `+=` parts after it."""
    if scope.assignments is None:
        scope.assignments = _collect_assignments(scope.node)
    entries = scope.assignments.get(name)
    if not entries:
        return None
    before = [e for e in entries if e[0] < at]
    if not before and isinstance(scope.node, ast.Module):
        # A module-level name used inside a function may be assigned below the function.
        before = entries
    base_index = None
    for i in range(len(before) - 1, -1, -1):
        if not before[i][2]:
            base_index = i
            break
    if base_index is None:
        return None
    base = before[base_index][1]
    augments = [e[1] for e in before[base_index + 1 :] if e[2]]
    return base, augments


def _collect_assignments(
    scope_node: ast.AST,
) -> dict[str, list[tuple[tuple[int, int], ast.expr, bool]]]:
    """Return name -> [(position, value, is_augmented)] in source order, nested defs excluded.

    Assignments are statements, so only statement lists are walked, never expressions: this
    runs for every function that sends a query held in a variable.
    """
    found: dict[str, list[tuple[tuple[int, int], ast.expr, bool]]] = {}
    stack: list[ast.stmt] = list(reversed(getattr(scope_node, "body", [])))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(
                        ((node.lineno, node.col_offset), node.value, False)
                    )
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None and isinstance(node.target, ast.Name):
                found.setdefault(node.target.id, []).append(
                    ((node.lineno, node.col_offset), node.value, False)
                )
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.op, ast.Add) and isinstance(node.target, ast.Name):
                found.setdefault(node.target.id, []).append(
                    ((node.lineno, node.col_offset), node.value, True)
                )
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(reversed(_nested_statements(node)))
    for entries in found.values():
        entries.sort(key=lambda e: e[0])
    return found


def _nested_statements(node: ast.stmt) -> list[ast.stmt]:
    """Return the statements inside a compound statement (if, for, while, with, try, match)."""
    nested: list[ast.stmt] = []
    for name in ("body", "orelse", "finalbody"):
        nested.extend(getattr(node, name, ()))
    for handler in getattr(node, "handlers", ()):
        nested.extend(handler.body)
    for case in getattr(node, "cases", ()):
        nested.extend(case.body)
    return nested


# --- values and parameters --------------------------------------------------------------------


def _value_info(node: ast.expr, ctx: _FileContext) -> ValueInfo:
    """Return what the code evidently says about the value `node` (read once per node)."""
    known = ctx.values.get(id(node))
    if known is None:
        known = ctx.values[id(node)] = _read_value_info(node, ctx)
    return known


def _read_value_info(node: ast.expr, ctx: _FileContext) -> ValueInfo:
    span = span_of(ctx.lines, node)
    source = _source_of(ctx.lines, span)
    if isinstance(node, ast.Constant):
        code_type = _constant_type(node.value)
        return ValueInfo(source, span, code_type, None, None, constant=True)
    if isinstance(node, ast.JoinedStr):
        return ValueInfo(
            source,
            span,
            "TEXT",
            constant=not any(isinstance(v, ast.FormattedValue) for v in node.values),
        )
    if isinstance(node, (ast.Name, ast.Attribute)):
        leaf = node.id if isinstance(node, ast.Name) else node.attr
        return ValueInfo(source, span, constant=leaf.isupper() and len(leaf) > 1)
    if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute)):
        # SORTS[key]: a lookup in a module constant is an allow-list, not user input.
        leaf = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
        return ValueInfo(source, span, constant=leaf.isupper() and len(leaf) > 1)
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return ValueInfo(source, span, _constant_type(node.operand.value), constant=True)
    if isinstance(node, ast.Call):
        name = _called_name(node.func)
        if name in ctx.options.identifier_helpers:
            return ValueInfo(source, span, safe_identifier=True)
        if name == "str" and len(node.args) == 1 and isinstance(node.args[0], ast.Call):
            inner = _called_name(node.args[0].func)
            if inner in ("int", "float"):
                # str(int(x)) spells a number: as safe in SQL text as int(x) itself.
                return ValueInfo(source, span, _CAST_TYPES[inner], inner, numeric_cast=True)
        if name in _CAST_TYPES and len(node.args) <= 2:
            return ValueInfo(
                source,
                span,
                _CAST_TYPES[name],
                name,
                _name_span(node.func, ctx.lines),
                numeric_cast=name in _NUMERIC_CASTS,
            )
    return ValueInfo(source, span)


def _constant_type(value: object) -> str | None:
    if isinstance(value, (bool, int)):
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    if isinstance(value, str):
        return "TEXT"
    if isinstance(value, bytes):
        return "BLOB"
    return None


def _source_of(lines: Sequence[str], span: Span) -> str:
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    first = lines[span.line - 1][span.column - 1 :]
    middle = "".join(lines[span.line : span.end_line - 1])
    last = lines[span.end_line - 1][: span.end_column - 1]
    return first + middle + last


def _parameters(call: ast.Call, name: str, ctx: _FileContext) -> tuple[Parameter, ...] | None:
    """Return the parameters the call binds, when they are written out as a literal."""
    if name in _ARGS_STYLE_CALLS or (name == "execute" and len(call.args) > 2):
        return tuple(
            Parameter(i, None, _value_info(arg, ctx))
            for i, arg in enumerate(call.args[1:])
            if not isinstance(arg, ast.Starred)
        )
    params = (
        call.args[1]
        if len(call.args) > 1
        else _keyword(call, ("parameters", "params", "seq_of_parameters", "args"))
    )
    if params is None:
        return ()
    if name == "executemany":
        if isinstance(params, (ast.List, ast.Tuple)) and params.elts:
            params = params.elts[0]
        else:
            return None
    return _literal_parameters(params, ctx)


def _literal_parameters(params: ast.expr, ctx: _FileContext) -> tuple[Parameter, ...] | None:
    if isinstance(params, (ast.Tuple, ast.List)):
        return tuple(
            Parameter(i, None, _value_info(elt, ctx))
            for i, elt in enumerate(params.elts)
            if not isinstance(elt, ast.Starred)
        )
    if isinstance(params, ast.Dict):
        out = []
        for key, value in zip(params.keys, params.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                out.append(Parameter(None, key.value, _value_info(value, ctx)))
        return tuple(out)
    if isinstance(params, ast.Call) and _called_name(params.func) == "dict" and not params.args:
        return tuple(
            Parameter(None, kw.arg, _value_info(kw.value, ctx)) for kw in params.keywords if kw.arg
        )
    return None
