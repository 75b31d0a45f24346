"""The admin's routes over HTTP: the JSON answers computed per issue or queued migration, and
the actions (queue, apply, roll back) that run only what was shown and send the browser back
to a page; the same engine and state file as the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from dbheal_lsp.fixes.state import StateStore

from .conftest import Running, index_names, issue_fp, logged_in, notice_for


def test_previews_are_computed_per_issue(admin: Running) -> None:
    client = logged_in(admin)
    page = client.get("/issues").text
    # Nothing is planned up front: no SQL of a plan, no dry run, no diff.
    assert 'CREATE INDEX "idx_orders_customer_email"' not in page
    assert "Dry run" not in page and "+++ b/" not in page
    index = json.loads(client.get(f"/api/issue-fixes?fp={issue_fp(admin, 'MISSING_INDEX')}").body)
    (plan,) = index["schema_fixes"]
    assert plan["sql"] == 'CREATE INDEX "idx_orders_customer_email" ON "orders" ("customer_email");'
    assert plan["dry_run"]["status"] == "Dry run: would succeed"
    assert {"name": "re-analysis", "ok": True, "detail": "the issue is gone"} in plan["dry_run"][
        "checks"
    ]
    assert index["code_fixes"] == []
    cast = json.loads(
        client.get(f"/api/issue-fixes?fp={issue_fp(admin, 'TYPE_MISMATCH', 'auth.py')}").body
    )
    diff = cast["code_fixes"][0]["diff"]
    assert "--- a/app/routes/auth.py" in diff
    assert '+    return db.execute("SELECT * FROM sessions WHERE user_id = ?", (user_id,))' in diff
    assert client.get("/api/issue-fixes?fp=nope").status == 404


def test_code_fix_is_applied_only_as_previewed(admin: Running) -> None:
    client = logged_in(admin)
    auth = admin.root / "app" / "routes" / "auth.py"
    fp = issue_fp(admin, "TYPE_MISMATCH", "auth.py")
    fix = json.loads(client.get(f"/api/issue-fixes?fp={fp}").body)["code_fixes"][0]
    stale = client.post(
        "/actions/apply-code", {"fp": fp, "fix_id": fix["id"], "source_hash": "0" * 32}
    )
    assert stale.header("Location") == "/issues"
    assert "changed since this fix was planned: plan again" in notice_for(client, "/issues")
    assert "{int(user_id)}" in auth.read_text()
    done = client.post(
        "/actions/apply-code",
        {"fp": fp, "fix_id": fix["id"], "source_hash": fix["source_hash"], "back": "/fix"},
    )
    assert done.header("Location") == "/fix"
    assert notice_for(client, "/fix").startswith("ok: [applied] edited app/routes/auth.py")
    assert "{int(user_id)}" not in auth.read_text()
    assert list((admin.root / ".dbheal" / "backups").glob("*/files/app/routes/auth.py"))


def test_queue_all_is_migrate_list(admin: Running) -> None:
    client = logged_in(admin)
    client.post("/actions/queue-all", {})
    assert re.match(r"ok: \d+ schema fix\(es\) queued\.", notice_for(client, "/fix"))
    listed = subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", "migrate", "list"],
        cwd=admin.root,
        capture_output=True,
        text=True,
        check=True,
    )
    page = client.get("/fix").text
    for entry in admin.app.store.queued():
        assert f'data-entry="{entry.id}"' in page
        assert entry.title in listed.stdout


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
