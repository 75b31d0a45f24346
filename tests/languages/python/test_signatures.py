"""Tests of the signatures of functions, constructors and records (languages/python/signatures.py)."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.languages.python.constants import PARAMETER_TAG, Signature, dict_keys
from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.origins import OriginReader
from dbheal_lsp.languages.python.project_constants import project_constants
from dbheal_lsp.languages.python.signatures import (
    call_arguments,
    first_base_name,
    keys_of_display,
    last_base_name,
    record_signature,
    signature_of,
)


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


def parsed(source: str) -> ast.stmt:
    return ast.parse(textwrap.dedent(source)).body[0]


def test_signature_of_a_method_leaves_out_its_receiver() -> None:
    node = parsed(
        """
        @name.setter
        def name(self, value, limit=LIMIT, *rest, sort="id", **options):
            pass
        """
    )
    assert isinstance(node, ast.FunctionDef)
    sig = signature_of(node, True, {"LIMIT": 10}, "Store")
    assert sig == Signature(
        "name",
        ("value", "limit", "sort"),
        (("limit", 10), ("sort", "id")),
        decorated=True,
        method=True,
        variadic=True,
        setter="name",
        owner="Store",
    )
    static = parsed("@staticmethod\ndef make(table):\n    pass\n")
    assert isinstance(static, ast.FunctionDef)
    assert signature_of(static, True, {}, "Store").parameters == ("table",)
    assert signature_of(static, False, {}, "Store").owner == ""


def test_record_signature_of_named_tuples_and_dataclasses() -> None:
    index = parsed(
        """
        class Index(NamedTuple):
            name: str
            columns: tuple = ("id",)
            prefix: str = DEFAULT
            kind: ClassVar[str] = "index"
        """
    )
    assert isinstance(index, ast.ClassDef)
    assert record_signature(index, {"DEFAULT": "idx"}) == Signature(
        "Index", ("name", "columns", "prefix"), (("columns", ("id",)), ("prefix", "idx"))
    )
    data = parsed("@dataclass(frozen=True)\nclass Filter:\n    column: str\n")
    assert isinstance(data, ast.ClassDef)
    assert record_signature(data, {}) == Signature("Filter", ("column",), ())
    written = parsed(
        "@dataclass\nclass Own:\n    a: int\n    def __init__(self, b):\n        pass\n"
    )
    plain = parsed("class Plain:\n    a: int\n")
    assert isinstance(written, ast.ClassDef) and isinstance(plain, ast.ClassDef)
    assert record_signature(written, {}) is None
    assert record_signature(plain, {}) is None


def test_base_names_and_dict_keys() -> None:
    cls = parsed("class Album(dbcore.Model[Library], Mixin):\n    pass\n")
    assert isinstance(cls, ast.ClassDef)
    assert first_base_name(cls) == "Model"
    assert last_base_name(cls.bases[1]) == "Mixin"
    bare = parsed("class Bare:\n    pass\n")
    assert isinstance(bare, ast.ClassDef) and first_base_name(bare) is None
    keys = keys_of_display(ast.parse('{"url": u, "title": t}', mode="eval").body)
    assert dict_keys(keys) == ("url", "title")
    assert keys_of_display(ast.parse("{k: u}", mode="eval").body) is None


def test_call_arguments_passes_literals_and_what_callers_pass() -> None:
    tree = ast.parse(
        textwrap.dedent(
            """
            def table(self, name, rows):
                SqlTable(self, name, TABLE, key="id", *rows)
            """
        )
    )
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    call = next(n for n in ast.walk(function) if isinstance(n, ast.Call))
    found = call_arguments(call, {"TABLE": "users"}, function, {}, OriginReader(module=tree))
    assert found is not None
    assert found.name == "SqlTable"
    assert found.positional[1:] == ((PARAMETER_TAG, "table.name"), "users")
    assert found.keywords == (("key", "id"),)
    assert found.open  # *rows hides some arguments
