"""PostgreSQL's schema fixes end to end, as a user runs them: `dbheal heal --yes` on a project
whose pyproject.toml names the test server, `dbheal rollback`, the history, and the type change
through the one executor (fixes/apply.py) with its dry run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.database_url import redacted
from dbheal_lsp.databases.postgres.fix_target import server_file
from dbheal_lsp.databases.postgres.type_change import change_type_plan
from dbheal_lsp.databases.schema_fixes import fix_database, schema_fixes_for
from dbheal_lsp.fixes.orchestrator import FixEngine
from dbheal_lsp.fixes.rollback import RollbackError
from tests.conftest import run_dbheal
from tests.databases.postgres.fixes_project import columns, nothing_left_behind, shop, tables


def _history(root: Path) -> list[dict[str, Any]]:
    done = run_dbheal(root, "history", "--json")
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def test_heal_creates_the_table_and_column_from_the_migration(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    root = shop(tmp_path, pg_url, pg_conn)
    healed = run_dbheal(root, "heal", "--yes")
    assert healed.returncode == 0, healed.stdout + healed.stderr
    assert "[applied] applied: Create table orders from 002_orders.sql" in healed.stdout
    assert "[applied] applied: Add column users.nickname from 002_orders.sql" in healed.stdout
    assert "ok   re-analysis: the issue is gone" in healed.stdout
    assert "orders" in tables(pg_conn)
    assert "nickname" in columns(pg_conn, "users")
    index = pg_conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'idx_orders_user'")
    assert index.fetchone() is not None  # the migration's index came with its table
    checked = run_dbheal(root, "check", ".")
    assert checked.returncode == 0, checked.stdout
    assert nothing_left_behind(pg_conn) == []


def test_an_issue_the_code_had_before_the_fix_is_not_blamed_on_it(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    # An UPDATE that was already wrong before the fix: the re-analysis must have judged it
    # against the schema before the change, not while the fix's ALTER TABLE holds users
    # (a second connection would wait out its lock_timeout and judge nothing).
    root = shop(tmp_path, pg_url, pg_conn)
    code = root / "app" / "db.py"
    code.write_text(
        code.read_text()
        + "\n\ndef rename(conn, user_id, mail):\n"
        + '    conn.execute("UPDATE users SET emial = %s WHERE id = %s", (mail, user_id))\n'
    )
    healed = run_dbheal(root, "heal", "--yes", "--lock-timeout", "1")
    assert "[applied] applied: Add column users.nickname from 002_orders.sql" in healed.stdout, (
        healed.stdout + healed.stderr
    )
    assert "would break" not in healed.stdout
    assert "nickname" in columns(pg_conn, "users")
    assert nothing_left_behind(pg_conn) == []


def test_rollback_drops_what_the_fix_made_and_keeps_later_rows(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    root = shop(tmp_path, pg_url, pg_conn)
    assert run_dbheal(root, "heal", "--yes").returncode == 0
    fixes = {f["title"]: f["id"] for f in _history(root)}
    table_fix = fixes["Create table orders from 002_orders.sql"]
    column_fix = fixes["Add column users.nickname from 002_orders.sql"]
    # The newest first: a column holding a value written since is kept; an empty one dropped.
    pg_conn.execute("INSERT INTO users (email, nickname) VALUES ('a@x', 'ann')")
    kept = run_dbheal(root, "rollback", column_fix, "--yes")
    assert kept.returncode != 0
    assert "column users.nickname holds 1 value(s)" in kept.stderr
    assert "nothing was changed" in kept.stderr
    pg_conn.execute("UPDATE users SET nickname = NULL")
    assert run_dbheal(root, "rollback", column_fix, "--yes").returncode == 0
    assert "nickname" not in columns(pg_conn, "users")
    assert pg_conn.execute("SELECT email FROM users").fetchone()[0] == "a@x"
    # A row written after the fix: the rollback refuses rather than drop it.
    pg_conn.execute("INSERT INTO orders (user_id, total) VALUES (1, 5)")
    refused = run_dbheal(root, "rollback", table_fix, "--yes")
    assert refused.returncode != 0
    assert "table orders holds 1 row(s) written since the fix" in refused.stderr
    assert "--restore-backup" not in refused.stderr  # not offered: a server is not restored
    assert pg_conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 1
    # Once the row is gone, the inverse change drops the table and its index.
    pg_conn.execute("DELETE FROM orders")
    undone = run_dbheal(root, "rollback", table_fix, "--yes")
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert "by its inverse change (index idx_orders_user, table orders)" in undone.stdout
    # The plan names the server by its URL (no password), not the file that stands for it.
    assert f"run on {redacted(pg_url)} in one transaction" in undone.stdout, undone.stdout
    assert "orders" not in tables(pg_conn)
    assert nothing_left_behind(pg_conn) == []


def test_no_password_in_history_backups_or_output(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    secret = "s3cret-pw"
    pg_conn.execute(f"ALTER ROLE CURRENT_USER PASSWORD '{secret}'")
    url = pg_url.replace("@", f":{secret}@", 1)
    root = shop(tmp_path, url, pg_conn)
    healed = run_dbheal(root, "heal", "--yes")
    assert healed.returncode == 0, healed.stdout + healed.stderr
    written = [p for p in (root / ".dbheal").rglob("*") if p.is_file()]
    assert written
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
    assert secret not in healed.stdout + healed.stderr
    assert secret not in json.dumps(_history(root))


def _items(conn: Any, rows: int) -> None:
    """A table of `rows` rows whose text column `qty` holds numbers, 4 words and 2 '007'."""
    conn.execute("CREATE TABLE items (id serial PRIMARY KEY, qty text)")
    conn.execute(
        "INSERT INTO items (qty) SELECT CASE WHEN g %% 50000 = 0 THEN 'n/a' "
        "WHEN g %% 70001 = 0 THEN '007' ELSE g::text END FROM generate_series(1, %s) g",
        (rows,),
    )
    conn.execute("ANALYZE items")


def test_type_change_on_200k_rows_dry_run_refusal_and_policy(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    root = shop(tmp_path, pg_url, pg_conn)
    _items(pg_conn, 200_000)
    project = load_project(root)
    engine = FixEngine(project)
    database = fix_database(project.config)
    assert database is not None
    plan = change_type_plan(pg_conn, "public", "items", "qty", "integer", version=-1)
    assert "ACCESS EXCLUSIVE" in plan.description
    assert "about 200000 rows" in plan.description
    # The dry run lists the values that would fail or change, and changes nothing.
    lossy = schema_fixes_for(database).lossy_report(database, plan)
    assert (lossy.total_rows, lossy.lossy_count) == (200_000, 6)
    assert any("'n/a' would not convert" in e for e in lossy.examples)
    assert any("'007' would become 7" in e for e in lossy.examples)
    assert columns(pg_conn, "items")["qty"] == "text"
    # Refused by default.
    refused = engine.apply_schema(plan)
    assert not refused.applied
    assert "6 of 200000 value(s) of items.qty would not convert losslessly" in refused.message
    assert columns(pg_conn, "items")["qty"] == "text"
    # Applied with on_lossy="null": the lossy values become NULL, every row stays.
    applied = engine.apply_schema(plan, on_lossy="null")
    assert applied.applied, applied.message
    assert applied.lossy is not None and applied.lossy.lossy_count == 6
    assert columns(pg_conn, "items")["qty"] == "integer"
    counted = pg_conn.execute("SELECT count(*), count(qty) FROM items").fetchone()
    assert tuple(counted) == (200_000, 199_994)
    # The rollback puts the old type back, by the inverse change.
    assert applied.record is not None
    undone = engine.rollback(applied.record.id)
    assert undone.outcome == "applied", undone.message
    assert "column items.qty" in undone.message
    assert columns(pg_conn, "items")["qty"] == "text"
    assert pg_conn.execute("SELECT count(*) FROM items").fetchone()[0] == 200_000
    assert nothing_left_behind(pg_conn) == []


def test_type_change_rollback_refuses_values_that_would_not_convert_back(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    root = shop(tmp_path, pg_url, pg_conn)
    pg_conn.execute("CREATE TABLE prices (id serial PRIMARY KEY, amount integer)")
    pg_conn.execute("INSERT INTO prices (amount) VALUES (1), (2)")
    engine = FixEngine(load_project(root))
    plan = change_type_plan(pg_conn, "public", "prices", "amount", "numeric", version=-1)
    applied = engine.apply_schema(plan)
    assert applied.applied and applied.record is not None, applied.message
    pg_conn.execute("INSERT INTO prices (amount) VALUES (2.5)")  # written since the fix
    try:
        engine.rollback(applied.record.id)
        raise AssertionError("the rollback should have been refused")
    except RollbackError as exc:
        assert "would not convert back to integer losslessly" in str(exc)
    assert columns(pg_conn, "prices")["amount"] == "numeric"
    assert pg_conn.execute("SELECT count(*) FROM prices").fetchone()[0] == 3


def test_the_server_file_names_the_server_without_password(tmp_path: Path) -> None:
    path = server_file(tmp_path, "postgresql://app:pw@db.internal:5432/shop")
    assert schema_fixes_for(path).backup_beside is False
    assert "pw" not in path.read_text()


def test_a_lossy_type_change_is_refused_in_postgresql_s_words(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    root = shop(tmp_path, pg_url, pg_conn)
    pg_conn.execute("CREATE TABLE tags (id serial PRIMARY KEY, weight text)")
    pg_conn.execute("INSERT INTO tags (weight) VALUES ('1'), ('heavy')")
    engine = FixEngine(load_project(root))
    plan = change_type_plan(pg_conn, "public", "tags", "weight", "integer", version=-1)
    refused = engine.apply_schema(plan)
    assert not refused.applied
    assert refused.message == (
        "refused: 1 of 2 value(s) of tags.weight would not convert losslessly to integer, e.g. "
        "ctid (0,2): 'heavy' would not convert (integer); nothing was changed (on_lossy='null' "
        "stores NULL instead, on_lossy='keep' cannot keep them: PostgreSQL converts each value "
        "or rejects it)"
    )
    assert "SQLite" not in refused.message
    assert columns(pg_conn, "tags")["weight"] == "text"
    assert nothing_left_behind(pg_conn) == []
