"""Helpers of their own shape ([tool.dbheal.calls], issue 11, pattern 11): where such a helper
carries its SQL, its statements list or its table and column names."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.statement import Parameter, Piece, Statement, TextPiece
from dbheal_lsp.languages.python.call_statements import make_statement, sql_statements
from dbheal_lsp.languages.python.calls import call_name_span
from dbheal_lsp.languages.python.filecontext import FileContext, Scope
from dbheal_lsp.languages.python.pieces import read_pieces
from dbheal_lsp.languages.python.reaching import reaching_values
from dbheal_lsp.languages.python.values import literal_parameters

if TYPE_CHECKING:
    from dbheal_lsp.config import CallShape


def shaped_statements(
    call: ast.Call, name: str, shape: CallShape, scope: Scope, ctx: FileContext
) -> list[Statement]:
    """Return the statements a helper of a configured shape carries."""
    if shape.table is not None:
        statement = _table_statement(call, name, shape, scope, ctx)
        return [] if statement is None else [statement]
    if shape.statements is not None:
        return _listed_statements(call, name, _argument(call, shape.statements), scope, ctx)
    index = shape.sql or 0
    params = _argument(call, shape.params if shape.params is not None else index + 1)

    def parameters() -> tuple[Parameter, ...] | None:
        return () if params is None else literal_parameters(params, ctx)

    return sql_statements(call, name, _argument(call, index), parameters, scope, ctx)


def _argument(call: ast.Call, index: int) -> ast.expr | None:
    """Return positional argument `index` of `call`, unless a `*args` comes first."""
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            return None
        if i == index:
            return arg
    return None


def _listed_statements(
    call: ast.Call, name: str, node: ast.expr | None, scope: Scope, ctx: FileContext
) -> list[Statement]:
    """Statements of a list literal (or a name bound once to one): each item SQL, or a
    [sql, params] pair."""
    if isinstance(node, ast.Name):
        reaching = reaching_values(scope, node.id, (node.lineno, node.col_offset), ctx)
        if reaching is not None and len(reaching) == 1 and not reaching[0][1]:
            node = reaching[0][0]
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    found: list[Statement] = []
    for item in node.elts:
        params: ast.expr | None = None
        sql: ast.expr = item
        if isinstance(item, (ast.List, ast.Tuple)):
            if not item.elts:
                continue
            sql = item.elts[0]
            params = item.elts[1] if len(item.elts) > 1 else None

        def parameters(params: ast.expr | None = params) -> tuple[Parameter, ...] | None:
            return () if params is None else literal_parameters(params, ctx)

        found.extend(sql_statements(call, name, sql, parameters, scope, ctx))
    return found


def _table_statement(
    call: ast.Call, name: str, shape: CallShape, scope: Scope, ctx: FileContext
) -> Statement | None:
    """The statement equivalent to `upsert("users", {"name": n}, {"id": i})`, for the checks.

    SELECT `name`, `id` FROM `users`, each name mapped to its string literal, so that
    MISSING_TABLE and MISSING_COLUMN point at "users" and "name" in the code. A SELECT, not the
    INSERT or UPDATE the helper may run: it refers to the same names and nothing else (no
    value to compare, no filter to index). A table name that is not literal text: nothing.
    """
    table_arg = _argument(call, shape.table or 0)
    if table_arg is None:
        return None
    ctx.slots = 0
    table = _name_piece(table_arg, scope, ctx)
    if table is None:
        return None
    columns: list[TextPiece] = []
    for index in shape.columns:
        mapping = _argument(call, index)
        if not isinstance(mapping, ast.Dict):
            continue
        for key in mapping.keys:
            piece = _name_piece(key, scope, ctx) if key is not None else None
            if piece is not None:
                columns.append(piece)
    name_span = call_name_span(call.func, ctx.lines)
    at = (name_span.line, name_span.column)

    def glue(text: str) -> TextPiece:
        # The words the code does not spell: mapped to the helper's name.
        return TextPiece(text, (at,) * (len(text) + 1))

    pieces: list[Piece] = [glue("SELECT ")]
    for i, column in enumerate(columns):
        pieces.extend([glue(", ")] if i else [])
        pieces.extend(_quoted(column))
    if not columns:
        pieces.append(glue("1"))
    pieces.append(glue(" FROM "))
    pieces.extend(_quoted(table))
    return make_statement(call, name, table_arg, tuple(pieces), (), scope, ctx)


def _quoted(piece: TextPiece) -> list[Piece]:
    """The name `piece` as a quoted SQL identifier (a column may be named `order`), the quotes
    mapped onto the name's first and last characters so that an issue covers the name alone.
    Backquotes: an unknown name in double quotes would be read as a string by SQLite."""
    first, last = piece.positions[0], piece.positions[-2]
    opening = TextPiece("`", (first, first))
    closing = TextPiece("`", (last, piece.positions[-1]))
    return [opening, piece, closing]


def _name_piece(node: ast.expr, scope: Scope, ctx: FileContext) -> TextPiece | None:
    """A table or column name given as literal text (or a name bound to one), with positions."""
    saved = ctx.strict
    ctx.strict = True
    try:
        variants = read_pieces(node, scope, ctx, (node.lineno, node.col_offset), 0)
    finally:
        ctx.strict = saved
    if variants is None or len(variants) != 1:
        return None
    parts = variants[0]
    if not parts or not all(isinstance(p, TextPiece) for p in parts):
        return None
    texts = [p for p in parts if isinstance(p, TextPiece)]
    text = "".join(p.text for p in texts)
    # A qualified or quoted name, or one with blanks (SQLite's messages end a name at the
    # first blank), is not read: better nothing than a wrong MISSING_TABLE.
    if not text or any(c in text for c in '."`[]') or any(c.isspace() for c in text):
        return None
    positions: list[tuple[int, int]] = []
    for p in texts:
        positions.extend(p.positions[:-1])
    positions.append(texts[-1].positions[-1])
    return TextPiece(text, tuple(positions))
