"""Tests of reading a string expression into its variants of text and slots (languages/python/pieces.py)."""

from __future__ import annotations

from dbheal_lsp.analysis.statement import Piece, TextPiece
from dbheal_lsp.languages.python.filecontext import FileContext, Scope
from dbheal_lsp.languages.python.pieces import consistent, read_pieces
from tests.languages.python.test_filecontext import calls_in, function_scope, read_file


def shown(variant: list[Piece]) -> list[str]:
    """Return each piece: its text, or `{kind:source}` for a slot."""
    return [
        p.text if isinstance(p, TextPiece) else f"{{{p.kind}:{p.value.source}}}" for p in variant
    ]


def variants_of_first_call(source: str) -> tuple[list[list[Piece]] | None, FileContext, Scope]:
    ctx = read_file(source)
    scope = function_scope(ctx, "f")
    ctx.scope = scope
    call = calls_in(scope)[0]
    found = read_pieces(call.args[0], scope, ctx, (call.lineno, call.col_offset), 0)
    return found, ctx, scope


def test_every_way_of_building_text_gives_its_slots() -> None:
    found, _, _ = variants_of_first_call(
        """
        def f(conn, a, b, c, d):
            conn.execute(f"SELECT {a} FROM t" + " WHERE x = %s" % b + " AND y = {}".format(c))
        """
    )
    assert found is not None
    assert [shown(v) for v in found] == [
        [
            "SELECT ",
            "{fstring:a}",
            " FROM t",
            " WHERE x = ",
            "{percent:b}",
            " AND y = ",
            "{format:c}",
        ]
    ]


def test_branches_and_names_give_one_variant_each() -> None:
    found, _, _ = variants_of_first_call(
        """
        TABLE = "users"
        def f(conn, flag, n):
            if flag:
                sql = "SELECT id FROM " + TABLE + " WHERE id = %s" % n
            else:
                sql = "SELECT id FROM " + TABLE
            conn.execute(sql if n else "SELECT 1")
        """
    )
    assert found is not None
    assert sorted(shown(v) for v in found) == [
        ["SELECT 1"],
        ["SELECT id FROM ", "users"],
        ["SELECT id FROM ", "users", " WHERE id = ", "{percent:n}"],
    ]


def test_text_pieces_keep_the_position_of_each_character() -> None:
    found, _, _ = variants_of_first_call('def f(conn):\n    conn.execute("SELECT 1")\n')
    assert found is not None
    (piece,) = found[0]
    assert isinstance(piece, TextPiece)
    assert piece.text == "SELECT 1"
    # The line of each character, and its column.
    assert piece.positions[0][0] == 2 and len(piece.positions) == len("SELECT 1") + 1
    assert piece.positions[1][1] == piece.positions[0][1] + 1


def test_what_is_not_text_is_not_read() -> None:
    found, _, _ = variants_of_first_call("def f(conn, sql):\n    conn.execute(42)\n")
    assert found is None


def test_a_name_takes_one_value_in_each_variant() -> None:
    found, ctx, _ = variants_of_first_call(
        """
        def f(conn, flag):
            if flag:
                col = "a"
            else:
                col = "b"
            conn.execute("SELECT " + col + " FROM t ORDER BY " + col)
        """
    )
    assert found is not None
    kept = sorted("".join(shown(v)) for v in found if consistent(v, ctx))
    assert kept == ["SELECT a FROM t ORDER BY a", "SELECT b FROM t ORDER BY b"]


def test_a_name_read_in_part_keeps_its_known_start() -> None:
    found, _, _ = variants_of_first_call(
        """
        def f(conn, join, where):
            src = "users"
            if join:
                src += f" {join}"
            cond = where
            conn.execute(f"SELECT id FROM ({src}) WHERE {cond}")
        """
    )
    assert found is not None
    # The table is read, the unread join after it stays a slot; a value that starts unread
    # is one slot whole.
    assert ["".join(shown(v)) for v in found] == [
        "SELECT id FROM (users {fstring:join}) WHERE {fstring:cond}"
    ]
