"""Tests of which parameters and attributes hold only the program's own data (analysis/program_data.py)."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.analysis.constants import CallArguments, Signature
from dbheal_lsp.analysis.file_constants import file_constants
from dbheal_lsp.analysis.program_data import dependency_holds_program_data, program_data

SOURCE = """
import sys


def store(conn, table):
    conn.execute("SELECT * FROM " + table)


def search(conn, word):
    conn.execute("SELECT * FROM t WHERE a = '" + word + "'")


def relay(conn, table):
    store(conn, table)


def main(conn):
    relay(conn, "users")
    store(conn, "orders")
    search(conn, sys.argv[1])


@app.route("/")
def page(conn, table):
    conn.execute("SELECT * FROM " + table)


class Config:
    def __init__(self):
        self.table = "settings"
        self.path = input()
"""


def learned() -> tuple[frozenset[tuple[str, str]], frozenset[str], frozenset[str]]:
    found = file_constants(ast.parse(textwrap.dedent(SOURCE)))
    signatures: dict[str, list[Signature]] = {}
    for sig in found.signatures:
        signatures.setdefault(sig.name, []).append(sig)

    def reaching(sig: Signature) -> list[CallArguments]:
        return [c for c in found.calls if c.name == sig.name and sig.fits(c)]

    return program_data(signatures, reaching, [found], frozenset(), frozenset())


def test_a_parameter_every_caller_fills_with_program_data() -> None:
    parameters, _, _ = learned()
    # Passed on through relay() from a literal, and given a literal directly.
    assert ("store", "table") in parameters
    assert ("relay", "table") in parameters


def test_outside_text_and_entry_points_are_not_program_data() -> None:
    parameters, _, _ = learned()
    assert ("search", "word") not in parameters  # sys.argv
    assert ("page", "table") not in parameters  # a route: anyone may call it
    assert ("main", "conn") not in parameters  # nothing calls main


def test_attributes_assigned_only_program_data() -> None:
    _, attributes, assigned = learned()
    assert {"table", "path"} <= assigned
    assert "table" in attributes
    assert "path" not in attributes  # input()


def test_dependency_holds_program_data() -> None:
    parameters = frozenset({("store", "table")})
    attributes = frozenset({"table"})
    assigned = frozenset({"table", "path"})
    fields = frozenset({("Index", "name")})

    def holds(dep: str) -> bool:
        return dependency_holds_program_data(dep, parameters, attributes, assigned, fields)

    assert holds("store.table")
    assert not holds("search.word")
    assert holds("@table:!") and not holds("@path:")
    # An attribute the project never assigns: its fallback decides.
    assert holds("@other:") and not holds("@other:!")
    assert holds("@other:store.table") and not holds("@other:store.table,search.word")
    # A record's field is what its constructor's callers pass.
    assert not holds("@Index.name:")
    assert dependency_holds_program_data(
        "@Index.name:", parameters | {("Index", "name")}, attributes, assigned, fields
    )
