"""The fix commands as a user runs them: fix, migrate, heal, history, rollback."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.projects import joined_project
from tests.conftest import run_dbheal


def dbheal(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `dbheal ARGS` in `cwd` as a user would and return the finished process."""
    return run_dbheal(cwd, *args)


def test_fix_prints_diffs_and_apply_writes_them(shop: Path) -> None:
    auth = shop / "app" / "routes" / "auth.py"
    before = auth.read_text()
    shown = dbheal(shop, "fix", ".", "--only", "TYPE_MISMATCH")
    assert shown.returncode == 0, shown.stderr
    assert "--- a/app/routes/auth.py" in shown.stdout
    assert (
        '-    return db.execute(f"SELECT * FROM sessions WHERE user_id = {int(user_id)}")'
        in shown.stdout
    )
    assert (
        '+    return db.execute("SELECT * FROM sessions WHERE user_id = ?", (user_id,))'
        in shown.stdout
    )
    assert auth.read_text() == before  # printing writes nothing
    applied = dbheal(shop, "fix", ".", "--only", "TYPE_MISMATCH", "--apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "{int(user_id)}" not in auth.read_text()
    backups = list((shop / ".dbheal" / "backups").glob("*/files/app/routes/auth.py"))
    assert backups and backups[0].read_text() == before


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8-sig"])
def test_fix_rewrites_a_file_in_its_own_encoding(shop: Path, encoding: str) -> None:
    # A Latin-1 file with its PEP 263 coding line, and a UTF-8 file with a BOM: the fix is
    # offered and written in the file's encoding, everything else byte for byte as it was.
    auth = shop / "app" / "routes" / "auth.py"
    text = auth.read_text(encoding="utf-8")
    if encoding == "latin-1":
        text = "# -*- coding: latin-1 -*-\n# Sessions: créées à la connexion.\n" + text
    else:
        text = "# Sessions: créées à la connexion.\n" + text
    auth.write_bytes(text.encode(encoding))
    shown = dbheal(shop, "fix", "app/routes/auth.py", "--only", "TYPE_MISMATCH")
    assert shown.returncode == 0, shown.stderr
    assert '-    return db.execute(f"SELECT * FROM sessions WHERE user_id = {int(user_id)}")' in (
        shown.stdout
    ), shown.stdout + shown.stderr
    applied = dbheal(
        shop, "fix", "app/routes/auth.py", "--only", "TYPE_MISMATCH", "--apply", "--yes"
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    after = auth.read_bytes()
    fixed = after.decode(encoding)
    assert "{int(user_id)}" not in fixed
    assert "# Sessions: créées à la connexion." in fixed
    assert after.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    expected = text.replace(
        'db.execute(f"SELECT * FROM sessions WHERE user_id = {int(user_id)}")',
        'db.execute("SELECT * FROM sessions WHERE user_id = ?", (user_id,))',
    )
    assert fixed == expected


def test_fix_apply_without_a_terminal_refuses_unless_yes(shop: Path) -> None:
    auth = shop / "app" / "routes" / "auth.py"
    before = auth.read_text()
    refused = dbheal(shop, "fix", ".", "--only", "TYPE_MISMATCH", "--apply")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "pass --yes" in lines[0], refused.stderr
    assert auth.read_text() == before
    assert not list((shop / ".dbheal" / "backups").glob("*/files/app/routes/auth.py"))


def _on_a_terminal(cwd: Path, answer: str, *args: str) -> tuple[int, str]:
    """Run `dbheal ARGS` with a terminal as stdin, type `answer` and Enter; return the exit
    status and everything the terminal showed."""
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dbheal_lsp", *args],
            cwd=cwd,
            stdin=follower,
            stdout=follower,
            stderr=follower,
        )
        os.close(follower)
        os.write(leader, answer.encode() + b"\n")
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is gone
                break
            if not chunk:
                break
            shown += chunk
        return proc.wait(timeout=120), shown.decode("utf-8", "replace")
    finally:
        os.close(leader)


@pytest.mark.parametrize(("answer", "writes"), [("y", True), ("n", False), ("", False)])
def test_fix_apply_on_a_terminal_asks_first(shop: Path, answer: str, writes: bool) -> None:
    auth = shop / "app" / "routes" / "auth.py"
    before = auth.read_text()
    status, shown = _on_a_terminal(shop, answer, "fix", ".", "--only", "TYPE_MISMATCH", "--apply")
    assert status == 0, shown
    assert re.search(r"Write \d+ fixes in \d+ files\? \[y/N\]", shown), shown
    # The diff is shown before the question, so the user knows what they say yes to.
    assert shown.index("+++ b/app/routes/auth.py") < shown.index("[y/N]")
    assert ("{int(user_id)}" not in auth.read_text()) is writes
    if not writes:
        assert auth.read_text() == before and "Nothing written." in shown


@pytest.mark.parametrize(
    "command", [("heal", "."), ("migrate", "apply", "1"), ("rollback", "20990101-none")]
)
def test_every_writing_command_refuses_without_a_terminal(
    shop: Path, command: tuple[str, ...]
) -> None:
    if command[0] == "migrate":
        dbheal(shop, "migrate", "list")
    if command[0] == "rollback":
        dbheal(shop, "heal", ".", "--yes")
        history = json.loads(dbheal(shop, "history", "--json").stdout)
        command = ("rollback", next(h["id"] for h in history if h["outcome"] == "applied"))
    before = (shop / "shop.db").read_bytes()
    refused = dbheal(shop, *command)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "pass --yes" in lines[0], refused.stderr
    assert (shop / "shop.db").read_bytes() == before


def test_migrate_list_plan_apply(shop: Path) -> None:
    listed = dbheal(shop, "migrate", "list")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if "idx_orders_customer_email" in x)
    entry = line.split()[0]
    plan = dbheal(shop, "migrate", "plan", entry)
    assert 'CREATE INDEX "idx_orders_customer_email"' in plan.stdout
    assert "Dry run: would succeed" in plan.stdout
    refused = dbheal(shop, "migrate", "apply", entry)
    assert refused.returncode == 2 and "pass --yes" in refused.stderr
    done = dbheal(shop, "migrate", "apply", entry, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   index used" in done.stdout
    with sqlite3.connect(shop / "shop.db") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "idx_orders_customer_email" in names


def test_lossy_type_change_is_refused_with_the_rows(shop: Path) -> None:
    listed = dbheal(shop, "migrate", "list")
    line = next(x for x in listed.stdout.splitlines() if "products.sku" in x)
    result = dbheal(shop, "migrate", "apply", line.split()[0], "--yes")
    assert result.returncode == 1
    assert "8 of 8" in result.stdout and "'CAF-001'" in result.stdout


def test_heal_history_rollback(shop: Path) -> None:
    healed = dbheal(shop, "heal", ".", "--yes")
    assert "Create table user_preferences" in healed.stdout
    assert "[applied]" in healed.stdout and "issues before" in healed.stdout
    history = json.loads(dbheal(shop, "history", "--json").stdout)
    applied = [h for h in history if h["outcome"] == "applied"]
    assert applied and all(h["verify"]["checks"] for h in applied)
    newest = applied[0]["id"]
    back = dbheal(shop, "rollback", newest, "--yes")
    assert back.returncode == 0, back.stdout + back.stderr
    oldest = applied[-1]["id"]
    refused = dbheal(shop, "rollback", oldest, "--yes")
    assert refused.returncode == 1
    assert refused.stderr.startswith("dbheal: refused:") and "first" in refused.stderr


# --- a migration file is the unit ---------------------------------------------------------------


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        names = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    return names


def test_heal_applies_a_migration_file_as_one_unit(tmp_path: Path) -> None:
    root = joined_project(tmp_path / "proj")
    healed = dbheal(root, "heal", ".", "--yes")
    assert healed.returncode == 0, healed.stdout + healed.stderr
    assert "002_orders.sql" in healed.stdout
    assert "[not applied]" not in healed.stdout
    assert {"orders", "order_items", "idx_order_items_order_id"} <= _tables(root / "app.db")
    assert "ok   prepares" in healed.stdout  # the joining query was verified after both tables
    # Already in the migrations: no new migration file is written for it.
    assert sorted(p.name for p in (root / "migrations").iterdir()) == [
        "001_users.sql",
        "002_orders.sql",
    ]


def test_migrate_queues_one_entry_per_migration_file(tmp_path: Path) -> None:
    root = joined_project(tmp_path / "proj")
    listed = dbheal(root, "migrate", "list")
    assert listed.returncode == 0, listed.stderr
    lines = [x for x in listed.stdout.splitlines() if "002_orders.sql" in x]
    assert len(lines) == 1, listed.stdout
    applied = dbheal(root, "migrate", "apply", lines[0].split()[0], "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert {"orders", "order_items", "idx_order_items_order_id"} <= _tables(root / "app.db")
    again = dbheal(root, "migrate", "list").stdout
    assert "002_orders.sql" not in again and "Create table" not in again


# --- the queue heals itself ---------------------------------------------------------------------


def _queue(cwd: Path) -> dict[str, str]:
    """Return `dbheal migrate list` as {title: id}; a title listed twice fails the test."""
    listed = dbheal(cwd, "migrate", "list")
    assert listed.returncode == 0, listed.stderr
    rows = [x.split(None, 3) for x in listed.stdout.splitlines() if x[:4].strip().isdigit()]
    titles = [row[3] for row in rows]
    assert len(set(titles)) == len(titles), listed.stdout
    return {row[3]: row[0] for row in rows}


def test_queue_entries_replan_themselves_and_leave_when_done(shop: Path) -> None:
    first = _queue(shop)
    # The same target is queued once (a drifted column on a query and on its migration).
    assert sum("products.price_cents" in t for t in first) == 1, first
    assert sum("user_preferences" in t for t in first) == 1, first
    index = next(i for t, i in first.items() if "idx_orders_customer_email" in t)
    table = next(i for t, i in first.items() if "user_preferences" in t)
    column = next(i for t, i in first.items() if "tracking_number" in t)

    done = dbheal(shop, "migrate", "apply", index, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    # The schema changed since the table's entry was planned: it plans itself again.
    done = dbheal(shop, "migrate", "apply", table, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "plan again" not in done.stdout + done.stderr

    second = _queue(shop)
    assert not any("user_preferences" in t or "customer_email" in t for t in second)
    assert next(i for t, i in second.items() if "tracking_number" in t) == column  # stable ID

    healed = dbheal(shop, "heal", ".", "--yes")
    assert "tracking_number" in healed.stdout
    again = dbheal(shop, "migrate", "apply", column, "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "done elsewhere" in again.stdout
    assert not any("tracking_number" in t for t in _queue(shop))


# --- which database -----------------------------------------------------------------------------


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """Assert the failure a user sees: exit 2, one line on stderr, no traceback."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("dbheal: error: ")
    return lines[0]


def test_writing_commands_refuse_to_guess_the_database(tmp_path: Path) -> None:
    root = joined_project(tmp_path / "proj")
    (root / "pyproject.toml").write_text("[tool.dbheal]\n")  # no database configured
    (root / "app_backup.db").write_bytes((root / "app.db").read_bytes())
    before = {p.name: p.read_bytes() for p in root.glob("*.db")}

    for args in (("heal", ".", "--yes"), ("migrate", "apply", "1", "--yes")):
        line = _one_error_line(dbheal(root, *args))
        assert "app.db" in line and "app_backup.db" in line
        assert "--database" in line and "[tool.dbheal] database" in line
    assert {p.name: p.read_bytes() for p in root.glob("*.db")} == before

    chosen = dbheal(root, "heal", ".", "--yes", "--database", "app.db")
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert chosen.stdout.splitlines()[0] == "Database: app.db"
    assert (root / "app_backup.db").read_bytes() == before["app_backup.db"]
    assert "orders" in _tables(root / "app.db")


# --- rollback never silently drops later writes ---------------------------------------------------


def _apply_entry(shop: Path, title_part: str) -> str:
    """Apply the queued migration whose title has `title_part`; return the fix's id."""
    listed = dbheal(shop, "migrate", "list")
    entry = next(x.split()[0] for x in listed.stdout.splitlines() if title_part in x)
    done = dbheal(shop, "migrate", "apply", entry, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    history = json.loads(dbheal(shop, "history", "--json").stdout)
    return str(next(h["id"] for h in history if h["outcome"] == "applied"))


def _app_writes(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql)]
    finally:
        conn.close()


LATE = (
    "INSERT INTO orders (id, customer_email, created_at) VALUES (900, 'late@x.org', 1)",
    "INSERT INTO orders (id, customer_email, created_at) VALUES (901, 'later@x.org', 2)",
    "INSERT INTO users (id, email, password_hash, created_at) VALUES (900, 'l@x.org', 'h', 3)",
)


def test_rollback_shows_the_inverse_then_keeps_every_later_row(shop: Path) -> None:
    db = shop / "shop.db"
    fix = _apply_entry(shop, "idx_orders_customer_email")
    _app_writes(db, *LATE)
    asked = dbheal(shop, "rollback", fix)  # no terminal, no --yes: shown, not run
    assert asked.returncode == 2 and "pass --yes" in asked.stderr
    assert f"Rolling back {fix}" in asked.stdout
    assert 'DROP INDEX "idx_orders_customer_email"' in asked.stdout
    # The migration file the fix wrote is deleted, and said so (not "restored").
    written = "migrations/006_add_index_orders_customer_email.sql"
    assert f"delete {written} (the fix created it)" in asked.stdout
    assert _query(db, "SELECT name FROM sqlite_master WHERE name = 'idx_orders_customer_email'")

    done = dbheal(shop, "rollback", fix, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'DROP INDEX "idx_orders_customer_email"' in done.stdout
    assert "every row written since the fix is still there" in done.stdout
    assert not _query(db, "SELECT name FROM sqlite_master WHERE name = 'idx_orders_customer_email'")
    assert _query(db, "SELECT id FROM orders WHERE id >= 900 ORDER BY id") == [(900,), (901,)]
    assert _query(db, "SELECT id FROM users WHERE id = 900") == [(900,)]
    assert not (shop / written).exists()


def test_rollback_of_a_table_with_rows_is_refused(shop: Path) -> None:
    db = shop / "shop.db"
    fix = _apply_entry(shop, "Create table user_preferences")
    _app_writes(db, LATE[2])  # a new user: the fix's trigger writes a preferences row
    refused = dbheal(shop, "rollback", fix, "--yes")
    assert refused.returncode == 1
    assert refused.stderr.startswith("dbheal: refused:")
    assert "user_preferences has 1 row written since the fix; rolling back would delete them" in (
        refused.stderr
    )
    assert "Traceback" not in refused.stderr
    assert _query(db, "SELECT user_id FROM user_preferences") == [(900,)]


def test_rollback_restore_backup_says_what_it_drops_and_where_it_is(shop: Path) -> None:
    db = shop / "shop.db"
    fix = _apply_entry(shop, "Add column orders.tracking_number")
    _app_writes(db, *LATE)
    done = dbheal(shop, "rollback", fix, "--restore-backup", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    # Before it runs: what the restore will drop.
    assert "restoring would drop 2 rows in orders and 1 in users written since the fix" in (
        done.stdout
    )
    assert "restoring dropped 2 rows in orders and 1 in users" in done.stdout
    kept = done.stdout.split("Those rows are kept in the backup ")[1].split()[0].rstrip(".")
    assert _query(db, "SELECT count(*) FROM orders WHERE id >= 900") == [(0,)]
    copies = list((shop / kept).rglob("shop.db"))
    assert copies and _query(copies[0], "SELECT count(*) FROM orders WHERE id >= 900") == [(2,)]


# --- dbheal history: every change, named for what it is --------------------------------------


def test_history_lists_the_runtime_wrappers_heals(shop: Path) -> None:
    # The running app (the runtime wrapper) creates user_preferences from migration 004.
    app = shop / "app" / "prefs_job.py"
    app.write_text(
        "from dbheal_lsp import runtime\n"
        "conn = runtime.connect('shop.db')\n"
        "conn.execute('SELECT * FROM user_preferences').fetchall()\n"
        "conn.close()\n",
        encoding="utf-8",
    )
    ran = subprocess.run(
        [sys.executable, str(app)], cwd=shop, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert "user_preferences" in _tables(shop / "shop.db")
    shown = dbheal(shop, "history")
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if "user_preferences" in x)
    assert "healed" in line and "runtime" in line and "app/prefs_job.py:3" in line
    assert "No fixes recorded yet" not in shown.stdout
    data = json.loads(dbheal(shop, "history", "--json").stdout)
    (heal,) = [h for h in data if h["kind"] == "runtime"]
    assert heal["outcome"] == "healed" and "user_preferences" in heal["title"]


def test_history_names_a_rollback_rolled_back_not_applied(shop: Path) -> None:
    fix_id = _apply_entry(shop, "idx_orders_customer_email")
    back = dbheal(shop, "rollback", fix_id, "--yes")
    assert back.returncode == 0, back.stdout + back.stderr
    lines = [x for x in dbheal(shop, "history").stdout.splitlines() if x[:1].isdigit()]
    rollback_line, fix_line = lines[0], lines[1]
    assert "rolled back" in rollback_line and "applied" not in rollback_line
    assert f"undoes {fix_id}" in rollback_line
    assert fix_line.startswith(fix_id) and "undone" in fix_line and "applied" not in fix_line


def test_history_prune_prints_one_summary_line(shop: Path) -> None:
    _apply_entry(shop, "idx_orders_customer_email")
    pruned = dbheal(shop, "history", "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.count("\n") == 1, pruned.stdout
    assert pruned.stdout.startswith("Pruned 0 backups") and "1 kept" in pruned.stdout


def test_heal_summary_says_what_it_skipped_and_why(shop: Path) -> None:
    healed = dbheal(shop, "heal", ".", "--yes")
    assert healed.returncode == 0, healed.stdout + healed.stderr
    listed = [x for x in healed.stdout.splitlines() if re.match(r"  \d+\. ", x)]
    skipped = [x for x in listed if "[skipped" in x]
    assert len(listed) == 6 and len(skipped) == 3, healed.stdout
    summary = healed.stdout.strip().splitlines()[-2:]
    # sessions.user_id's change would break two statements and products.sku's would lose all
    # 8 values: both mismatches are healed by removing their cast in the code instead.
    assert summary[0] == (
        "Healed 5 of 6 listed (2 by a code fix instead of a type change); 1 not healed: "
        "1 would lose values (see --on-lossy)."
    ), summary
    assert summary[1].startswith("26 issues before, 16 after") and "dbheal fix" in summary[1]
    assert "instead, the code fix: Remove the int() cast" in healed.stdout
    auth = (shop / "app" / "routes" / "auth.py").read_text(encoding="utf-8")
    assert 'db.execute("SELECT * FROM sessions WHERE user_id = ?", (user_id,))' in auth
    assert list((shop / ".dbheal" / "backups").glob("*/files/app/routes/auth.py"))
