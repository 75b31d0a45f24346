"""Tests of keeping a file's constants in the cache as JSON (languages/python/constants_json.py)."""

from __future__ import annotations

import ast
import json

from dbheal_lsp.languages.python.constants_json import constants_from_json, constants_to_json
from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.origins import PROGRAM
from tests.languages.python.test_project_constants import STORE, TABLES


def test_cached_constants_read_back_as_they_were_learned() -> None:
    found = file_constants(ast.parse(STORE + TABLES))
    assert constants_from_json(json.loads(json.dumps(constants_to_json(found)))) == found


def test_origins_survive_the_cache() -> None:
    found = file_constants(
        ast.parse("T = {}\ndef f(a):\n    g(a, T, input(), U)\n    self.x = a\n    self.y[a] = 1\n")
    )
    assert constants_from_json(json.loads(json.dumps(constants_to_json(found)))) == found
    call = next(c for c in found.calls if c.name == "g")
    # U is bound nowhere in the module (an `import *`, a typo): not known.
    assert call.origins == (frozenset({"f.a"}), PROGRAM, None, None)
    assert ("x", frozenset({"f.a"})) in found.attribute_origins
    assert ("y", PROGRAM) in found.attribute_origins
