"""workspace/executeCommand: queue, apply and roll back fixes, show the history, scan.

Each command takes the server and the command's arguments (a JSON object, or an id) and returns
JSON; how a fix is made from the editor is `fixing.py`'s.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from dbheal_lsp.config import ConfigError
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.fixes.history_view import record_json
from dbheal_lsp.fixes.orchestrator import FixError
from dbheal_lsp.fixes.outcome_json import outcome_json
from dbheal_lsp.fixes.state import StateError
from dbheal_lsp.lsp import convert
from dbheal_lsp.lsp.convert import (
    CMD_APPLY,
    CMD_APPLY_FIX,
    CMD_HISTORY,
    CMD_LIST_QUEUE,
    CMD_QUEUE,
    CMD_ROLLBACK,
    CMD_SCAN,
)
from dbheal_lsp.lsp.documents import request_check
from dbheal_lsp.lsp.fixing import (
    FixTarget,
    apply_migration,
    edit_in_editor,
    folder_named,
    locked,
    plan_target,
    queued_target,
    while_writing,
)
from dbheal_lsp.lsp.refresh import files_changed, schema_changed
from dbheal_lsp.lsp.scan import scan_workspace
from dbheal_lsp.model import Severity
from dbheal_lsp.records import QueueEntry

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer


async def execute(server: DbhealServer, name: str, args: Sequence[Any]) -> Any:
    """Run the command `name`; a FixError or StateError is shown to the user, not raised."""
    run = COMMAND_FUNCTIONS[name]
    try:
        return json_safe(await run(server, args))
    except (FixError, StateError, ConfigError, SchemaError, KeyError) as exc:
        server.message(f"dbheal: {name}: {exc}", lsp.MessageType.Error)
        return {"error": str(exc)}


# --- the migration queue --------------------------------------------------------------------------


async def cmd_queue(server: DbhealServer, args: Sequence[Any]) -> Any:
    """dbheal.queueMigration: queue a plan (no argument: list the queue)."""
    payload = _payload(args)
    if not payload:
        return await cmd_list_queue(server, args)
    target = plan_target(server, payload)
    severity = target.issue.severity if target.issue else Severity.MEDIUM
    entry = await server.run_in(
        server.background_pool,
        locked,
        target.folder.tools_lock,
        target.folder.engine.enqueue,
        target.plan,
        severity,
    )
    server.message(f"dbheal: queued migration {entry.id}: {entry.title}")
    return _entry_json(entry)


async def cmd_list_queue(server: DbhealServer, args: Sequence[Any]) -> Any:
    """dbheal.listQueue: the migrations queued in a folder."""
    payload = _payload(args)
    folder = folder_named(server, payload)
    entries = await server.run_in(server.background_pool, folder.engine.store.queued)
    return [_entry_json(e) for e in entries]


async def cmd_apply(server: DbhealServer, args: Sequence[Any]) -> Any:
    """dbheal.applyMigration: apply a code action's plan or a queued one, once the user agrees."""
    payload = _payload(args)
    if "plan" in payload:
        target: FixTarget | None = plan_target(server, payload)
    else:
        target = await queued_target(server, payload)
    if target is None:
        return {"applied": False, "message": "nothing chosen"}
    return await apply_migration(server, target)


# --- code fixes, history, rollback, scan ----------------------------------------------------------


async def cmd_apply_fix(server: DbhealServer, args: Sequence[Any]) -> Any:
    """dbheal.applyFix: make a code fix, through the editor if the file is open."""
    payload = _payload(args)
    uri = payload.get("uri")
    issue = convert.issue_from_data(payload.get("issue"))
    if not isinstance(uri, str) or issue is None:
        raise FixError("dbheal.applyFix needs {uri, issue[, fix]}")
    folder = folder_named(server, payload)
    doc = server.documents.get(uri)
    wanted = payload.get("fix")
    if doc is not None:
        text = server.workspace.get_text_document(uri).source
        fixes = await server.run_in(
            server.background_pool,
            locked,
            folder.tools_lock,
            folder.engine.code_fixes,
            issue,
            text,
        )
    else:
        fixes = await server.run_in(
            server.background_pool, locked, folder.tools_lock, folder.engine.code_fixes, issue
        )
    fix = next((f for f in fixes if wanted in (None, f.id, f.kind)), None)
    if fix is None:
        server.message(
            "dbheal: this fix no longer applies (the code changed?)", lsp.MessageType.Warning
        )
        return {"applied": False, "message": "no such fix"}
    if doc is not None:
        applied = await edit_in_editor(server, doc, fix)
        return {"applied": applied, "message": fix.title}
    outcome = await while_writing(
        server,
        folder,
        [folder.file_of(fix.path)],
        locked,
        folder.tools_lock,
        folder.engine.apply_code,
        fix,
    )
    server.message(f"dbheal: {outcome.message}")
    await files_changed(server, folder, [folder.file_of(fix.path)])
    return outcome_json(outcome)


async def cmd_rollback(server: DbhealServer, args: Sequence[Any]) -> Any:
    """dbheal.rollback: undo a fix (the one named, or one the user picks)."""
    payload = _payload(args)
    fix_id = payload.get("fixId", payload.get("id"))
    if fix_id is None and args and isinstance(args[0], str):
        fix_id = args[0]
    folder = folder_named(server, payload)
    if fix_id is None:
        records = await server.run_in(server.background_pool, folder.engine.store.fixes, 20)
        candidates = [r for r in records if r.can_roll_back][:5]
        if not candidates:
            server.message("dbheal: no fix can be rolled back")
            return {"rolled_back": False, "message": "nothing to roll back"}
        picked = await server.ask_user(
            "dbheal: roll back which fix?",
            [f"{r.id}: {r.title}" for r in candidates],
            lsp.MessageType.Warning,
        )
        if picked is None:
            return {"rolled_back": False, "message": "cancelled"}
        fix_id = picked.split(":", 1)[0]
    record = await server.run_in(server.background_pool, folder.engine.store.fix, str(fix_id))
    writes = [folder.file_of(f) for f in record.files] if record is not None else []
    if folder.config.database is not None:
        writes.append(folder.config.database)
    done = await while_writing(
        server, folder, writes, locked, folder.tools_lock, folder.engine.rollback, str(fix_id)
    )
    server.message(f"dbheal: rolled back fix {fix_id}: {done.message or done.title}")
    await schema_changed(server, folder, trigger="manual")
    return record_json(done)


async def cmd_history(server: DbhealServer, args: Sequence[Any]) -> Any:
    """dbheal.showHistory: the fixes recorded (shown, unless `silent`)."""
    payload = _payload(args)
    limit = payload.get("limit", 50)
    folders = (
        [folder_named(server, payload)]
        if payload.get("uri") or payload.get("folder")
        else [f for f in server.folders.values() if not f.implicit]
    )
    out: list[dict[str, Any]] = []
    for folder in folders:
        records = await server.run_in(server.background_pool, folder.engine.store.fixes, int(limit))
        out.extend({"folder": str(folder.root), **record_json(r)} for r in records)
    if payload.get("silent") is not True:
        if not out:
            server.message("dbheal: no fixes recorded yet")
        else:
            lines = [
                f"{r['id']}  {r['created_at'][:19]}  {r['outcome']}  {r['kind']}  {r['title']}"
                for r in out[:10]
            ]
            server.message("dbheal history:\n" + "\n".join(lines))
    return out


async def cmd_scan(server: DbhealServer, args: Sequence[Any]) -> Any:
    """dbheal.scanWorkspace: scan every folder now, check the open documents again."""
    summary = await scan_workspace(server, "manual", progress=True)
    for doc in list(server.documents.values()):
        if doc.kind != "other" and not server.caps.pull_diagnostics:
            request_check(server, doc, 0.0)
    return summary


# Each command and the function that runs it.
COMMAND_FUNCTIONS: Mapping[str, Callable[[DbhealServer, Sequence[Any]], Awaitable[Any]]] = (
    MappingProxyType(
        {
            CMD_SCAN: cmd_scan,
            CMD_QUEUE: cmd_queue,
            CMD_APPLY: cmd_apply,
            CMD_APPLY_FIX: cmd_apply_fix,
            CMD_ROLLBACK: cmd_rollback,
            CMD_HISTORY: cmd_history,
            CMD_LIST_QUEUE: cmd_list_queue,
        }
    )
)


# --- arguments and answers ------------------------------------------------------------------------


def _payload(args: Sequence[Any]) -> dict[str, Any]:
    if args and isinstance(args[0], Mapping):
        return {str(k): v for k, v in args[0].items()}
    if args and isinstance(args[0], (int, str)):
        return {"id": args[0]}
    return {}


def _entry_json(entry: QueueEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "plan_id": entry.plan_id,
        "kind": entry.kind,
        "title": entry.title,
        "severity": entry.severity.value,
        "status": entry.status,
        "created_at": entry.created_at,
        "database": entry.database,
    }


def json_safe(value: object) -> Any:
    """Return `value` as plain JSON data (what a command returns to the client)."""
    return json.loads(json.dumps(value, default=str))
