"""The rollback confirmation page over HTTP: what a rollback or a restore would drop, shown
before anything runs (the History page's flow is in test_routes.py)."""

from __future__ import annotations

import re
import sqlite3

from dbheal_lsp.fixes.heal import heal_items

from .conftest import Running, logged_in, notice_for


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
