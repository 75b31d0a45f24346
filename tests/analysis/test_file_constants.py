"""Tests of what one file gives its names, attributes and parameters (analysis/file_constants.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.analysis.file_constants import file_constants
from dbheal_lsp.analysis.project_constants import project_constants
from tests.analysis.test_project_constants import TABLES


def test_functions_that_return_numbers_are_known_across_files() -> None:
    constants = project_constants([file_constants(ast.parse(TABLES))])
    assert {"to_int", "count"} <= constants.number_functions
    assert "label" not in constants.number_functions
