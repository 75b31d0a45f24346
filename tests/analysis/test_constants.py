"""Names the project only ever gives literal text (analysis/constants.py)."""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

from dbheal_lsp.analysis.constants import dict_keys
from dbheal_lsp.analysis.constants_json import constants_from_json, constants_to_json
from dbheal_lsp.analysis.file_constants import file_constants
from dbheal_lsp.analysis.project_constants import classes_of_test_code, project_constants

STORE = """
TABLE_NAMES = ("podcast", "episode")


class Database:
    TABLE_PODCAST = "podcast"
    TABLE_EPISODE = "episode"

    def __init__(self, name):
        self.kind = name

    def save_podcast(self, p):
        self._save_object(p, self.TABLE_PODCAST, ("id", "title"))

    def save_episode(self, e):
        self._save_object(e, self.TABLE_EPISODE, ("id", "title", "url"))

    def _save_object(self, o, table, columns):
        pass

    def delete(self, table, key="id"):
        pass

    def open(self, path):
        pass


def use(db, user_table):
    db.delete("podcast")
    db.delete(user_table, key="guid")
    db.open(*paths)
"""

OTHER = """
class Item:
    _table = "items"


class Album:
    _table = "albums"


class Weird:
    TABLE_EPISODE = compute()
"""


def test_an_attribute_given_only_literals_holds_them() -> None:
    constants = project_constants([file_constants(ast.parse(STORE))])
    assert constants.attribute_values("TABLE_PODCAST") == frozenset({"podcast"})
    assert constants.attribute_values("kind") is None  # a parameter's value
    assert constants.attribute_values("never_assigned") is None


def test_an_attribute_given_something_else_anywhere_is_not_known() -> None:
    constants = project_constants(
        [file_constants(ast.parse(STORE)), file_constants(ast.parse(OTHER))]
    )
    assert constants.attribute_values("TABLE_EPISODE") is None
    assert constants.attribute_values("_table") == frozenset({"items", "albums"})


def test_a_parameter_every_caller_gives_literals_holds_them() -> None:
    constants = project_constants([file_constants(ast.parse(STORE))])
    assert constants.parameter_values("_save_object", "table") == frozenset({"podcast", "episode"})
    assert constants.parameter_values("_save_object", "columns") == frozenset(
        {("id", "title"), ("id", "title", "url")}
    )


def test_a_parameter_one_caller_gives_a_variable_is_not_known() -> None:
    constants = project_constants([file_constants(ast.parse(STORE))])
    assert constants.parameter_values("delete", "table") is None
    # The default counts where a call gives none; the keyword where one does.
    assert constants.parameter_values("delete", "key") == frozenset({"id", "guid"})


def test_a_parameter_hidden_by_star_args_or_never_called_is_not_known() -> None:
    constants = project_constants([file_constants(ast.parse(STORE))])
    assert constants.parameter_values("open", "path") is None
    assert constants.parameter_values("use", "user_table") is None


TABLES = """
class SqlTable:
    def __init__(self, database, name, fields):
        self._name = name
        self.fields = fields


class History(SqlTable):
    def __init__(self, database):
        super().__init__(database, "History", ["url", "title"])


class Meta(SqlTable):
    def __init__(self, database):
        super().__init__(database, name="Meta", fields=["key", "value"])


class Version:
    def to_int(self) -> int:
        return 3

    def count(self):
        return len(self.items)

    def label(self):
        return "v"
"""


def test_a_constructor_parameter_kept_in_self_holds_what_subclasses_pass() -> None:
    constants = project_constants([file_constants(ast.parse(TABLES))])
    assert constants.attribute_values("_name") == frozenset({"History", "Meta"})
    assert constants.names_from_code("_name") and constants.names_from_code("__name__")
    assert not constants.names_from_code("label")


def test_functions_that_return_numbers_are_known_across_files() -> None:
    constants = project_constants([file_constants(ast.parse(TABLES))])
    assert {"to_int", "count"} <= constants.number_functions
    assert "label" not in constants.number_functions


def test_a_parameter_passed_on_holds_what_the_outer_callers_pass() -> None:
    source = """
class SqlTable:
    def __init__(self, database, name):
        self._name = name


class Database:
    def table(self, name):
        return SqlTable(self, name)


def setup(db):
    db.table("Bookmarks")
    db.table("Quickmarks")
"""
    constants = project_constants([file_constants(ast.parse(source))])
    assert constants.attribute_values("_name") == frozenset({"Bookmarks", "Quickmarks"})


def test_self_attribute_is_read_in_its_own_class_family_only() -> None:
    source = (
        TABLES
        + """

class Unrelated:
    def __init__(self, anything):
        self._name = anything
"""
    )
    constants = project_constants([file_constants(ast.parse(source))])
    assert constants.attribute_values("_name") is None  # project-wide: not known
    assert constants.attribute_values("_name", owner="History") == frozenset({"History", "Meta"})
    assert constants.attribute_values("_name", owner="Unrelated") is None


def test_a_route_that_passes_on_its_parameter_keeps_it_unknown() -> None:
    source = """
class Table:
    def __init__(self, name):
        self._name = name


class Views:
    def factory(self, name):  # a method no file names: dead code gives nothing
        return Table(name)

    @app.route("/t/<name>")
    def show(self, name):  # a framework calls it with what the user typed
        return Table(name)


def entry(name):  # a module's function: another program may call it
    return Table(name)


Table("History")
"""
    constants = project_constants([file_constants(ast.parse(source))])
    assert constants.attribute_values("_name", owner="Table") is None
    dead_only = source.replace('    @app.route("/t/<name>")\n', "").replace("def show", "def _show")
    dead_only = dead_only[: dead_only.index("def entry")] + 'Table("History")\n'
    constants = project_constants([file_constants(ast.parse(dead_only))])
    assert constants.attribute_values("_name", owner="Table") == frozenset({"History"})


def test_a_module_constant_read_through_its_module_is_known() -> None:
    schema = 'PodcastColumns = ("id", "title")\nVERSION = compute()\n'
    store = """
import schema


class Db:
    def save(self, p):
        self._save(p, "podcast", schema.PodcastColumns)

    def _save(self, o, table, columns):
        pass
"""
    constants = project_constants([file_constants(ast.parse(t)) for t in (schema, store)])
    assert constants.parameter_values("_save", "columns") == frozenset({("id", "title")})
    assert constants.attribute_values("VERSION") is None


def test_cached_constants_read_back_as_they_were_learned() -> None:
    found = file_constants(ast.parse(STORE + TABLES))
    assert constants_from_json(json.loads(json.dumps(constants_to_json(found)))) == found


def test_a_warm_check_learns_the_constants_from_the_cache(tmp_path: Path) -> None:
    from tests.conftest import run_dbheal

    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE podcast (id INTEGER PRIMARY KEY, title TEXT)")
    conn.close()
    (tmp_path / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    (tmp_path / "store.py").write_text(
        "class Db:\n"
        "    TABLE = 'podcast'\n"
        "    def titles(self):\n"
        "        return self.db.execute('SELECT titel FROM %s' % self.TABLE)\n"
    )
    cold = run_dbheal(tmp_path, "check")
    warm = run_dbheal(tmp_path, "check")
    # The class constant is read as its text both times: the table it names is checked.
    assert "no such column: podcast.titel" in cold.stdout, cold.stdout
    assert warm.stdout == cold.stdout
    # A subclass in a new file changes what the constant can hold: the warm pass notices, and
    # the statement in the unchanged file is read again, once per class (Other's table is x).
    (tmp_path / "other.py").write_text("from store import Db\nclass Other(Db):\n    TABLE = 'x'\n")
    changed = run_dbheal(tmp_path, "check")
    assert "no such table: x" in changed.stdout, changed.stdout
    assert "no such column: podcast.titel" in changed.stdout, changed.stdout
    (tmp_path / "other.py").unlink()
    back = run_dbheal(tmp_path, "check")
    assert back.stdout == cold.stdout


METHODS_OF_ONE_NAME = """
class Table:
    def delete(self, field, value):
        pass

    def select(self, sort_by, sort_order, limit=-1):
        pass


class Marks:
    def delete(self, key):
        pass


def forget(table, marks, url, name, selection, cert):
    table.delete("url", url)
    marks.delete(name)
    table.select(sort_by="atime", sort_order="desc", limit=100)
    table.select("atime", "asc")
    selection.select(cert)
"""


def test_a_call_counts_only_for_the_definitions_it_can_call() -> None:
    # qutebrowser: `marks.delete(name)` cannot call `delete(self, field, value)`, nor can
    # `selection.select(cert)` call `select(self, sort_by, sort_order, limit=-1)`.
    constants = project_constants([file_constants(ast.parse(METHODS_OF_ONE_NAME))])
    assert constants.parameter_values("delete", "field") == frozenset({"url"})
    assert constants.parameter_values("select", "sort_by") == frozenset({"atime"})
    assert constants.parameter_values("select", "sort_order") == frozenset({"desc", "asc"})
    # `marks.delete(name)` fits `delete(self, key)` only: its key is a variable.
    assert constants.parameter_values("delete", "key") is None


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


def test_test_doubles_give_no_variants_of_the_programs_statements() -> None:
    found = {
        "app/models.py": file_constants(
            ast.parse(
                "class Model:\n    _table: str\n"
                "class Item(Model):\n    _table = 'items'\n"
                "class Album(Model):\n    _table = 'albums'\n"
            )
        ),
        "app/test/fixtures.py": file_constants(
            ast.parse("class Fixture(Model):\n    _table = 'test'\n")
        ),
        "tests/test_models.py": file_constants(ast.parse("class Double(Item):\n    pass\n")),
    }
    test_classes = classes_of_test_code(found)
    assert test_classes == {"Fixture", "Double"}
    constants = project_constants(found.values(), test_classes)
    assert constants.variant_classes("Model", ["_table"]) == ("Album", "Item")
    assert constants.class_attribute_values("_table", "Album") == {"albums"}
    assert constants.class_attribute_values("_table", "Double") == {"items"}  # from its base
    assert constants.attribute_values("_table", "Model") == {"items", "albums", "test"}


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
