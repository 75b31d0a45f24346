"""The admin's pages and actions over HTTP: what each shows, and that its actions go through the
same engine and state file as the CLI."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from dbheal_lsp.fixes.heal import heal_items
from dbheal_lsp.fixes.state import StateStore

from .conftest import Client, Running


def _logged_in(admin: Running) -> Client:
    client = admin.client()
    client.login()
    return client


def _issue_fp(admin: Running, type_: str, path_end: str = "") -> str:
    return next(
        i.fingerprint
        for i in admin.app.result().issues
        if i.type.value == type_ and i.path.endswith(path_end)
    )


def _index_names(root: Path) -> set[str]:
    with sqlite3.connect(root / "shop.db") as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}


def _notice(client: Client, path: str) -> str:
    """The newest notice `path` shows (each is shown once, then gone)."""
    text = client.get(path).text
    found = re.findall(r'<div class="notice (ok|error)" role="status"><strong>(.*?)</strong>', text)
    assert found, f"no notice on {path}"
    return f"{found[-1][0]}: {found[-1][1]}"


def test_dashboard_counts_scan_queue_and_chart(admin: Running) -> None:
    client = _logged_in(admin)
    admin.app.store.record_event("no such table: oders", "SELECT COUNT(*) FROM oders")
    text = client.get("/").text
    assert '<span class="stat-num">26</span><span class="stat-label">issues</span>' in text
    assert '<span class="stat-num">12</span><span class="stat-label">critical</span>' in text
    assert "SCHEMA_DRIFT" in text and "MISSING_INDEX" in text  # by type
    assert "<dd>manual</dd>" in text  # the last scan's trigger
    assert "no such table: oders" in text  # the runtime event
    assert '<svg class="chart"' in text and "polyline" in text
    assert "No schema fixes queued." in text


def test_scans_are_recorded_as_manual_and_charted(admin: Running) -> None:
    client = _logged_in(admin)
    for _ in range(2):
        assert client.post("/actions/scan", {"back": "/fix"}).header("Location") == "/fix"
    scans = StateStore(admin.root).scans()
    assert len(scans) == 3 and {s.trigger for s in scans} == {"manual"}
    assert scans[0].counts_by_severity == {"critical": 12, "high": 7, "medium": 4, "low": 3}
    assert _notice(client, "/fix").startswith("ok: Scanned in ")
    text = client.get("/").text
    assert text.count('<circle class="dot s-total"') == 3


def test_issues_filter_and_sort(admin: Running) -> None:
    client = _logged_in(admin)
    every = client.get("/issues").text
    assert every.count('<tbody class="issue') == 26
    critical = client.get("/issues?severity=critical").text
    assert critical.count('<tbody class="issue') == 12
    assert "Showing 12 of 26 issues." in critical
    one_file = client.get("/issues?file=app/store/orders.py&type=MISSING_COLUMN").text
    assert one_file.count('<tbody class="issue') == 2
    by_table = client.get("/issues?table=user_preferences").text
    assert by_table.count('<tbody class="issue') == 3
    by_file = client.get("/issues?sort=file&dir=desc").text
    paths = re.findall(r'<td class="file">(.*?)<span', by_file)
    paths = [p.replace("<wbr>", "") for p in paths]
    assert paths == sorted(paths, reverse=True)
    # Each row shows the code around the issue, the issue's token marked.
    assert '<span class="xl hit"><span class="ln">97</span>' in every
    assert "<mark>customer_email</mark>" in every


def test_previews_are_computed_per_issue(admin: Running) -> None:
    client = _logged_in(admin)
    page = client.get("/issues").text
    # Nothing is planned up front: no SQL of a plan, no dry run, no diff.
    assert 'CREATE INDEX "idx_orders_customer_email"' not in page
    assert "Dry run" not in page and "+++ b/" not in page
    index = json.loads(client.get(f"/api/issue-fixes?fp={_issue_fp(admin, 'MISSING_INDEX')}").body)
    (plan,) = index["schema_fixes"]
    assert plan["sql"] == 'CREATE INDEX "idx_orders_customer_email" ON "orders" ("customer_email");'
    assert plan["dry_run"]["status"] == "Dry run: would succeed"
    assert {"name": "re-analysis", "ok": True, "detail": "the issue is gone"} in plan["dry_run"][
        "checks"
    ]
    assert index["code_fixes"] == []
    cast = json.loads(
        client.get(f"/api/issue-fixes?fp={_issue_fp(admin, 'TYPE_MISMATCH', 'auth.py')}").body
    )
    diff = cast["code_fixes"][0]["diff"]
    assert "--- a/app/routes/auth.py" in diff
    assert '+    return db.execute("SELECT * FROM sessions WHERE user_id = ?", (user_id,))' in diff
    assert client.get("/api/issue-fixes?fp=nope").status == 404


def test_queue_apply_history_rollback(admin: Running) -> None:
    client = _logged_in(admin)
    fp = _issue_fp(admin, "MISSING_INDEX")
    queued = client.post("/actions/queue", {"fp": fp, "plan_id": "wrong"})
    assert queued.header("Location") == "/issues"
    assert (
        _notice(client, "/issues") == "error: This schema fix is not offered any more: plan again."
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
    assert "idx_orders_customer_email" not in _index_names(admin.root)
    applied = client.post(
        "/actions/apply-migration",
        {"entry": str(entry), "plan_id": plan["plan"]["id"], "on_lossy": "refuse"},
    )
    assert applied.header("Location") == "/fix"
    notice = _notice(client, "/fix")
    assert notice.startswith("ok: [applied] applied: Create index idx_orders_customer_email")
    assert "idx_orders_customer_email" in _index_names(admin.root)
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
    assert "idx_orders_customer_email" in _index_names(admin.root)  # showing changed nothing
    shown = re.search(r'name="shown" value="([0-9a-f]+)"', page)
    assert shown is not None and 'name="csrf"' in page
    # A POST that did not come from the confirmation page runs nothing.
    blind = client.post("/actions/rollback", {"fix_id": record["id"]})
    assert blind.header("Location") == confirm
    assert "Not rolled back" in _notice(client, confirm)
    assert "idx_orders_customer_email" in _index_names(admin.root)
    back = client.post("/actions/rollback", {"fix_id": record["id"], "shown": shown.group(1)})
    assert back.header("Location") == "/history"
    notice = _notice(client, "/history")
    assert notice.startswith(f"ok: Rolled back {record['id']} by its inverse change")
    assert "every row written since the fix is still there" in notice
    assert "idx_orders_customer_email" not in _index_names(admin.root)
    again = client.post("/actions/rollback", {"fix_id": record["id"], "shown": shown.group(1)})
    assert again.status == 303
    assert _notice(client, confirm).startswith("error: refused: ")


def test_rollback_confirmation_names_what_a_restore_would_drop(admin: Running) -> None:
    client = _logged_in(admin)
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
    assert refused.status == 303 and "refused" in _notice(client, f"/rollback?fix_id={fix_id}")
    with sqlite3.connect(admin.root / "shop.db") as conn:
        assert conn.execute("SELECT count(*) FROM user_preferences").fetchone() == (1,)
    conn.close()
    done = client.post(
        "/actions/rollback", {"fix_id": fix_id, "shown": shown.group(1), "restore_backup": "1"}
    )
    assert done.header("Location") == "/history"
    notice = _notice(client, "/history")
    assert "restored the database backup as asked" in notice and "kept in the backup" in notice


def test_code_fix_is_applied_only_as_previewed(admin: Running) -> None:
    client = _logged_in(admin)
    auth = admin.root / "app" / "routes" / "auth.py"
    fp = _issue_fp(admin, "TYPE_MISMATCH", "auth.py")
    fix = json.loads(client.get(f"/api/issue-fixes?fp={fp}").body)["code_fixes"][0]
    stale = client.post(
        "/actions/apply-code", {"fp": fp, "fix_id": fix["id"], "source_hash": "0" * 32}
    )
    assert stale.header("Location") == "/issues"
    assert "changed since this fix was planned: plan again" in _notice(client, "/issues")
    assert "{int(user_id)}" in auth.read_text()
    done = client.post(
        "/actions/apply-code",
        {"fp": fp, "fix_id": fix["id"], "source_hash": fix["source_hash"], "back": "/fix"},
    )
    assert done.header("Location") == "/fix"
    assert _notice(client, "/fix").startswith("ok: [applied] edited app/routes/auth.py")
    assert "{int(user_id)}" not in auth.read_text()
    assert list((admin.root / ".dbheal" / "backups").glob("*/files/app/routes/auth.py"))


def test_queue_all_is_migrate_list(admin: Running) -> None:
    client = _logged_in(admin)
    client.post("/actions/queue-all", {})
    assert re.match(r"ok: \d+ schema fix\(es\) queued\.", _notice(client, "/fix"))
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


def test_settings_show_sources_and_save(admin: Running) -> None:
    client = _logged_in(admin)
    page = client.get("/settings").text
    assert re.search(r"<code>database</code>.*?shop\.db.*?pyproject\.toml", page, re.S)
    assert re.search(r"<code>dialect</code>.*?sqlite.*?>default<", page, re.S)
    pyproject = admin.root / "pyproject.toml"
    before = pyproject.read_text()
    fields = {
        "database": "shop.db",
        "migrations": "migrations",
        "exclude": "make_db.py\nscripts/*",
        "identifier-helpers": "quote_ident",
        "fail-on": "high",
        "severity.SELECT_STAR": "medium",
    }
    saved = client.post("/actions/settings", fields)
    assert saved.status == 303 and saved.header("Location") == "/settings"
    after = pyproject.read_text()
    assert 'fail-on = "high"' in after and 'exclude = ["make_db.py", "scripts/*"]' in after
    assert "# The live database (built by make_db.py" in after  # comments kept
    assert after.startswith(before.split("[tool.dbheal]")[0])  # [project] untouched
    assert admin.app.config.fail_on.value == "high"
    assert admin.app.config.sources["fail-on"] == "pyproject.toml"
    # An invalid value is shown with its reason, and nothing is written.
    refused = client.post("/actions/settings", {**fields, "migrations": "no/such/folder"})
    assert refused.status == 400
    assert "Not saved: migrations folder not found" in refused.text
    assert 'value="no/such/folder"' in refused.text  # what was typed stays in the form
    assert pyproject.read_text() == after
    bad_jobs = client.post("/actions/settings", {**fields, "jobs": "-2"})
    assert "jobs must be a whole number" in bad_jobs.text
    assert pyproject.read_text() == after
