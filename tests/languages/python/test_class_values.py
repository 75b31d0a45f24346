"""Tests of the names a class declares in collections (languages/python/class_values.py)."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.languages.python.class_values import class_collections
from dbheal_lsp.languages.python.constants import KEYS, SELF_TAG
from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.project_constants import project_constants

MODELS = textwrap.dedent(
    """
    class Model:
        _fields: dict = {}

        @cached_classproperty
        def _fields(cls):
            \"\"\"The model's fields.\"\"\"
            return {f: TYPES[f] for f in sorted(cls._field_names)}

        @staticmethod
        def helper(x):
            return {f: 1 for f in x._field_names}


    class Album(Model):
        _table = "albums"
        _field_names = {"id", "album", "artpath"}


    class Item(Model):
        _table = "items"
        _field_names = (Album._field_names - {"artpath"}) | {"title", "length"}
        _types = {"length": float, "title": str}
        _computed = {"a", compute()}
    """
)


def test_sets_dict_keys_and_set_arithmetic_give_their_names() -> None:
    found = class_collections(ast.parse(MODELS))
    assert found[("Album", "_field_names")] == ("album", "artpath", "id")
    # Item's set is Album's less one name plus two: read from the class above.
    assert found[("Item", "_field_names")] == ("album", "id", "length", "title")
    assert found[("Item", "_types")] == (KEYS, "length", "title")
    assert ("Item", "_computed") not in found  # a name the code computes: not known


def test_a_class_property_gives_the_names_of_its_own_attribute() -> None:
    found = class_collections(ast.parse(MODELS))
    assert found[("Model", "_fields")] == (SELF_TAG, "_field_names")
    assert ("Model", "helper") not in found  # not a property


def test_each_class_reads_the_property_with_its_own_names() -> None:
    constants = project_constants([file_constants(ast.parse(MODELS))])
    assert constants.class_attribute_values("_fields", "Album") == {("album", "artpath", "id")}
    assert constants.class_attribute_values("_fields", "Item") == {
        ("album", "id", "length", "title")
    }
    # Not read as one class, `self._fields` is no one set of names.
    assert constants.attribute_values("_fields", "Model") is None
