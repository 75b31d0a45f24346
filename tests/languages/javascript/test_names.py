"""Following a name to the text it holds where it is used."""

from __future__ import annotations

from dbheal_lsp.languages.javascript.names import declared_parts, enclosing_function
from dbheal_lsp.languages.javascript.parse import JsSource, Parsers
from tests.languages.javascript.test_strings import first


def _use(text: str) -> tuple[JsSource, list[str] | None]:
    """The texts of the parts of the argument of the call `use(...)` in `text`."""
    source = Parsers().parse("a.js", text)
    call = next(
        n for n in _calls(source) if source.text_of(n.child_by_field_name("function")) == "use"
    )
    name = call.child_by_field_name("arguments").named_children[0]
    parts = declared_parts(name, source)
    return source, None if parts is None else [source.text_of(p) for p in parts]


def _calls(source: JsSource) -> list:  # type: ignore[type-arg]
    found, stack = [], [source.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            found.append(node)
        stack.extend(node.children)
    return found


def test_a_const_in_an_enclosing_block() -> None:
    _, parts = _use("const q = 'SELECT 1';\nfunction f() { if (x) { use(q); } }\n")
    assert parts == ["'SELECT 1'"]


def test_plus_equals_adds_and_a_new_assignment_replaces() -> None:
    _, parts = _use("let q = 'a';\nq += 'b';\nq += c;\nuse(q);\n")
    assert parts == ["'a'", "'b'", "c"]
    _, parts = _use("let q = 'a';\nq = 'b';\nq += 'c';\nuse(q);\n")
    assert parts == ["'b'", "'c'"]


def test_an_assignment_inside_a_branch_is_not_followed() -> None:
    assert _use("let q = 'a';\nif (x) { q += 'b'; }\nuse(q);\n")[1] is None
    assert _use("let q = 'a';\nfor (;;) { q += 'b'; }\nuse(q);\n")[1] is None
    assert _use("let q = 'a';\nq++;\nuse(q);\n")[1] is None


def test_a_parameter_or_an_unknown_name_is_not_followed() -> None:
    assert _use("function f(q) { use(q); }\n")[1] is None
    assert _use("use(q);\n")[1] is None


def test_a_parameter_hides_a_const_of_the_same_name_further_out() -> None:
    assert _use("const q = 'a';\nfunction f(q) { use(q); }\n")[1] is None
    assert _use("const q = 'a';\nconst f = ({ q }) => { use(q); };\n")[1] is None
    assert _use("const q = 'a';\nconst f = q => { use(q); };\n")[1] is None
    assert _use("const q = 'a';\nfunction f(p) { use(q); }\n")[1] == ["'a'"]


def test_the_latest_declaration_before_the_use() -> None:
    _, parts = _use("var q = 'a';\nvar q = 'b';\nuse(q);\nvar q = 'c';\n")
    assert parts == ["'b'"]


def test_enclosing_function_names() -> None:
    text = "class A { m() { const f = () => { use(1); }; } }\n"
    source = Parsers().parse("a.js", text)
    use = first(source, "call_expression")
    assert enclosing_function(use, source) == "A.m.f"
