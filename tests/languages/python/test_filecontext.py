"""Tests of what reading one file's statements shares (languages/python/filecontext.py).

`read_file` builds the context the extract-side modules read with; their tests use it to call
those modules' functions directly.
"""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.analysis.positions import source_lines
from dbheal_lsp.languages.python.filecontext import ExtractOptions, FileContext, Scope, owning_class


def read_file(source: str, options: ExtractOptions | None = None) -> FileContext:
    """Return the context of reading `source` (dedented), every line a candidate."""
    source = textwrap.dedent(source)
    tree = ast.parse(source)
    lines = source_lines(source)
    ctx = FileContext(
        lines, options or ExtractOptions(), frozenset(range(1, len(lines) + 1)), Scope(tree, "")
    )
    ctx.origins.module = tree
    return ctx


def function_scope(ctx: FileContext, name: str) -> Scope:
    """Return the scope of the function `name` of the context's module."""
    node = next(
        n
        for n in ast.walk(ctx.module.node)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
    )
    return Scope(node, name)


def class_named(ctx: FileContext, name: str) -> ast.ClassDef:
    """Return the class `name` of the context's module."""
    return next(
        n for n in ast.walk(ctx.module.node) if isinstance(n, ast.ClassDef) and n.name == name
    )


def calls_in(scope: Scope) -> list[ast.Call]:
    """Return the calls written in `scope`, in source order."""
    found = [n for n in ast.walk(scope.node) if isinstance(n, ast.Call)]
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def test_owning_class_is_the_class_being_read_for_self_and_cls() -> None:
    ctx = read_file(
        """
        class Store:
            def save(self):
                self.table
                cls.table
                other.table
        """
    )
    cls = class_named(ctx, "Store")
    self_read, cls_read, other_read = (
        n for n in ast.walk(cls) if isinstance(n, ast.Attribute) and n.attr == "table"
    )
    assert owning_class(self_read, ctx) is None  # no class is being read yet
    ctx.class_node = cls
    assert owning_class(self_read, ctx) == "Store"
    assert owning_class(cls_read, ctx) == "Store"
    assert owning_class(other_read, ctx) is None


def test_the_shapes_of_extract_options_are_calls_too() -> None:
    options = ExtractOptions()
    assert {"execute", "executemany", "executescript"} <= options.calls
    assert options.identifier_helpers == frozenset() and options.shapes == ()
