"""The database seam's fix half, through the back end a SQLite file gets: its schema version,
a fix's transaction that is committed only when asked, and a dry run's copy; real files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.schema_fixes import ON_LOSSY, FixTransaction, schema_fixes_for
from dbheal_lsp.model import MigrationPlan, PlanStep

INDEX = MigrationPlan(
    "create_index:fp",
    "create_index",
    "Add index on orders(email)",
    "",
    "orders",
    (PlanStep("CREATE INDEX idx_orders_email ON orders (email)"),),
    "",
    check_sql=("SELECT id FROM orders WHERE email = ?",),
)


def _shop(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT);"
        "INSERT INTO orders VALUES (1, 'a@x'), (2, 'b@x');"
    )
    conn.close()
    return path


def _indexes(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {
            str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
    finally:
        conn.close()


def _run_index(tx: FixTransaction) -> list[bool]:
    before = tx.index_names()
    tx.begin()
    tx.execute(INDEX.steps[0].sql)
    checks = [tx.integrity(INDEX, False), tx.foreign_keys(INDEX), *tx.prepares(INDEX)]
    checks += tx.index_used(INDEX, before)
    return [c.ok for c in checks]


def test_a_fix_transaction_commits_only_when_asked(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    fixes = schema_fixes_for(db)
    tx = fixes.open_for_fix(db, lock_timeout=1.0, cache_kib=0, foreign_keys_off=False)
    try:
        assert all(_run_index(tx))
    finally:
        tx.close()  # never committed: rolled back
    assert _indexes(db) == set()
    tx = fixes.open_for_fix(db, lock_timeout=1.0, cache_kib=0, foreign_keys_off=False)
    try:
        assert all(_run_index(tx))
        version = tx.schema_version()
        tx.commit()
    finally:
        tx.close()
    assert _indexes(db) == {"idx_orders_email"}
    assert fixes.schema_version(db) == version


def test_the_dry_run_copy_has_the_schema_and_no_rows(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    fixes = schema_fixes_for(db)
    copy, version = fixes.schema_copy(db, 1.0)
    try:
        assert version == fixes.schema_version(db)
        assert copy.schema().tables.keys() == {"orders"}
        assert all(_run_index(copy))
    finally:
        copy.close()
    assert _indexes(db) == set()


def test_a_file_that_is_no_database_is_said_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    db.write_text("hello, not a database\n")
    with pytest.raises(SchemaError, match=r"is not a SQLite database$"):
        schema_fixes_for(db).schema_version(db)
    assert ON_LOSSY[0] == "refuse"  # the default comes first


@pytest.mark.parametrize(
    ("suggestion", "columns"),
    [
        ("idx_orders_customer_email", ("customer_email",)),  # a column with "_" in its name
        ("idx_orders_customer_email_status", ("customer_email", "status")),
        ("idx_orders_nope", ()),  # not a column of the table: no plan
        ("idx_users_email", ()),  # another table's name
    ],
)
def test_the_suggested_index_name_is_read_back_as_the_tables_columns(
    tmp_path: Path, suggestion: str, columns: tuple[str, ...]
) -> None:
    from dbheal_lsp.databases.schema_fixes import suggested_index_columns
    from dbheal_lsp.databases.sqlite.catalog import schema_from_connection
    from dbheal_lsp.model import Issue, IssueType, Severity, Span

    conn = sqlite3.connect(tmp_path / "shop.db")
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_email TEXT, status TEXT)")
    live = schema_from_connection(conn, "live")
    conn.close()
    issue = Issue(
        IssueType.MISSING_INDEX,
        Severity.HIGH,
        "app.py",
        Span(1, 1, 1, 2),
        "orders is read in full",
        table="orders",
        suggestion=suggestion,
    )
    assert suggested_index_columns(issue, live) == columns
