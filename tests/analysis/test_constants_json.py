"""Tests of keeping a file's constants in the cache as JSON (analysis/constants_json.py)."""

from __future__ import annotations

import ast
import json

from dbheal_lsp.analysis.constants_json import constants_from_json, constants_to_json
from dbheal_lsp.analysis.file_constants import file_constants
from tests.analysis.test_project_constants import STORE, TABLES


def test_cached_constants_read_back_as_they_were_learned() -> None:
    found = file_constants(ast.parse(STORE + TABLES))
    assert constants_from_json(json.loads(json.dumps(constants_to_json(found)))) == found
