"""The SQL of a template literal as a fix reads it: blanked `${...}`, quotes, placeholders,
and the driver's placeholder style."""

from __future__ import annotations

from dbheal_lsp.languages.javascript.parse import Parsers
from dbheal_lsp.languages.javascript.template_sql import (
    TemplateSql,
    enclosing_quote,
    numbered_style,
)


def _template(text: str) -> TemplateSql:
    source = Parsers().tree("a.js", text)
    node = source.tree.root_node
    stack = [node]
    while stack:
        node = stack.pop()
        if node.type == "template_string":
            return TemplateSql(source, node)
        stack.extend(node.children)
    raise AssertionError("no template")


def test_code_inside_a_substitution_is_not_read_as_sql() -> None:
    sql = _template("q(`SELECT 'é' = ? AND b = ${f('?', \"x\")} AND c = $2`);")

    assert sql.interior.startswith("SELECT 'é'")
    assert "f(" not in sql.scan and sql.question_marks() == 1
    assert sql.highest_number() == 2
    ((start, end),) = sql.slots.values()
    assert sql.interior[start:end] == "${f('?', \"x\")}"
    assert sql.byte(sql.char(sql.base + 12)) == sql.base + 12


def test_the_quoted_string_a_slot_is_in() -> None:
    text = "SELECT 'it''s' , 'a%0000%' -- 'x\nFROM t WHERE \"col 0\" = 1"

    assert enclosing_quote(text, text.index("0000")) == ("'", 17, 25)
    assert enclosing_quote(text, text.index("FROM")) is None
    name = text.index('"col')
    assert enclosing_quote(text, text.index("col")) == ('"', name, name + 6)


def test_the_style_follows_the_sql_then_the_file_s_driver() -> None:
    pg = Parsers().tree("a.js", "const { Pool } = require('pg');\n")
    plain = Parsers().tree("a.js", "const sqlite3 = require('sqlite3');\n")

    assert numbered_style(plain, "a = $1") is True
    assert numbered_style(pg, "a = ?") is False
    assert numbered_style(pg, "a = 1") is True
    assert numbered_style(plain, "a = 1") is False
    assert numbered_style(plain, "a = :name") is None
    assert numbered_style(pg, "a::text = 1") is True
