"""Tests of the signatures of functions, constructors and records (analysis/signatures.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.analysis.file_constants import file_constants
from dbheal_lsp.analysis.project_constants import project_constants


def test_a_records_fields_are_what_its_constructor_is_given() -> None:
    constants = project_constants(
        [
            file_constants(
                ast.parse(
                    "class Index(NamedTuple):\n    name: str\n    columns: tuple = ()\n"
                    "    kind: ClassVar[str] = 'index'\n"
                    "@dataclass(frozen=True)\nclass Filter:\n    column: str\n"
                    "class Plain:\n    column: str\n"
                    "INDICES = (Index('idx_a', ('a',)), Index(name='idx_b'))\n"
                    "f = Filter(input())\n"
                )
            )
        ]
    )
    assert constants.record_fields == {
        ("Index", "name"),
        ("Index", "columns"),
        ("Filter", "column"),
    }
    assert constants.parameter_values("Index", "name") == {"idx_a", "idx_b"}
    assert constants.holds_program_data(frozenset({"@Index.name:"}))
    assert not constants.holds_program_data(frozenset({"@Filter.column:"}))  # input()
    # Not a record's field: read by the attribute's name, as before.
    assert constants.holds_program_data(frozenset({"@Plain.column:"})) == (
        constants.holds_program_data(frozenset({"@column:"}))
    )
