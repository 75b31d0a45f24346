"""The history as `dbheal history` lists it: applied fixes and the runtime wrapper's heals.

The runtime wrapper's heals change the schema as much as a fix does, so they are listed with
the fixes, newest first, as text lines for people or as JSON in the shape of a fix record.
"""

from __future__ import annotations

from dbheal_lsp.codec import to_dict
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.model import VerifyReport
from dbheal_lsp.records import FixRecord, RuntimeEvent


def history_entries(store: StateStore, limit: int) -> list[list[str]]:
    """Return the newest `limit` fixes and the newest `limit` runtime heals, newest first,
    each as its lines of text (the caller shows the first `limit`)."""
    rows = [(r.created_at, record_lines(r)) for r in store.fixes(limit=limit)]
    rows.extend((e.time, [runtime_heal_line(e)]) for e in runtime_heals(store, limit))
    rows.sort(key=lambda row: row[0], reverse=True)
    return [lines for _, lines in rows]


def history_json(store: StateStore, limit: int) -> list[dict[str, object]]:
    """Return the newest `limit` fixes and runtime heals as JSON objects, newest first."""
    data = [record_json(r) for r in store.fixes(limit=limit)]
    data += [runtime_heal_json(e) for e in runtime_heals(store, limit)]
    data.sort(key=lambda d: str(d["created_at"]), reverse=True)
    return data[:limit]


def record_lines(r: FixRecord) -> list[str]:
    """Return a fix of the history as text: id, time, outcome, kind, title; its checks."""
    if r.rollback_of:
        note = f" (undoes {r.rollback_of})"
    elif r.rolled_back_at:
        note = f" (rolled back {r.rolled_back_at})"
    else:
        note = ""
    lines = [f"{r.id}  {r.created_at}  {r.outcome_label:<11} {r.kind:<7} {r.title}{note}"]
    if r.message and r.message != r.title:
        lines.append(f"    {r.message}")
    lines.extend(f"    {'ok  ' if c.ok else 'FAIL'} {c.name}" for c in r.verify.checks)
    return lines


def runtime_heals(store: StateStore, limit: int) -> list[RuntimeEvent]:
    """Return the runtime events that changed the schema (not the errors it only reported)."""
    return [
        e
        for e in store.events(limit=max(limit, 0) * 4)
        if e.outcome.startswith("healed") and e.action not in ("", "none")
    ][: max(limit, 0)]


def runtime_heal_line(e: RuntimeEvent) -> str:
    """Return a runtime heal as one line of the history."""
    where = f"{e.path}:{e.line}" if e.path and e.line else (e.path or "?")
    return f"{_heal_id(e)}  {e.time}  {'healed':<11} {'runtime':<7} {e.action} (at {where})"


def record_json(r: FixRecord) -> dict[str, object]:
    """Return a fix of the history as JSON."""
    return {
        "id": r.id,
        "created_at": r.created_at,
        "kind": r.kind,
        "title": r.title,
        "outcome": r.outcome,
        "message": r.message,
        "issue_fingerprint": r.issue_fingerprint,
        "database": r.database,
        "files": list(r.files),
        "backup_dir": r.backup_dir,
        "verify": to_dict(r.verify),
        "rolled_back_at": r.rolled_back_at,
        "rollback_of": r.rollback_of,
        "plan": r.plan_text,
    }


def runtime_heal_json(e: RuntimeEvent) -> dict[str, object]:
    """Return a runtime heal in the shape of a fix record (kind "runtime", outcome "healed")."""
    return {
        "id": _heal_id(e),
        "created_at": e.time,
        "kind": "runtime",
        "title": e.action,
        "outcome": "healed",
        "message": e.outcome,
        "issue_fingerprint": "",
        "database": None,
        "files": [e.path] if e.path else [],
        "backup_dir": None,
        "verify": to_dict(VerifyReport()),
        "rolled_back_at": None,
        "rollback_of": None,
        "plan": "",
        "error": e.error,
        "statement": e.statement,
        "line": e.line,
    }


def _heal_id(event: RuntimeEvent) -> str:
    return f"runtime-{event.id}"
