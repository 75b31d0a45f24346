"""The fix commands as a user runs them: fix, migrate, heal, history, rollback."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path


def dbheal(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
    )


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
    applied = dbheal(shop, "fix", ".", "--only", "TYPE_MISMATCH", "--apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "{int(user_id)}" not in auth.read_text()
    backups = list((shop / ".dbheal" / "backups").glob("*/files/app/routes/auth.py"))
    assert backups and backups[0].read_text() == before


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
