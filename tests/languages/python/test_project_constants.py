"""Tests of what the whole project only ever gives literal text (languages/python/project_constants.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.project_constants import classes_of_test_code, project_constants

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


CLASSES_PASSED = """
class Album:
    _table = "albums"


class Item:
    _table = "items"


class Library:
    def albums(self):
        return self._fetch(Album, None)

    def items(self):
        return self._fetch(Item, "x")

    def _fetch(self, model_cls, query):
        return self._results(model_cls, query)

    def _results(self, model_cls, query):
        return model_cls._table


def with_a_name_not_a_class(lib):
    lib._fetch(Unknown, None)
"""


def test_the_classes_callers_pass_are_followed_through_calls() -> None:
    constants = project_constants([file_constants(ast.parse(CLASSES_PASSED))])
    assert constants.classes_passed("_fetch", "model_cls") == {"Album", "Item"}
    assert constants.classes_passed("_results", "model_cls") == {"Album", "Item"}
    assert constants.classes_passed("_results", "query") == frozenset()
    # A class is no literal: what the parameter holds as text stays unknown.
    assert constants.parameter_values("_results", "model_cls") is None
