"""Fixes applied and recorded for real in a project folder, for the rollback and prune tests."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from dbheal_lsp.codec import to_json
from dbheal_lsp.databases.sqlite.fingerprint import remember_after_fix
from dbheal_lsp.fixes.fix_backups import backup_fix
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.model import MigrationPlan, PlanStep
from dbheal_lsp.records import FixRecord, utc_now


def checksum(db: Path) -> str:
    conn = sqlite3.connect(db)
    digest = hashlib.sha256()
    for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ):
        digest.update(repr((name, sql)).encode())
        if str(sql).startswith("CREATE TABLE"):
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
                digest.update(repr(row).encode())
    conn.close()
    return digest.hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    conn = sqlite3.connect(root / "app.sqlite")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, age TEXT)")
    conn.executemany(
        "INSERT INTO users (email, age) VALUES (?, ?)", [(f"u{n}@x.org", str(n)) for n in range(50)]
    )
    conn.commit()
    conn.close()
    (root / "app" / "models.py").write_bytes(
        b"def load(db, uid):\r\n"
        b"    return db.execute(f'SELECT * FROM users WHERE id = {int(uid)}')\r\n"
    )
    (root / "app" / "views.py").write_text("import models  # é\n", encoding="utf-8")
    return root


def apply_schema_fix(store: StateStore, root: Path, sql: str, **fields: Any) -> FixRecord:
    """What the orchestrator does for a schema fix: back up, run, remember the database as
    the fix left it, record the plan."""
    fix_id = store.new_fix_id()
    saved = backup_fix(root, fix_id, database="app.sqlite")
    conn = sqlite3.connect(root / "app.sqlite")
    conn.executescript(sql)
    conn.close()
    remember_after_fix(root / "app.sqlite", root / saved.backup_dir)
    plan = MigrationPlan(
        id=f"plan:{fix_id}",
        kind="schema",
        title=sql,
        description="",
        table="users",
        steps=tuple(PlanStep(s.strip()) for s in sql.split(";") if s.strip()),
        expected="",
    )
    return store.record_fix(
        FixRecord(
            id=fix_id,
            created_at=fields.pop("created_at", utc_now()),
            kind="schema",
            title=fields.pop("title", sql),
            issue_fingerprint=fields.pop("issue_fingerprint", "fp"),
            plan_id=f"plan:{fix_id}",
            plan_text=sql,
            plan_json=fields.pop("plan_json", to_json(plan)),
            database="app.sqlite",
            backup_dir=saved.backup_dir,
            **fields,
        )
    )


def apply_code_fix(
    store: StateStore, root: Path, changes: dict[str, bytes | None], **fields: Any
) -> FixRecord:
    """What the executor does for a code fix: back up the files, write them, record."""
    fix_id = store.new_fix_id()
    files: Sequence[str] = list(changes)
    saved = backup_fix(root, fix_id, files=files)
    for rel, data in changes.items():
        if data is None:
            (root / rel).unlink()
        else:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
    return store.record_fix(
        FixRecord(
            id=fix_id,
            created_at=fields.pop("created_at", utc_now()),
            kind="code",
            title=fields.pop("title", "code fix"),
            issue_fingerprint="fp-code",
            files=tuple(files),
            backup_dir=saved.backup_dir,
            **fields,
        )
    )


# --- dependents and rollback -----------------------------------------------------------------
