"""The constants pre-pass (`languages/python/learned_constants.py`): what the project's names can hold,
learned cold, answered from the cache when warm, and learned again when a file changes it."""

from __future__ import annotations

import sqlite3
from pathlib import Path


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
