"""Making a fix from the editor: the plan and its target, the dry run and the user's yes, the
writes the watcher must not take for changes, a code fix through the editor.

A schema fix is re-planned on the database as it is now, dry-run, and applied only once the user
said so (window/showMessageRequest); while it writes, the file watcher ignores its writes. A code
fix to an open file goes through the editor (workspace/applyEdit): the buffer is the editor's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from dbheal_lsp.analysis.positions import LineIndex
from dbheal_lsp.codec import from_dict
from dbheal_lsp.fixes import present
from dbheal_lsp.fixes.orchestrator import FixError, FixOutcome, require_queued
from dbheal_lsp.fixes.outcome_json import dry_run_json, outcome_json
from dbheal_lsp.lsp import convert
from dbheal_lsp.lsp.documents import Document
from dbheal_lsp.lsp.folders import Folder, folder_for
from dbheal_lsp.lsp.refresh import schema_changed
from dbheal_lsp.model import CodeFix, Issue, LossyReport, MigrationPlan, VerifyReport

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer

logger = logging.getLogger("dbheal_lsp.lsp")

T = TypeVar("T")
APPLY = "Apply"
CANCEL = "Cancel"


# --- what a command works on ----------------------------------------------------------------------


@dataclass(frozen=True)
class FixTarget:
    """What a schema command works on: a plan, and the issue and document it came from."""

    folder: Folder
    plan: MigrationPlan
    issue: Issue | None = None
    uri: str | None = None
    queue_id: int | None = None
    with_cast_fix: bool = False


def folder_named(server: DbhealServer, payload: Mapping[str, Any]) -> Folder:
    """Return the folder a command's payload names (by "uri" or "folder"), else the first."""
    uri = payload.get("uri") or payload.get("folder")
    if isinstance(uri, str):
        doc = server.documents.get(uri)
        if doc is not None:
            return doc.folder
        fs = to_fs_path(uri)
        if fs is not None:
            return folder_for(server, Path(fs))
    folders = [f for f in server.folders.values() if not f.implicit] or list(
        server.folders.values()
    )
    if not folders:
        raise FixError("no workspace folder is open")
    return folders[0]


def plan_target(server: DbhealServer, payload: Mapping[str, Any]) -> FixTarget:
    """Return the target of a payload that carries its plan (a code action's)."""
    folder = folder_named(server, payload)
    issue = convert.issue_from_data(payload.get("issue"))
    plan_data = payload.get("plan")
    if plan_data is None:
        raise FixError("no migration plan given")
    try:
        plan = from_dict(MigrationPlan, plan_data)
    except (ValueError, TypeError, KeyError) as exc:
        raise FixError(f"not a migration plan: {exc}") from None
    uri = payload.get("uri") if isinstance(payload.get("uri"), str) else None
    return FixTarget(folder, plan, issue, uri, None, bool(payload.get("withCastFix")))


async def queued_target(server: DbhealServer, payload: Mapping[str, Any]) -> FixTarget | None:
    """The queued migration the payload names (or the user picks): its plan, to apply."""
    folder = folder_named(server, payload)
    queue_id = payload.get("queueId", payload.get("id"))
    if queue_id is None:
        entries = await server.run_in(server.background_pool, folder.engine.store.queued)
        if not entries:
            server.message("dbheal: no migration is queued")
            return None
        shown = entries[:5]
        picked = await server.ask_user(
            "dbheal: which queued migration?", [f"{e.id}: {e.title}" for e in shown]
        )
        if picked is None:
            return None
        queue_id = picked.split(":", 1)[0]
    try:
        entry, plan = await server.run_in(
            server.background_pool, folder.engine.queued_plan, int(queue_id)
        )
    except ValueError:
        raise FixError(f"not a queue id: {queue_id!r}") from None
    require_queued(entry)
    return FixTarget(folder, plan, None, None, entry.id, False)


# --- applying a schema fix ------------------------------------------------------------------------


async def apply_migration(server: DbhealServer, target: FixTarget) -> dict[str, Any]:
    """Re-plan the target's migration, dry-run it, ask the user, apply it; then check everything
    of its folder again. Return the command's answer."""
    folder = target.folder
    plan = target.plan
    if target.issue is not None:
        fresh = await server.run_in(
            server.background_pool,
            locked,
            folder.tools_lock,
            folder.engine.replan,
            plan,
            [target.issue],
        )
        if fresh is None:
            server.message(f"dbheal: nothing to apply, the database has it already: {plan.title}")
            await schema_changed(server, folder, trigger="manual")
            return {"applied": False, "message": "not needed any more"}
        plan = fresh
    target = replace(target, plan=plan)
    refused = await _dry_run_and_ask(server, target)
    if refused is not None:
        return refused
    outcome = await _apply_target(server, target)
    kind = lsp.MessageType.Info if outcome.applied else lsp.MessageType.Error
    server.message(f"dbheal: {outcome.message}" + _outcome_detail(outcome), kind)
    await schema_changed(server, folder, trigger="manual")
    return outcome_json(outcome)


async def _dry_run_and_ask(server: DbhealServer, target: FixTarget) -> dict[str, Any] | None:
    """Dry-run the target's plan and ask the user to apply it: None if they said so, else the
    command's answer."""
    folder, plan = target.folder, target.plan
    # A dry run writes (and rolls back): the watcher must not take it for a change.
    dry_writes = [folder.config.database] if folder.config.database is not None else []
    lossy, verify = await while_writing(
        server,
        folder,
        dry_writes,
        locked,
        folder.tools_lock,
        folder.engine.dry_run,
        plan,
        target.issue,
    )
    text = plan_message(plan, lossy, verify, with_cast_fix=target.with_cast_fix)
    logger.info("dbheal: migration plan\n%s", text)
    if not verify.ok or (lossy is not None and not lossy.lossless):
        server.message(
            "dbheal: not applied, its dry run fails.\n\n" + text, lsp.MessageType.Warning
        )
        return {"applied": False, "message": "the dry run fails", **dry_run_json(lossy, verify)}
    answer = await server.ask_user(text, [APPLY, CANCEL], lsp.MessageType.Warning)
    if answer != APPLY:
        server.message(f"dbheal: not applied: {plan.title}")
        return {"applied": False, "message": "cancelled"}
    return None


async def _apply_target(server: DbhealServer, target: FixTarget) -> FixOutcome:
    """Apply the target's plan (and remove the cast it makes redundant, if asked)."""
    folder = target.folder
    doc = server.documents.get(target.uri) if target.uri else None
    buffer_fix: CodeFix | None = None
    then_code: Callable[[], CodeFix | None] | None = None
    if target.with_cast_fix and target.issue is not None:
        if doc is not None:
            # The editor owns an open file: the cast goes through it (undoable, and the
            # buffer never disagrees with the disk), planned now, while the issue shows.
            text = server.workspace.get_text_document(doc.uri).source
            fixes = await server.run_in(
                server.background_pool,
                locked,
                folder.tools_lock,
                folder.engine.code_fixes,
                target.issue,
                text,
            )
            buffer_fix = next((f for f in fixes if f.kind == "remove_cast"), None)
        else:
            then_code = await server.run_in(
                server.background_pool,
                locked,
                folder.tools_lock,
                folder.engine.cast_fix,
                target.issue,
            )
    writes = [p for p in (folder.config.database, folder.config.migrations) if p is not None]
    if then_code is not None and target.issue is not None:
        writes.append(folder.file_of(target.issue.path))
    outcome = await while_writing(server, folder, writes, _apply_job, folder, target, then_code)
    if outcome.applied and buffer_fix is not None and doc is not None:
        applied = await edit_in_editor(server, doc, buffer_fix)
        if applied:
            outcome = replace(outcome, message=f"{outcome.message}; {buffer_fix.title}")
    return outcome


def _apply_job(
    folder: Folder, target: FixTarget, then_code: Callable[[], CodeFix | None] | None
) -> FixOutcome:
    """Apply the plan (background pool); a queued one is marked applied or failed."""
    with folder.tools_lock:
        if target.queue_id is not None:
            return folder.engine.apply_queued(
                target.queue_id, plan_id=target.plan.id, issue=target.issue, then_code=then_code
            )
        return folder.engine.apply_schema(target.plan, issue=target.issue, then_code=then_code)


def _ignore_writes(folder: Folder, paths: Iterable[Path], seconds: float) -> None:
    """Tell the watcher the server is about to write `paths` itself (no re-check loop)."""
    if folder.watcher is not None:
        folder.watcher.ignore_writes(list(paths), seconds=seconds)


async def while_writing(
    server: DbhealServer,
    folder: Folder,
    paths: Sequence[Path],
    func: Callable[..., T],
    *args: Any,
) -> T:
    """Run `func(*args)` in the background pool, the watcher ignoring `paths` all along.

    However long the work takes (a table rebuild may take minutes), the watcher hears of
    none of it, nor of what it delivers a moment after: a fix never triggers a check loop.
    """
    _ignore_writes(folder, paths, 5.0)
    future = asyncio.ensure_future(server.run_in(server.background_pool, func, *args))
    try:
        while not future.done():
            await asyncio.wait({future}, timeout=2.0)
            _ignore_writes(folder, paths, 5.0)
        return future.result()
    finally:
        _ignore_writes(folder, paths, 3.0)


async def edit_in_editor(server: DbhealServer, doc: Document, fix: CodeFix) -> bool:
    """Have the editor make the code fix in its buffer (workspace/applyEdit)."""
    if not server.caps.apply_edit:
        return False
    snapshot = server.workspace.get_text_document(doc.uri)
    edit = convert.code_fix_edit(
        fix, doc.uri, snapshot.version, LineIndex(snapshot.source), server.caps
    )
    result = await server.ask_client(
        server.workspace_apply_edit_async(
            lsp.ApplyWorkspaceEditParams(edit=edit, label=f"dbheal: {fix.title}")
        ),
        "workspace/applyEdit",
    )
    return bool(result and result.applied)


# --- answers and messages -------------------------------------------------------------------------


def locked(lock: threading.Lock, func: Callable[..., T], *args: Any) -> T:
    """Run `func(*args)` holding `lock` (in a pool's thread)."""
    with lock:
        return func(*args)


def _outcome_detail(outcome: FixOutcome) -> str:
    parts = []
    if outcome.migration_file:
        parts.append(f"wrote {outcome.migration_file}")
    failures = outcome.verify.failures()
    if failures:
        parts.append("; ".join(f"{c.name}: {c.detail}" for c in failures))
    return (" (" + "; ".join(parts) + ")") if parts else ""


def plan_message(
    plan: MigrationPlan,
    lossy: LossyReport | None,
    verify: VerifyReport | None,
    *,
    with_cast_fix: bool = False,
) -> str:
    """Return what the user reads before applying `plan`: its SQL and its dry run."""
    out = [plan.title]
    if with_cast_fix:
        out[0] += ", then remove the cast it makes redundant"
    if plan.description:
        out.append(plan.description)
    out += ["", plan.sql, ""]
    if lossy is not None:
        out.append(present.lossy_text(lossy, advice="it will be refused."))
    if verify is not None:
        out += [present.dry_run_status(verify), present.verify_text(verify)]
    return "\n".join(out).rstrip()
