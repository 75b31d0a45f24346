"""Tests of the names SQL text a project method writes can hold (languages/python/
guarded_names.py): query and sort objects built from a name that passed a membership test in a
model class's fields, interpolated into a statement read per model class, checked by the
`dbheal` command against a real SQLite file."""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

from dbheal_lsp.analysis.statement import Slot, TextPiece, ValueInfo
from dbheal_lsp.languages.python.guarded_names import (
    comparisons,
    guarded_collections,
    member_text,
)
from dbheal_lsp.model import Span
from tests.conftest import run_dbheal, write_app

MODELS = """class Model:
    _table = ""
    _fields = {}

    @classmethod
    def field_query(cls, field, pattern, query_cls):
        fast = field in cls._fields
        return query_cls(field, pattern, fast)


class Album(Model):
    _table = "albums"
    _fields = {"id": int, "title": str, "artist": str}


class Track(Model):
    _table = "tracks"
    _fields = {"id": int, "album_id": int, "title": str, "length": float}
"""

QUERIES = """class Query:
    def clause(self):
        return None, ()


class Match(Query):
    def __init__(self, field, pattern, fast=True):
        self.field = field
        self.pattern = pattern
        self.fast = fast

    def clause(self):
        if self.fast:
            return f"{self.field} = ?", [self.pattern]
        return None, ()


class Sort:
    def order_clause(self):
        return None


class FieldSort(Sort):
    def __init__(self, field, ascending):
        self.field = field
        self.ascending = ascending

    def order_clause(self):
        return f"{self.field} {'ASC' if self.ascending else 'DESC'}"


def make_sort(model_cls: type, field, ascending):
    if field in model_cls._fields:
        sort_cls = FieldSort
    else:
        return Sort()
    return sort_cls(field, ascending)
"""

APP = """import sqlite3

from models import Album, Track
from queries import Query, Sort


class Library:
    def __init__(self, path):
        self.db = sqlite3.connect(path)

    def albums(self, query, sort):
        return self._get(Album, query, sort)

    def tracks(self, query, sort):
        return self._get(Track, query, sort)

    def _get(self, model_cls, query: Query, sort: Sort):
        where, values = query.clause()
        order_by = sort.order_clause()
        table = model_cls._table
        sql = f"SELECT {table}.* FROM {table} WHERE {where or 1}"
        if order_by:
            sql = f"SELECT * FROM ({sql}) ORDER BY {order_by}"
        return self.db.execute(sql, values).fetchall()
"""

SCHEMA = """
CREATE TABLE albums (id INTEGER PRIMARY KEY, title TEXT, artist TEXT);
CREATE TABLE tracks (id INTEGER PRIMARY KEY, album_id INTEGER, title TEXT, length REAL);
"""


def test_a_membership_test_that_decides_a_call_marks_its_collection() -> None:
    assert guarded_collections(comparisons(ast.parse(MODELS))) == (
        "_fields",
    )  # through the flag `fast`
    assert guarded_collections(comparisons(ast.parse(QUERIES))) == (
        "_fields",
    )  # the class its branch picks
    # An instance's state (`self`), a test whose outcome nothing takes, a call not given the
    # tested name first: no collection of names the text may hold.
    other = """
class Model:
    def get(self, key):
        if key in self._values:
            return self._convert(key)

    @classmethod
    def check(cls, field, make):
        known = field in cls._fields
        return make(field)

    @classmethod
    def other(cls, field, make):
        fast = field in cls._names
        return make("title", field, fast)
"""
    assert guarded_collections(comparisons(ast.parse(other))) == ()


def _slot(line: int, column: int) -> Slot:
    return Slot(0, "fstring", ValueInfo("where", Span(line, column, line, column + 5)))


def _text(text: str) -> TextPiece:
    return TextPiece(text, ((1, 0),) * (len(text) + 1))


def test_members_are_qualified_with_the_table_the_select_reads() -> None:
    where = member_text(
        [_text("SELECT id FROM (tracks LEFT JOIN albums) WHERE "), _slot(3, 8)], 1, ("a", "b")
    )
    assert where is not None and where.text == "COALESCE(tracks.a, tracks.b)"
    assert where.positions[0] == (3, 8)  # the finding points at the interpolated text
    # Through a subquery the columns have no table: plain names, one member padded.
    order = member_text(
        [_text("SELECT * FROM (SELECT t.id FROM t WHERE 1) ORDER BY "), _slot(4, 2)], 1, ("a",)
    )
    assert order is not None and order.text == "COALESCE(a, NULL)"
    # No FROM before the slot in its SELECT: nothing is spelled.
    assert (
        member_text([_text("SELECT x FROM t WHERE a IN (SELECT "), _slot(1, 1)], 1, ("a",)) is None
    )


def _app(tmp_path: Path, schema: str) -> Path:
    root = write_app(tmp_path / "app", APP)
    (root / "models.py").write_text(MODELS, encoding="utf-8")
    (root / "queries.py").write_text(QUERIES, encoding="utf-8")
    with sqlite3.connect(root / "app.db") as conn:
        conn.executescript(schema)
    conn.close()
    return root


def _columns(root: Path) -> list[tuple[int, str]]:
    done = run_dbheal(root, "check", "--format", "json")
    issues = json.loads(done.stdout)
    return sorted((i["line"], i["message"]) for i in issues if i["type"] == "MISSING_COLUMN")


def test_a_declared_field_its_table_lacks_is_found_where_the_text_goes(tmp_path: Path) -> None:
    assert _columns(_app(tmp_path / "clean", SCHEMA)) == []
    # A query or a sort on tracks.length fails once the column is gone: reported where the
    # WHERE text (and so the ORDER BY's query) is interpolated, for the tracks' reading only.
    dropped = SCHEMA.replace(", length REAL", "")
    assert _columns(_app(tmp_path / "dropped", dropped)) == [(21, "no such column: tracks.length")]
    # A field renamed in albums: the albums' reading names it.
    renamed = SCHEMA.replace("artist TEXT", "album_artist TEXT")
    found = _columns(_app(tmp_path / "renamed", renamed))
    assert found and all(line == 21 and "albums.artist" in m for line, m in found), found


def test_without_a_membership_test_the_text_stays_unknown(tmp_path: Path) -> None:
    root = _app(tmp_path / "app", SCHEMA.replace(", length REAL", ""))
    (root / "models.py").write_text(
        MODELS.replace("fast = field in cls._fields", "fast = True"), encoding="utf-8"
    )
    (root / "queries.py").write_text(
        QUERIES.replace("if field in model_cls._fields:", "if field:"), encoding="utf-8"
    )
    assert _columns(root) == []
