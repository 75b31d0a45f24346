"""Tests of the calls that read the program's own database (languages/python/outside.py)."""

from __future__ import annotations

import ast

import pytest

from dbheal_lsp.languages.python.outside import reads_database


@pytest.mark.parametrize(
    ("source", "reads"),
    [
        ('conn.get("SELECT id FROM users")', True),
        ('db.query(" ".join(["select id", "FROM users"]))', True),
        ('db.query("SELECT id FROM users WHERE id = %s" % n)', True),
        ('db.query(f"WITH x AS (SELECT 1) SELECT * FROM x")', True),
        ('db.query("PRAGMA table_info({})".format(t))', True),
        ('db.query("SELECT id FROM users").run(limit=n).value()', True),
        ('db.execute("DELETE FROM users")', False),
        ('db.execute("INSERT INTO users VALUES (1)")', False),
        ("db.query(sql)", False),
        ('request.args.get("q")', False),
        ('open("users.txt").read()', False),
    ],
)
def test_reads_database(source: str, reads: bool) -> None:
    call = ast.parse(source, mode="eval").body
    assert isinstance(call, ast.Call)
    assert reads_database(call) is reads
