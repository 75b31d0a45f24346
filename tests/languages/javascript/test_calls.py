"""Which calls send SQL, where their SQL and values are, and the three forms
tree-sitter-typescript 0.23 misreads."""

from __future__ import annotations

import pytest

from dbheal_lsp.languages.javascript.calls import DEFAULT_CALLS, SqlCall, sql_call, tag_call
from dbheal_lsp.languages.javascript.parse import JsSource, Parsers


def _calls(text: str, path: str = "a.ts") -> tuple[JsSource, list[SqlCall]]:
    source = Parsers().parse(path, text)
    found, stack = [], [source.tree.root_node]
    while stack:
        node = stack.pop()
        call = None
        if node.type == "call_expression":
            call = sql_call(node, source, DEFAULT_CALLS)
        elif node.type == "binary_expression":
            call = tag_call(node, source)
        if call is not None and call.sql.type in ("string", "template_string"):
            found.append(call)
        stack.extend(node.children)
    return source, sorted(found, key=lambda c: c.sql.start_byte)


def test_misread_1_await_of_a_generic_call() -> None:
    source, (call,) = _calls("const u = await db.query<User>(`SELECT id FROM users`, [id]);\n")
    assert call.name == "query" and source.text_of(call.sql) == "`SELECT id FROM users`"
    assert call.values is not None and [source.text_of(v) for v in call.values] == ["id"]


def test_misread_2_a_generic_tag_read_as_comparisons() -> None:
    source, (call,) = _calls("const r = sql<Row>`SELECT id FROM users WHERE id = ${id}`;\n")
    assert (call.name, call.tagged) == ("sql", True)
    assert source.text_of(call.sql).startswith("`SELECT")
    assert source.text_of(call.call).startswith("sql<Row>")
    # A real comparison is no tag.
    assert _calls("const b = a < b > `x`;\n")[1] == []


def test_misread_3_a_generic_prisma_tag_with_a_made_up_bang() -> None:
    text = "const u = await prisma.$queryRaw<User[]>`SELECT id FROM users`;\n"
    source, (call,) = _calls(text)
    assert (call.name, call.tagged, source.text_of(call.name_node)) == (
        "$queryRaw",
        True,
        "$queryRaw",
    )


@pytest.mark.parametrize(
    ("text", "name", "values"),
    [
        ("db.all('SELECT 1', [a, b], cb)", "all", ["a", "b"]),
        ("db.get('SELECT 1', a, 2, (e, r) => {})", "get", ["a", "2"]),
        ("db.run('SELECT 1')", "run", []),
        ("db.prepare('SELECT 1').get(a, b)", "prepare", ["a", "b"]),
        ("pool.query({ text: 'SELECT 1', values: [a] })", "query", ["a"]),
        ("c.execute({ sql: 'SELECT 1', values: [a, b] })", "execute", ["a", "b"]),
        ("sequelize.query('SELECT 1', { replacements: [a] })", "query", ["a"]),
        ("knex.raw('SELECT 1', [a])", "raw", ["a"]),
        ("prisma.$queryRawUnsafe('SELECT 1', a)", "$queryRawUnsafe", ["a"]),
    ],
)
def test_shapes_and_their_values(text: str, name: str, values: list[str]) -> None:
    source, (call,) = _calls(text + ";\n", "a.js")
    assert call.name == name and source.text_of(call.sql) == "'SELECT 1'"
    assert call.values is not None
    assert [source.text_of(v) for v in call.values] == values
    assert call.passes_values == bool(values)


@pytest.mark.parametrize(
    "text",
    [
        "db.all('SELECT 1', params)",  # the values in a name
        "db.prepare('SELECT 1')",  # run elsewhere
        "db.all('SELECT 1', {$id: 1})",  # named values
        "db.all('SELECT 1', [...xs])",
    ],
)
def test_values_not_written_out_are_not_known(text: str) -> None:
    _, (call,) = _calls(text + ";\n", "a.js")
    assert call.values is None


def test_regex_exec_and_unknown_names_are_no_calls() -> None:
    text = (
        "/a/.exec('SELECT 1'); const r = new RegExp('x'); r.exec('SELECT 1'); db.fetch('SELECT 1');"
    )
    assert _calls(text + "\n", "a.js")[1] == []


def test_a_tag_that_does_not_bind_is_no_call() -> None:
    assert _calls("const h = html`<p>SELECT</p>`;\n", "a.js")[1] == []
