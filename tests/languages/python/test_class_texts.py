"""Tests of class properties that spell SQL from the class's attributes (languages/python/
class_texts.py): a join a model class gives in a property, read per class passed, checked by
the `dbheal` command against a real SQLite file."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

from dbheal_lsp.languages.python.class_texts import (
    CLASS_VALUE_TAG,
    SQL_TEXT_TAG,
    TEMPLATE_TAG,
    text_property,
)
from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.project_constants import project_constants
from tests.conftest import run_dbheal, write_app

MODELS = '''class classproperty:
    def __init__(self, getter):
        self.getter = getter

    def __get__(self, instance, owner):
        return self.getter(owner)


class Model:
    _table = ""

    @classproperty
    def _relation(cls):
        return cls

    @classproperty
    def relation_join(cls):
        return ""


class Album(Model):
    _table = "albums"

    @classproperty
    def _relation(cls):
        return Track

    @classproperty
    def relation_join(cls):
        """The related tracks."""
        return f"LEFT JOIN {cls._relation._table} ON {cls._table}.id = {cls._relation._table}.album_id"


class Track(Model):
    _table = "tracks"

    @classproperty
    def _relation(cls):
        return Album

    @classproperty
    def relation_join(cls):
        return (
            f"LEFT JOIN {cls._relation._table} "
            f"ON {cls._table}.album_id = {cls._relation._table}.id"
        )
'''

APP = """import sqlite3

from models import Album, Track


class Library:
    def __init__(self, path):
        self.db = sqlite3.connect(path)

    def albums(self, joined):
        return self._get(Album, joined)

    def tracks(self, joined):
        return self._get(Track, joined)

    def _get(self, model_cls, joined):
        table = model_cls._table
        source = table
        if joined:
            source += f" {model_cls.relation_join}"
        sql = f"SELECT {table}.id FROM ({source}) GROUP BY {table}.id"
        return self.db.execute(sql).fetchall()
"""

SCHEMA = """
CREATE TABLE albums (id INTEGER PRIMARY KEY, title TEXT);
CREATE TABLE tracks (id INTEGER PRIMARY KEY, album_id INTEGER, title TEXT);
"""


def _method(source: str, name: str, owner: str = "") -> ast.FunctionDef:
    tree = ast.parse(source)
    classes = [c for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and c.name == owner]
    return next(
        n
        for n in ast.walk(classes[0] if classes else tree)
        if isinstance(n, ast.FunctionDef) and n.name == name
    )


def test_a_property_gives_a_template_or_a_class() -> None:
    assert text_property(_method(MODELS, "relation_join", "Model")) is None  # no attribute
    template = text_property(_method(MODELS, "relation_join", "Album"))
    assert template is not None and isinstance(template, tuple)
    assert template[0] == TEMPLATE_TAG
    assert "._relation._table" in template and "= ON " in template
    assert text_property(_method(MODELS, "_relation", "Model")) is None  # `return cls`
    found = text_property(
        _method("class A:\n    @property\n    def r(self):\n        return B\n", "r")
    )
    assert found == (CLASS_VALUE_TAG, "B")
    # A plain method (no property decorator) gives nothing.
    assert (
        text_property(_method("class A:\n    def r(self):\n        return f'{self.t}'\n", "r"))
        is None
    )


def test_the_template_is_spelled_with_each_class_and_the_class_its_relation_gives() -> None:
    constants = project_constants([file_constants(ast.parse(MODELS))])
    assert constants.class_attribute_values("relation_join", "Album") == {
        (SQL_TEXT_TAG, "LEFT JOIN tracks ON albums.id = tracks.album_id")
    }
    assert constants.class_attribute_values("relation_join", "Track") == {
        (SQL_TEXT_TAG, "LEFT JOIN albums ON tracks.album_id = albums.id")
    }


def _app(tmp_path: Path, schema: str) -> Path:
    root = write_app(tmp_path / "app", APP)
    (root / "models.py").write_text(MODELS, encoding="utf-8")
    with sqlite3.connect(root / "app.db") as conn:
        conn.executescript(schema)
    conn.close()
    return root


def test_a_query_joined_through_the_property_is_checked_with_the_join(tmp_path: Path) -> None:
    indexed = _app(tmp_path / "indexed", SCHEMA + "CREATE INDEX idx_album ON tracks (album_id);")
    done = run_dbheal(indexed, "check")
    assert "No issues found" in done.stdout, done.stdout + done.stderr
    # Without the index, albums joined with their tracks read every track for each album.
    bare = _app(tmp_path / "bare", SCHEMA)
    done = run_dbheal(bare, "check")
    found = [line for line in done.stdout.splitlines() if "MISSING_INDEX" in line]
    assert len(found) == 1 and found[0].startswith("app.py:20:"), done.stdout
    assert "tracks" in found[0] and "album_id" in found[0]
