"""Build a new calibre library's metadata.db the way calibre does.

Usage: ``python schema.py CHECKOUT OUT_DB``.

calibre's ``DB.initialize_database`` runs ``resources/metadata_sqlite.sql`` on a fresh file
(which ends with ``pragma user_version=27``) and ``DB.__init__`` then runs
``calibre.db.schema_upgrades.SchemaUpgrade``, which steps ``upgrade_version_N`` while one exists
for the stored user_version. Both run here, from CHECKOUT: the SQL file as is, and the
``SchemaUpgrade`` class imported from ``src/calibre/db/schema_upgrades.py``.

Stubbed, because they cannot be imported here (calibre's package needs its compiled extensions,
Qt and apsw): the ``calibre`` package itself (only ``prints`` is used), ``calibre.utils.date``
(``DEFAULT_DATE`` and ``isoformat`` are only used by upgrades older than version 27), and apsw:
calibre talks to SQLite through apsw, whose ``Connection.execute`` runs a whole script and returns
an iterator; ``_ApswLike`` gives sqlite3 that shape. The SQL functions calibre registers on every
connection (``backend.Connection.__init__``: title_sort, uuid4, concat, sortconcat, ...) are
registered as simple stand-ins so the triggers and views in the schema can run.
"""

import datetime
import os
import sqlite3
import sys
import types
import uuid
from collections.abc import Iterator, Sequence
from typing import Any


class _Concat:
    """Stand-in for calibre's ``concat``/``sortconcat`` aggregates (backend.Concatenate)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def step(self, *values: Any) -> None:
        if values and values[-1] is not None:
            self.parts.append(str(values[-1]))

    def finalize(self) -> str | None:
        return ",".join(self.parts) if self.parts else None


class _ApswLike:
    """An apsw-shaped connection over sqlite3: ``execute`` runs a script, returns an iterator."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, bindings: Sequence[Any] | None = None) -> Iterator[Any]:
        if bindings is None and sqlite3.complete_statement(sql) and sql.count(";") > 1:
            self.conn.executescript(sql)  # apsw runs every statement of a script
            return iter(())
        if bindings is None:
            return iter(self.conn.execute(sql).fetchall())
        return iter(self.conn.execute(sql, bindings).fetchall())


def _stub_calibre_modules() -> None:
    calibre = types.ModuleType("calibre")
    utils = types.ModuleType("calibre.utils")
    date = types.ModuleType("calibre.utils.date")
    # setattr: ModuleType has no such attributes for a type checker
    setattr(calibre, "prints", print)  # noqa: B010
    setattr(calibre, "__path__", [])  # noqa: B010
    setattr(utils, "__path__", [])  # noqa: B010
    setattr(date, "DEFAULT_DATE", datetime.datetime(101, 1, 1, tzinfo=datetime.timezone.utc))  # noqa: B010
    setattr(date, "isoformat", lambda d, *a, **k: d.isoformat())  # noqa: B010
    sys.modules.update({"calibre": calibre, "calibre.utils": utils, "calibre.utils.date": date})


def _load_schema_upgrade(checkout: str) -> Any:
    """Import SchemaUpgrade from the checkout's src/calibre/db/schema_upgrades.py."""
    import importlib.util

    path = os.path.join(checkout, "src", "calibre", "db", "schema_upgrades.py")
    spec = importlib.util.spec_from_file_location("calibre_db_schema_upgrades", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SchemaUpgrade


def build(checkout: str, out_db: str) -> None:
    """Create OUT_DB from metadata_sqlite.sql and calibre's SchemaUpgrade."""
    _stub_calibre_modules()
    schema_upgrade = _load_schema_upgrade(checkout)
    if os.path.exists(out_db):
        os.remove(out_db)
    conn = sqlite3.connect(out_db, isolation_level=None)
    conn.create_function("title_sort", -1, lambda title, *a: title)
    conn.create_function("author_to_author_sort", 1, lambda a: a)
    conn.create_function("uuid4", 0, lambda: str(uuid.uuid4()))
    conn.create_function("books_list_filter", 1, lambda x: 1)
    for name, arity in (("concat", 1), ("sortconcat", 2), ("sortconcat_bar", 2)):
        conn.create_aggregate(name, arity, _Concat)  # type: ignore[arg-type]  # step(*values)
    with open(os.path.join(checkout, "resources", "metadata_sqlite.sql"), encoding="utf-8") as f:
        conn.executescript(f.read())  # DB.initialize_database
    if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
        conn.execute("PRAGMA user_version=1")
    # DB.__init__: SchemaUpgrade(self, library_path, field_metadata); a fresh library has no
    # custom columns, so an empty field_metadata is what calibre passes in effect.
    schema_upgrade(_ApswLike(conn), os.path.dirname(out_db), {})
    conn.close()


def main() -> int:
    """Entry point: ``schema.py CHECKOUT OUT_DB``."""
    if len(sys.argv) != 3:
        print("usage: schema.py CHECKOUT OUT_DB", file=sys.stderr)
        return 2
    build(sys.argv[1], os.path.abspath(sys.argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
