"""Tests of reading the text a method of the same class returns (languages/python/own_methods.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.analysis.statement import TextPiece
from dbheal_lsp.languages.python.filecontext import FileContext
from dbheal_lsp.languages.python.own_methods import own_method, returned_variants
from dbheal_lsp.languages.python.pieces import read_pieces
from tests.languages.python.test_filecontext import class_named, read_file

SOURCE = """
class Posts:
    def _since(self, newest):
        if not newest:
            return ""
        return "AND created >= ?"

    def _maybe(self):
        if self.flag:
            return "AND deleted = 0"

    def _twice(self):
        return ""

    def _twice(self):
        return "x"

    def query(self, other):
        self._since(1)
        other._since(1)
        self._maybe()
        self._twice()
"""


def _calls(ctx_source: str) -> tuple[FileContext, dict[str, ast.Call]]:
    ctx = read_file(ctx_source)
    ctx.class_node = class_named(ctx, "Posts")
    calls = {ast.unparse(n): n for n in ast.walk(ctx.module.node) if isinstance(n, ast.Call)}
    return ctx, calls


def test_a_method_of_the_class_on_self_is_found_once_defined_once() -> None:
    ctx, calls = _calls(SOURCE)
    found = own_method(calls["self._since(1)"], ctx)
    assert found is not None and found.name == "_since"
    assert own_method(calls["other._since(1)"], ctx) is None
    assert own_method(calls["self._twice()"], ctx) is None


def test_every_text_the_method_returns_is_a_variant() -> None:
    ctx, calls = _calls(SOURCE)
    method = own_method(calls["self._since(1)"], ctx)
    assert method is not None
    variants = returned_variants(
        method,
        ctx,
        lambda v, s: read_pieces(v, s, ctx, (v.lineno, v.col_offset), 0),
    )
    assert variants is not None
    texts = ["".join(p.text for p in v if isinstance(p, TextPiece)) for v in variants]
    assert sorted(texts) == ["", "AND created >= ?"]


def test_a_method_that_may_fall_off_its_end_gives_no_text() -> None:
    ctx, calls = _calls(SOURCE)
    method = own_method(calls["self._maybe()"], ctx)
    assert method is not None
    assert returned_variants(method, ctx, lambda v, s: [[]]) is None
