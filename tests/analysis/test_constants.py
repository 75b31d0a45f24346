"""Names the project only ever gives literal text (analysis/constants.py)."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

from dbheal_lsp.analysis.constants import dict_keys
from dbheal_lsp.analysis.file_constants import file_constants
from dbheal_lsp.analysis.project_constants import project_constants


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
