"""What the code says about one JavaScript value: numbers, text, constants, helpers."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.statement import ValueInfo
from dbheal_lsp.languages.javascript.parse import Parsers
from dbheal_lsp.languages.javascript.values import Helpers, callee_name, value_info
from tests.languages.javascript.test_strings import first


def _info(expression: str, before: str = "", helpers: Helpers | None = None) -> ValueInfo:
    source = Parsers().parse("a.ts", f"{before}use({expression});\n")
    calls = [source.tree.root_node]
    node = None
    while calls:
        current = calls.pop()
        if current.type == "call_expression" and source.text_of(current).startswith("use("):
            node = current
        calls.extend(current.children)
    assert node is not None
    argument = node.child_by_field_name("arguments").named_children[0]
    return value_info(argument, source, helpers or Helpers())


@pytest.mark.parametrize(
    ("expression", "code_type", "helper"),
    [
        ("parseInt(id)", "INTEGER", "parseInt"),
        ("Number.parseInt(id, 10)", "INTEGER", "Number.parseInt"),
        ("parseFloat(x)", "REAL", "parseFloat"),
        ("Number(x)", "NUMERIC", "Number"),
        ("BigInt(x)", "INTEGER", "BigInt"),
        ("Math.floor(x / 2)", "INTEGER", "Math.floor"),
        ("+x", "NUMERIC", None),
        ("x * 2", "NUMERIC", None),
        ("xs.length", "INTEGER", None),
    ],
)
def test_numbers_cannot_carry_sql(expression: str, code_type: str, helper: str | None) -> None:
    info = _info(expression)
    assert (info.numeric_cast, info.code_type, info.helper) == (True, code_type, helper)


def test_the_cast_names_its_helper_span() -> None:
    info = _info("Number.parseInt(id)")
    assert info.helper_span is not None
    assert (info.helper_span.column, info.helper_span.end_column) == (5, 20)


@pytest.mark.parametrize(
    ("expression", "code_type"),
    [
        ("12", "INTEGER"),
        ("1.5", "REAL"),
        ("'a'", "TEXT"),
        ("`a`", "TEXT"),
        ("-3", "INTEGER"),
        ("null", None),
    ],
)
def test_literals_are_constants(expression: str, code_type: str | None) -> None:
    info = _info(expression)
    assert (info.constant, info.code_type) == (True, code_type)


def test_text_calls_say_text_and_are_no_number() -> None:
    for expression, helper in (("String(n)", "String"), ("n.toString()", "toString")):
        info = _info(expression)
        assert (info.code_type, info.helper, info.numeric_cast) == ("TEXT", helper, False)


def test_as_number_is_no_cast_at_run_time() -> None:
    info = _info("id as number")
    assert not info.numeric_cast and not info.constant and info.source == "id as number"


def test_names_carry_what_they_are_declared_with() -> None:
    assert _info("size", "const size = parseInt(p);\n").numeric_cast
    assert _info("LIMIT").constant
    assert not _info("name", "let name = req.query.name;\n").numeric_cast


def test_the_projects_helpers() -> None:
    helpers = Helpers(identifier=frozenset({"quoteIdent"}), safe=frozenset({"toPage"}))
    assert _info("quoteIdent(t)", helpers=helpers).safe_identifier
    assert _info("db.toPage(p)", helpers=helpers).numeric_cast


def test_callee_name_reads_dotted_names() -> None:
    source = Parsers().parse("a.js", "a.b(1); f(2); x.y.z(3);\n")
    call = first(source, "call_expression")
    assert callee_name(call.child_by_field_name("function"), source)[0] == "a.b"
