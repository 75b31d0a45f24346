"""Tests of which values are certainly numbers, and which parameters every caller fills with one
(languages/python/number_values.py)."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.number_values import NumberReader
from dbheal_lsp.languages.python.project_constants import project_constants


def _types(source: str) -> dict[str, str | None]:
    """Return the number type of each `name = ...` value read at the end of function `f`."""
    tree = ast.parse(textwrap.dedent(source))
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    reader = NumberReader()
    last = function.body[-1]
    assert isinstance(last, ast.Return) and isinstance(last.value, ast.Tuple)
    return {ast.unparse(e): reader.number_type(e, function) for e in last.value.elts}


def test_casts_literals_and_arithmetic_are_numbers() -> None:
    types = _types(
        """
        def f(raw, text):
            start = int(raw)
            end = start - 24 * 60 * 60
            share = start / 2
            label = "day " + text
            return (start, end, share, label, len(text), 3, float(raw))
        """
    )
    assert types == {
        "start": "INTEGER",
        "end": "INTEGER",
        "share": "REAL",
        "label": None,
        "len(text)": "INTEGER",
        "3": "INTEGER",
        "float(raw)": "REAL",
    }


def test_a_parameter_is_a_number_only_once_rebound_to_one_before_the_use() -> None:
    types = _types(
        """
        def f(start, maybe, looped):
            start = int(start)
            if maybe:
                maybe = int(maybe)
            for looped in range(3):
                pass
            return (start, maybe, looped)
        """
    )
    assert types == {"start": "INTEGER", "maybe": None, "looped": None}


SOURCE = """
class History:
    def entries_before(self, latest, limit, label):
        pass


def page(history, start_time, name):
    start_time = int(start_time)
    history.entries_before(start_time, limit=1000, label=name)


def other(history):
    history.entries_before(3, 10, "x")
"""


def test_a_parameter_every_caller_fills_with_a_number_is_one() -> None:
    merged = project_constants([file_constants(ast.parse(SOURCE))])
    assert merged.number_parameter("entries_before", "latest") == "INTEGER"
    assert merged.number_parameter("entries_before", "limit") == "INTEGER"
    assert merged.number_parameter("entries_before", "label") is None
    # page() itself: nothing in the project calls it, so anyone may pass anything.
    assert merged.number_parameter("page", "start_time") is None


def test_one_caller_passing_text_makes_it_unknown() -> None:
    source = SOURCE + '\n\ndef third(history):\n    history.entries_before("soon", 1, "y")\n'
    merged = project_constants([file_constants(ast.parse(source))])
    assert merged.number_parameter("entries_before", "latest") is None
    assert merged.number_parameter("entries_before", "limit") == "INTEGER"


def test_a_name_also_bound_another_way_is_not_read_and_nested_functions_are_their_own() -> None:
    types = _types(
        """
        def f(path):
            handle = 0
            with open(path) as handle:
                pass
            count = len(path)

            def inner():
                count = "text"
                return count

            return (handle, count)
        """
    )
    assert types == {"handle": None, "count": "INTEGER"}
