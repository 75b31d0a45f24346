"""The History page and the rollback confirmation over HTTP: a migration applied through the
same engine and state file as the CLI, then rolled back only as shown."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys

from dbheal_lsp.fixes.heal import heal_items
from dbheal_lsp.fixes.state import StateStore

from .conftest import Running, index_names, issue_fp, logged_in, notice_for


def test_queue_apply_history_rollback(admin: Running) -> None:
    client = logged_in(admin)
    fp = issue_fp(admin, "MISSING_INDEX")
    queued = client.post("/actions/queue", {"fp": fp, "plan_id": "wrong"})
    assert queued.header("Location") == "/issues"
    assert (
        notice_for(client, "/issues")
        == "error: This schema fix is not offered any more: plan again."
    )
    plan_id = json.loads(client.get(f"/api/issue-fixes?fp={fp}").body)["schema_fixes"][0]["id"]
    queued = client.post("/actions/queue", {"fp": fp, "plan_id": plan_id})
    entry = int(queued.header("Location").rsplit("=", 1)[1])
    assert StateStore(admin.root).entry(entry) is not None  # the CLI's queue
    plan = json.loads(client.get(f"/api/plan?entry={entry}").body)
    assert plan["entry"]["status"] == "queued" and "CREATE INDEX" in plan["plan"]["sql"]
    # Only the plan that was shown is applied.
    wrong = client.post("/actions/apply-migration", {"entry": str(entry), "plan_id": "other"})
    assert wrong.status == 303
    assert "idx_orders_customer_email" not in index_names(admin.root)
    applied = client.post(
        "/actions/apply-migration",
        {"entry": str(entry), "plan_id": plan["plan"]["id"], "on_lossy": "refuse"},
    )
    assert applied.header("Location") == "/fix"
    notice = notice_for(client, "/fix")
    assert notice.startswith("ok: [applied] applied: Create index idx_orders_customer_email")
    assert "idx_orders_customer_email" in index_names(admin.root)
    assert admin.app.store.entry(entry).status == "applied"  # type: ignore[union-attr]
    # The CLI sees the same history.
    cli = subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", "history", "--json"],
        cwd=admin.root,
        capture_output=True,
        text=True,
        check=True,
    )
    (record,) = json.loads(cli.stdout)
    assert record["outcome"] == "applied"
    history = client.get("/history").text
    assert record["id"] in history and "index used" in history
    # Roll back asks first: History links to a confirmation page that says what it will do.
    confirm = f"/rollback?fix_id={record['id']}"
    assert f'href="{confirm}">Roll back…</a>' in history
    page = client.get(confirm).text
    assert "Nothing has changed yet" in page
    assert "DROP INDEX &quot;idx_orders_customer_email&quot;" in page
    assert "idx_orders_customer_email" in index_names(admin.root)  # showing changed nothing
    shown = re.search(r'name="shown" value="([0-9a-f]+)"', page)
    assert shown is not None and 'name="csrf"' in page
    # A POST that did not come from the confirmation page runs nothing.
    blind = client.post("/actions/rollback", {"fix_id": record["id"]})
    assert blind.header("Location") == confirm
    assert "Not rolled back" in notice_for(client, confirm)
    assert "idx_orders_customer_email" in index_names(admin.root)
    back = client.post("/actions/rollback", {"fix_id": record["id"], "shown": shown.group(1)})
    assert back.header("Location") == "/history"
    notice = notice_for(client, "/history")
    assert notice.startswith(f"ok: Rolled back {record['id']} by its inverse change")
    assert "every row written since the fix is still there" in notice
    assert "idx_orders_customer_email" not in index_names(admin.root)
    again = client.post("/actions/rollback", {"fix_id": record["id"], "shown": shown.group(1)})
    assert again.status == 303
    assert notice_for(client, confirm).startswith("error: refused: ")


def test_rollback_confirmation_names_what_a_restore_would_drop(admin: Running) -> None:
    client = logged_in(admin)
    engine = admin.app.engine
    item = next(
        i
        for i in heal_items(engine, admin.app.result())
        if i.plan.kind == "create_table" and "user_preferences" in i.plan.title
    )
    outcome = engine.apply_schema(item.plan, issue=item.issues[0])
    assert outcome.applied and outcome.record is not None
    fix_id = outcome.record.id
    with sqlite3.connect(admin.root / "shop.db") as conn:
        conn.execute("INSERT INTO user_preferences (user_id, theme) VALUES (7, 'dark')")
    conn.close()
    page = client.get(f"/rollback?fix_id={fix_id}").text
    assert "user_preferences has 1 row written since the fix; rolling back would delete them" in (
        page
    )
    assert 'name="shown"' not in page  # refused: no button that would run it
    restore = client.get(f"/rollback?fix_id={fix_id}&restore=1").text
    assert (
        "restoring would delete table user_preferences (1 row), which the backup does not have"
        in restore
    )
    shown = re.search(r'name="shown" value="([0-9a-f]+)"', restore)
    assert shown is not None and 'name="restore_backup" value="1"' in restore
    # Refused without the explicit restore: the row stays.
    refused = client.post("/actions/rollback", {"fix_id": fix_id, "shown": shown.group(1)})
    assert refused.status == 303 and "refused" in notice_for(client, f"/rollback?fix_id={fix_id}")
    with sqlite3.connect(admin.root / "shop.db") as conn:
        assert conn.execute("SELECT count(*) FROM user_preferences").fetchone() == (1,)
    conn.close()
    done = client.post(
        "/actions/rollback", {"fix_id": fix_id, "shown": shown.group(1), "restore_backup": "1"}
    )
    assert done.header("Location") == "/history"
    notice = notice_for(client, "/history")
    assert "restored the database backup as asked" in notice and "kept in the backup" in notice
