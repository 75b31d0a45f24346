"""What a function binds and the checks around it (languages/python/bindings.py)."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.languages.python.bindings import (
    added_arguments,
    child_nodes,
    function_bindings,
    guards_around,
    lookups_in,
)


def _function(source: str) -> ast.FunctionDef:
    node = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(node, ast.FunctionDef)
    return node


def _texts(values: list[tuple[ast.expr | None, object]]) -> list[str | None]:
    return sorted((ast.unparse(v) if v is not None else None for v, _, _how in values), key=str)


def test_every_value_a_name_is_given() -> None:
    function = _function(
        """
        def f(rows, extra):
            parts = []
            parts.append("a = 1")
            parts.insert(0, extra)
            cache = {}
            cache[extra] = rows
            for row in rows:
                pass
            names = [n for n in rows]
            with open("x") as fh:
                pass
            a, (b, *c) = rows
            if (found := len(rows)):
                pass

            def inner():
                hidden = 1
        """
    )
    found = function_bindings(function)
    assert _texts(found["parts"]) == ["'a = 1'", "[]", "extra"]  # insert adds its 2nd argument
    # cache[key] = value: the cache holds the key and the value
    assert _texts(found["cache"]) == ["(extra, rows)", "{}"]
    assert _texts(found["row"]) == ["rows"]
    assert _texts(found["n"]) == ["rows"]  # a comprehension's variable: its iterable's items
    assert _texts(found["fh"]) == ["open('x')"]
    assert _texts(found["a"]) == _texts(found["b"]) == _texts(found["c"]) == ["rows"]
    assert _texts(found["found"]) == ["len(rows)"]
    assert _texts(found["inner"]) == [None]
    assert "hidden" not in found  # an inner function binds its own names
    assert "extra" not in found  # a parameter is not rebound here


def test_membership_checks_around_a_binding_and_a_line() -> None:
    function = _function(
        """
        def f(k, x):
            if k in SET and x:
                y = k
            else:
                z = k
            w = k
        """
    )
    found = function_bindings(function)
    _value, guards, _how = found["y"][0]
    assert [name for name, _ in guards] == ["k"]
    assert found["z"][0][1] == ()  # the else branch is not checked
    assert found["w"][0][1] == ()
    assert [name for name, _ in guards_around(function, 4)] == ["k"]
    assert guards_around(function, 7) == ()


def test_lookups_at_the_top_of_the_body() -> None:
    function = _function(
        """
        def f(field, other):
            m = self.metadata[field]
            if other:
                n = TABLES[other]
            k = keys[keys]
        """
    )
    assert {name: ast.unparse(c) for name, c in lookups_in(function).items()} == {
        "field": "self.metadata"
    }


def test_what_adding_methods_add() -> None:
    def added(text: str) -> list[str]:
        call = ast.parse(text, mode="eval").body
        assert isinstance(call, ast.Call)
        return [ast.unparse(a) for a in added_arguments(call)]

    assert added("parts.append(x)") == ["x"]
    assert added("parts.insert(0, x)") == ["x"]
    assert added("d.update(a, b=c)") == ["a", "c"]
    assert added("d.setdefault(k, v)") == ["v"]
    assert added("s.strip(x)") == []


def test_child_nodes_are_the_children_without_contexts_and_operators() -> None:
    tree = ast.parse("x = a.b + c[1] if not d and e < f else -g")
    every = [n for n in ast.walk(tree)]
    walked: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        walked.append(node)
        stack.extend(child_nodes(node))
    leaves = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
    assert {id(n) for n in walked} == {id(n) for n in every if not isinstance(n, leaves)}
    call = ast.parse("f(a, *b, k=c)").body[0]
    assert isinstance(call, ast.Expr)
    assert [ast.dump(n) for n in child_nodes(call.value)] == [
        ast.dump(n) for n in ast.iter_child_nodes(call.value)
    ]


def test_inner_statements_are_a_blocks_or_a_definitions_body() -> None:
    from dbheal_lsp.languages.python.bindings import inner_statements

    tree = ast.parse(
        "try:\n    a = 1\nexcept E:\n    b = 2\nfinally:\n    c = 3\n"
        "class K:\n    x = 1\n    def f(self):\n        return 1\n"
    )
    block, cls = tree.body
    assert sorted(ast.unparse(s) for s in inner_statements(block)) == ["a = 1", "b = 2", "c = 3"]
    assert [type(s).__name__ for s in inner_statements(cls)] == ["Assign", "FunctionDef"]
