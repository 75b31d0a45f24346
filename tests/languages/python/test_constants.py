"""Names the project only ever gives literal text (languages/python/constants.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.languages.python.constants import dict_keys
from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.project_constants import project_constants

DICTS = """
def store(table, a, b, key):
    table.insert({"url": a, "title": b})
    row = {"key": a}
    table.insert(row)
    grown = {"url": a}
    grown[key] = b
    table.insert_batch(grown)


class Table:
    def insert(self, values):
        pass

    def insert_batch(self, values):
        pass
"""


def test_a_dict_of_literal_keys_gives_its_keys_never_the_dict() -> None:
    constants = project_constants([file_constants(ast.parse(DICTS))])
    found = constants.parameter_values("insert", "values")
    assert found is not None
    assert {dict_keys(v) for v in found} == {("url", "title"), ("key",)}
    # A key set from a variable: what the dict holds is not known.
    assert constants.parameter_values("insert_batch", "values") is None
