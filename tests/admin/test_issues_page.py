"""The Issues and Manual Fix pages over HTTP: filters, per-issue previews, code fixes applied
only as previewed, and the queue the CLI sees."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from .conftest import Running, issue_fp, logged_in, notice_for


def test_issues_filter_and_sort(admin: Running) -> None:
    client = logged_in(admin)
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
