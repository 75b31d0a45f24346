"""Python string expressions as text pieces and slots: literals, f-strings, `+`, `%`,
`.format()`, `join`, names; every variant an expression can take, at most MAX_VARIANTS."""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Sequence

from dbheal_lsp.analysis.statement import Piece, Slot, TextPiece
from dbheal_lsp.languages.python.calls import TEXT_CALLS
from dbheal_lsp.languages.python.filecontext import (
    MAX_NAME_DEPTH,
    MAX_VARIANTS,
    FileContext,
    Scope,
    Variants,
)
from dbheal_lsp.languages.python.joined_names import joined_names
from dbheal_lsp.languages.python.literals import FStringField, LiteralText, scan_string
from dbheal_lsp.languages.python.own_methods import own_method, returned_variants
from dbheal_lsp.languages.python.pysource import span_of
from dbheal_lsp.languages.python.reaching import reaching_values
from dbheal_lsp.languages.python.receivers import leaf_name
from dbheal_lsp.languages.python.slots import NUMBER_CONVERSIONS, new_slot
from dbheal_lsp.languages.python.sql_text import inlinable
from dbheal_lsp.languages.python.written import (
    NAME_TEXT,
    attribute_values,
    caller_literals,
    pinned,
    text_at,
)

_SURROGATE = re.compile("[\ud800-\udfff]")
PERCENT_SPEC = re.compile(
    r"%(?:\((?P<key>[^)%]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
FORMAT_FIELD = re.compile(r"\{\{|\}\}|\{(?P<name>[^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")


# An expression may hold several texts (`a if c else b`, a name assigned in `if`/`elif`
# branches): `read_pieces` returns each variant, at most MAX_VARIANTS of them, so that every
# variant of the SQL is checked. A variant is a list of pieces, never shared between variants.


def read_pieces(
    node: ast.expr, scope: Scope, ctx: FileContext, at: tuple[int, int], depth: int
) -> Variants | None:
    """Return the variants of the string expression `node`, or None when it is not one we read."""
    if depth > MAX_NAME_DEPTH:
        return None
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str):
            return None
        return _literal_pieces(node, scope, ctx, depth)
    if isinstance(node, ast.JoinedStr):
        return _literal_pieces(node, scope, ctx, depth)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _concat_pieces(node, scope, ctx, at, depth)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        template = read_pieces(node.left, scope, ctx, at, depth + 1)
        if template is None:
            return None
        return _percent_pieces(template, node.right, scope, ctx, depth)
    if isinstance(node, ast.IfExp):
        return _either(node.body, node.orelse, scope, ctx, at, depth)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            template = read_pieces(node.func.value, scope, ctx, at, depth + 1)
            if template is None:
                return None
            return _format_pieces(template, node, scope, ctx, depth)
        if node.func.attr in ("strip", "lstrip", "rstrip") and not node.args:
            return read_pieces(node.func.value, scope, ctx, at, depth + 1)
        if (
            node.func.attr == "join"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
            and len(node.args) == 1
        ):
            if isinstance(node.args[0], (ast.List, ast.Tuple)) and node.args[0].elts:
                return _joined_pieces(node.func.value, node.args[0].elts, scope, ctx, depth)
            separator, arg = node.func.value.value, node.args[0]
            joined = joined_names(separator, arg, scope, ctx, _item_texts(scope, ctx, depth))
            return None if joined is None else [[text_at(joined, node, ctx)]]
    if isinstance(node, ast.Call) and (method := own_method(node, ctx)) is not None:
        return returned_variants(method, ctx, lambda v, s: _operand(v, s, ctx, at, depth))
    if isinstance(node, ast.Call) and leaf_name(node.func) in TEXT_CALLS and node.args:
        return read_pieces(node.args[0], scope, ctx, at, depth + 1)
    if isinstance(node, ast.Name):
        return _name_pieces(node, scope, ctx, at, depth)
    if isinstance(node, ast.Attribute):
        return pinned(attribute_values(node, ctx), node, ctx)
    return None


def _item_texts(
    scope: Scope, ctx: FileContext, depth: int
) -> Callable[[ast.expr, str, tuple[str, ...]], list[str] | None]:
    """The reader joined_names.py formats each joined name with: the item's text with the
    variable bound to each name in turn, when each is text alone (no slot)."""

    def texts(item: ast.expr, variable: str, names: tuple[str, ...]) -> list[str] | None:
        out: list[str] = []
        outer = ctx.bound
        try:
            for name in names:
                ctx.bound = {**outer, variable: name}
                variants = _operand(item, scope, ctx, (item.lineno, item.col_offset), depth)
                if not variants or len(variants) != 1:
                    return None
                if any(isinstance(p, Slot) for p in variants[0]):
                    return None
                out.append("".join(p.text for p in variants[0] if isinstance(p, TextPiece)))
        finally:
            ctx.bound = outer
        return out

    return texts


def _joined_pieces(
    separator: ast.Constant,
    parts: Sequence[ast.expr],
    scope: Scope,
    ctx: FileContext,
    depth: int,
) -> Variants | None:
    """Variants of `" ".join(["SELECT ...", f"FROM {t}", ...])`: the parts with the separator
    between them, each mapped to where it is written; a part that cannot be read (a method's
    result, `self._atime_expr()`) is a slot, as an operand of `+` is."""
    glue = _literal_pieces(separator, scope, ctx, depth + 1)
    if glue is None or any(isinstance(part, ast.Starred) for part in parts):
        return None
    read: list[Variants] = []
    unread = 0
    for i, part in enumerate(parts):
        variants = _operand(part, scope, ctx, (part.lineno, part.col_offset), depth)
        if variants is None:
            unread += 1
            variants = [[new_slot(part, "join", ctx)]]
        if i:
            read.append(glue)
        read.append(variants)
    return None if unread == len(parts) else _join(read)


def _either(
    body: ast.expr,
    orelse: ast.expr,
    scope: Scope,
    ctx: FileContext,
    at: tuple[int, int],
    depth: int,
) -> Variants | None:
    """Variants of `body if ... else orelse`: both, or the one we read (only when not strict)."""
    first = read_pieces(body, scope, ctx, at, depth + 1)
    second = read_pieces(orelse, scope, ctx, at, depth + 1)
    if ctx.strict and (first is None or second is None):
        return None
    both = (first or []) + (second or [])
    return both[:MAX_VARIANTS] or None


def _operand(
    node: ast.expr, scope: Scope, ctx: FileContext, at: tuple[int, int], depth: int
) -> Variants | None:
    """Variants of a part of a larger string: every value its names can hold must be read.

    Only the SQL argument itself is read leniently (a name assigned SQL in one branch and
    something unreadable in another: the SQL we can read is checked).
    """
    saved = ctx.strict
    ctx.strict = True
    try:
        return read_pieces(node, scope, ctx, at, depth + 1)
    finally:
        ctx.strict = saved


def _inline(node: ast.expr, scope: Scope, ctx: FileContext, depth: int) -> Variants | None:
    """Variants of an interpolated value whose text starts as written (plain text, a SELECT
    built above, `table` with an unread addition after it), else None.

    `cond = "AND deleted = 0" if hide else ""` interpolated with `%s`: each variant of the SQL is
    checked with the fragment's own text, mapped to where the fragment is written.
    """
    variants = _operand(node, scope, ctx, (node.lineno, node.col_offset), depth)
    return None if variants is None else inlinable(variants)


def _join(parts: Sequence[Variants]) -> Variants:
    """Concatenate `parts` (each a list of variants): every combination, at most MAX_VARIANTS.

    A part with one variant extends each variant in place, so a long `+` chain stays linear.
    """
    out: Variants = [[]]
    for part in parts:
        if len(part) == 1:
            for variant in out:
                variant.extend(part[0])
        else:
            pairs = itertools.islice(itertools.product(out, part), MAX_VARIANTS)
            out = [a + b for a, b in pairs]
    return out


def _concat_pieces(
    node: ast.BinOp, scope: Scope, ctx: FileContext, at: tuple[int, int], depth: int
) -> Variants | None:
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
    parts = [_operand(operand, scope, ctx, at, depth) for operand in operands]
    if all(part is None for part in parts):
        return None
    return _join(
        [
            part if part is not None else [[new_slot(operand, "concat", ctx)]]
            for operand, part in zip(operands, parts, strict=True)
        ]
    )


def _literal_pieces(
    node: ast.Constant | ast.JoinedStr, scope: Scope, ctx: FileContext, depth: int
) -> Variants | None:
    scanned = scan_string(ctx.lines, node)
    if scanned is None:
        fallback = _fallback_pieces(node, ctx)
        return None if fallback is None else [fallback]
    parts: list[Variants] = []
    start = 0
    for f in scanned.fields:
        if f.offset > start:
            parts.append([[_text_piece(scanned, start, f.offset)]])
        # `{name}` alone (no conversion, no format spec) spells the value's own text.
        plain = f.span.line == f.span.end_line and (
            f.span.end_column - f.span.column == len(f.expr_source) + 2
        )
        inlined = _inline(f.value, scope, ctx, depth) if plain else None
        parts.append(inlined or [[new_slot(f.value, "fstring", ctx, number=_number_spec(f, ctx))]])
        start = f.offset
    if start < len(scanned.text) or not parts:
        parts.append([[_text_piece(scanned, start, len(scanned.text))]])
    return _join(parts)


def _number_spec(f: FStringField, ctx: FileContext) -> bool:
    """Return whether an f-string field's format spec spells a number: `{n:d}`, `{x:.2f}`."""
    if f.span.line != f.span.end_line or f.expr_span.end_line != f.span.line:
        return False
    spec = ctx.lines[f.span.line - 1][f.expr_span.end_column - 1 : f.span.end_column - 2]
    return spec.startswith(":") and len(spec) > 1 and spec[-1] in NUMBER_CONVERSIONS


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


def _fallback_pieces(node: ast.Constant | ast.JoinedStr, ctx: FileContext) -> list[Piece] | None:
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
            pieces.append(new_slot(part.value, "fstring", ctx))
    return pieces


def _split_text(piece: TextPiece, cuts: list[tuple[int, int, Variants | None]]) -> list[Variants]:
    """Replace the ranges `cuts` (start, end, replacement) of a text piece, in order."""
    out: list[Variants] = []
    pos = 0
    for start, end, replacement in cuts:
        if start > pos:
            out.append([[TextPiece(piece.text[pos:start], piece.positions[pos : start + 1])]])
        if replacement is not None:
            out.append(replacement)
        pos = end
    if pos < len(piece.text):
        out.append([[TextPiece(piece.text[pos:], piece.positions[pos:])]])
    return out


def _literal_char(piece: TextPiece, start: int, char: str) -> Variants:
    return [[TextPiece(char, (piece.positions[start], piece.positions[start + 1]))]]


def _percent_pieces(
    templates: Variants, right: ast.expr, scope: Scope, ctx: FileContext, depth: int
) -> Variants:
    """Variants of `template % right`: each conversion spec becomes a slot for its value.

    A plain `%s` of text built only from literals is replaced by that text; a number
    conversion (`%d`, `%.2f`) cannot carry SQL whatever its value.
    """
    if isinstance(right, ast.Tuple):
        values: list[ast.expr] = list(right.elts)
    else:
        values = [right]
    mapping: dict[str, ast.expr] = {}
    if isinstance(right, ast.Dict):
        for dict_key, dict_value in zip(right.keys, right.values, strict=True):
            if isinstance(dict_key, ast.Constant) and isinstance(dict_key.value, str):
                mapping[dict_key.value] = dict_value
    out: Variants = []
    for template in templates:
        parts: list[Variants] = []
        position = 0
        for piece in template:
            if not isinstance(piece, TextPiece):
                parts.append([[piece]])
                continue
            cuts: list[tuple[int, int, Variants | None]] = []
            for match in PERCENT_SPEC.finditer(piece.text):
                conv = match.group("conv")
                if conv == "%":
                    cuts.append(
                        (match.start(), match.end(), _literal_char(piece, match.start(), "%"))
                    )
                    continue
                key = match.group("key")
                value: ast.expr = right
                if key is not None and key in mapping:
                    value = mapping[key]
                elif key is None and position < len(values):
                    value = values[position]
                position += 1
                plain = match.group() in ("%s", f"%({key})s")
                inlined = _inline(value, scope, ctx, depth) if plain else None
                slot = inlined or [
                    [new_slot(value, "percent", ctx, number=conv in NUMBER_CONVERSIONS)]
                ]
                cuts.append((match.start(), match.end(), slot))
            parts.extend(_split_text(piece, cuts) if cuts else [[[piece]]])
        out.extend(_join(parts))
    return out[:MAX_VARIANTS]


def _format_pieces(
    templates: Variants, call: ast.Call, scope: Scope, ctx: FileContext, depth: int
) -> Variants:
    """Variants of `template.format(...)`: each replacement field becomes a slot for its value."""
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    out: Variants = []
    for template in templates:
        parts: list[Variants] = []
        auto = 0
        for piece in template:
            if not isinstance(piece, TextPiece):
                parts.append([[piece]])
                continue
            cuts: list[tuple[int, int, Variants | None]] = []
            for match in FORMAT_FIELD.finditer(piece.text):
                name = match.group("name")
                if name is None:  # "{{" or "}}"
                    char = match.group()[0]
                    cuts.append(
                        (match.start(), match.end(), _literal_char(piece, match.start(), char))
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
                field_text = match.group()
                spec = field_text[:-1].partition(":")[2]
                plain = field_text == "{" + base + "}" and value is not call
                inlined = _inline(value, scope, ctx, depth) if plain else None
                number = bool(spec) and spec[-1] in NUMBER_CONVERSIONS
                slot = inlined or [[new_slot(value, "format", ctx, number=number)]]
                cuts.append((match.start(), match.end(), slot))
            parts.extend(_split_text(piece, cuts) if cuts else [[[piece]]])
        out.extend(_join(parts))
    return out[:MAX_VARIANTS]


def _name_pieces(
    node: ast.Name, scope: Scope, ctx: FileContext, at: tuple[int, int], depth: int
) -> Variants | None:
    """Variants of the SQL a name holds at `at`: one per assignment that can reach it.

    When not strict (the SQL argument itself), values we cannot read are left out and the
    others checked; when strict, any such value makes the whole name unreadable.
    """
    bound = ctx.bound.get(node.id)
    if isinstance(bound, str) and NAME_TEXT.fullmatch(bound):
        return [[text_at(bound, node, ctx)]]  # a comprehension's name, this turn's value
    for candidate in (scope, ctx.module) if scope is not ctx.module else (ctx.module,):
        reaching = reaching_values(candidate, node.id, at, ctx)
        if reaching is None:
            continue
        saved = ctx.scope
        ctx.scope = candidate  # slots inside the assigned value belong to that scope
        try:
            out: Variants = []
            for base, augments in reaching:
                variants = None
                if base is not None:
                    variants = read_pieces(
                        base, candidate, ctx, (base.lineno, base.col_offset), depth + 1
                    )
                elif not augments:
                    variants = pinned(caller_literals(candidate, node.id, ctx), node, ctx)
                if variants is None:
                    if ctx.strict:
                        return None
                    continue
                parts = [variants]
                for value in augments:
                    more = _operand(value, candidate, ctx, (value.lineno, value.col_offset), depth)
                    parts.append(more or [[new_slot(value, "concat", ctx)]])
                out.extend(_join(parts))
            out = out[:MAX_VARIANTS]
            _remember_alternatives((id(candidate.node), node.id), out, ctx)
            return out or None
        finally:
            ctx.scope = saved
    return None


def _remember_alternatives(key: tuple[int, str], variants: Variants, ctx: FileContext) -> None:
    """Note where each of a name's values starts, when it has several distinct ones."""
    if len(variants) < 2:
        return
    starts = [
        frozenset(p.positions[0] for p in variant if isinstance(p, TextPiece) and p.text)
        for variant in variants
    ]
    if all(starts) and sum(len(s) for s in starts) == len(frozenset().union(*starts)):
        ctx.alternatives[key] = starts


def consistent(variant: list[Piece], ctx: FileContext) -> bool:
    """Return whether `variant` takes one value for each name it uses in several places
    (`fts = "a" if x else "b"` then `JOIN {fts} ... WHERE {fts} MATCH ?`)."""
    if not ctx.alternatives:
        return True
    covered = {pos for p in variant if isinstance(p, TextPiece) for pos in p.positions[:-1]}
    return all(
        sum(1 for starts in alternatives if starts & covered) <= 1
        for alternatives in ctx.alternatives.values()
    )
