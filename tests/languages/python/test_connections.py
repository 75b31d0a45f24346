"""Tests of which database a connection opens (languages/python/connections.py)."""

from __future__ import annotations

import ast
from dataclasses import replace

from dbheal_lsp.analysis.statement import RUN_TIME
from dbheal_lsp.languages.python.connections import (
    database_of_call,
    one_run_time_database_is_the_main_one,
    run_time_database,
)
from dbheal_lsp.languages.python.extract import Extractor
from tests.languages.python.test_filecontext import calls_in, function_scope, read_file

SOURCE = """
import sqlite3
from contextlib import closing

CACHE = "cache.db"

def open_logs():
    return sqlite3.connect("logs.db")

def f(conn, path):
    cache = sqlite3.connect(CACHE)
    cache.execute("SELECT 1")
    with closing(sqlite3.connect(database="files.db")) as files:
        files.cursor().execute("SELECT 2")
    open_logs().execute("SELECT 3")
    sqlite3.connect(path).execute("SELECT 4")
    conn.execute("SELECT 5")
"""


def test_the_database_each_receiver_opens() -> None:
    ctx = read_file(SOURCE)
    scope = function_scope(ctx, "f")
    executes = [
        c for c in calls_in(scope) if isinstance(c.func, ast.Attribute) and c.func.attr == "execute"
    ]
    found = [database_of_call(c, scope, ctx) for c in executes]
    assert found[:3] == ["cache.db", "files.db", "logs.db"]
    # A path the code does not spell: a database of its own, named by the line it is opened on.
    assert found[3] == f"{RUN_TIME}line 16"
    # A connection the code does not open: the main database.
    assert found[4] is None


def test_run_time_database_is_named_by_its_line() -> None:
    connect = ast.parse("\n\nsqlite3.connect(path)", mode="eval").body
    assert isinstance(connect, ast.Call)
    assert run_time_database(connect) == "<opened at run time> line 3"


def test_one_run_time_database_in_a_function_is_the_main_one() -> None:
    source = (
        "import sqlite3\n"
        "def once(path):\n"
        "    sqlite3.connect(path).execute('SELECT 1')\n"
        "def convert(old_path, new_path):\n"
        "    old = sqlite3.connect(old_path)\n"
        "    new = sqlite3.connect(new_path)\n"
        "    old.execute('SELECT a FROM old_t')\n"
        "    new.execute('SELECT a FROM new_t')\n"
    )
    statements = Extractor().extract(source, ast.parse(source))
    assert [s.database for s in statements] == [
        None,
        f"{RUN_TIME}line 5",
        f"{RUN_TIME}line 6",
    ]
    # Read on their own, each function's run-time databases are as the extractor left them.
    opened = [
        replace(s, database=f"{RUN_TIME}line 3") if s.function == "once" else s for s in statements
    ]
    assert [s.database for s in one_run_time_database_is_the_main_one(opened)] == [
        None,
        f"{RUN_TIME}line 5",
        f"{RUN_TIME}line 6",
    ]
