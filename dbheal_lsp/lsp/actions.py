"""Code actions: the quick fixes of the issues under the cursor, and "fix all" (resolved late).

What the actions are made of comes from the fix engine on the folder's `tools_project` (cached
per text and issue); `convert.quickfixes` turns them into CodeActions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from dbheal_lsp.analysis.positions import LineIndex
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.files import text_hash
from dbheal_lsp.fixes.orchestrator import FixError
from dbheal_lsp.fixes.overlap import non_overlapping
from dbheal_lsp.lsp import convert
from dbheal_lsp.lsp.convert import FIX_ALL_KIND
from dbheal_lsp.lsp.documents import Document, analysed
from dbheal_lsp.model import CodeFix, Issue, IssueType, MigrationPlan

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer

logger = logging.getLogger("dbheal_lsp.lsp")

# Code fixes that "fix all" applies: a rename guesses at a typo, a person confirms it.
SAFE_CODE_FIXES = frozenset({"remove_cast", "parameterize"})
_ISSUE_CODES = frozenset(t.value for t in IssueType)


async def code_actions(
    server: DbhealServer, params: lsp.CodeActionParams
) -> list[lsp.CodeAction | lsp.Command] | None:
    """Return the quick fixes of the issues in the range, and "fix all" if asked for."""
    uri = params.text_document.uri
    doc = server.documents.get(uri)
    if doc is None or doc.kind == "other":
        return None
    only = params.context.only
    want_quickfix = _wants(only, lsp.CodeActionKind.QuickFix.value)
    want_fix_all = only is not None and _wants(only, FIX_ALL_KIND)
    snapshot = server.workspace.get_text_document(uri)
    text, version = snapshot.source, snapshot.version
    issues = await _issues_of(server, doc, params.range, params.context.diagnostics)
    actions: list[lsp.CodeAction | lsp.Command] = []
    if want_quickfix and issues:
        found = await server.run_in(
            server.interactive_pool, _fixes_for, doc, text, [i for i, _ in issues]
        )
        lines = LineIndex(text)
        for (issue, diagnostic), (fixes, plans) in zip(issues, found, strict=True):
            actions.extend(
                convert.quickfixes(
                    issue, diagnostic, fixes, plans, doc.uri, version, lines, server.caps
                )
            )
    if want_fix_all and doc.kind == "source" and _may_fix_all(doc):
        action = convert.fix_all_action(uri, version)
        if not server.caps.resolve_edit:
            action = await resolve_code_action(server, action)
        actions.append(action)
    if not server.caps.code_action_literals:
        return [a.command for a in actions if isinstance(a, lsp.CodeAction) and a.command]
    return actions


async def _issues_of(
    server: DbhealServer,
    doc: Document,
    range_: lsp.Range,
    diagnostics: Sequence[lsp.Diagnostic],
) -> list[tuple[Issue, lsp.Diagnostic]]:
    """Return the issues the code action request is about, each with its diagnostic.

    A diagnostic's `data` names its issue. Clients need not keep `data` (ALE and Kate drop
    it, Kate the `source` too), and some send no diagnostics at all when the cursor is on
    the token: then the issues are found again in the document's current analysis, by
    code and range, or by the requested range alone.
    """
    out: list[tuple[Issue, lsp.Diagnostic]] = []
    missing: list[lsp.Diagnostic] = []
    for diagnostic in diagnostics:
        if diagnostic.source not in (convert.SOURCE, None):
            continue
        issue = convert.issue_from_data(diagnostic.data)
        if issue is not None:
            out.append((issue, diagnostic))
        elif isinstance(diagnostic.code, str) and diagnostic.code in _ISSUE_CODES:
            missing.append(diagnostic)
    if out or (diagnostics and not missing):
        return out
    result = await analysed(server, doc)
    if result is None:
        return out
    pairs = list(zip(result.issues, result.diagnostics, strict=True))
    if missing:
        for diagnostic in missing:
            same = [
                (i, d)
                for i, d in pairs
                if d.code == diagnostic.code and _touches(d.range, diagnostic.range)
            ]
            # The same message first: two issues of one type may share a range.
            same.sort(key=lambda p: p[1].message != diagnostic.message)
            if same:
                out.append((same[0][0], diagnostic))
        return out
    return [(i, d) for i, d in pairs if _touches(d.range, range_)]


def _fixes_for(
    doc: Document, text: str, issues: Sequence[Issue]
) -> list[tuple[tuple[CodeFix, ...], tuple[MigrationPlan, ...]]]:
    """Return each issue's code fixes and schema plans (interactive pool)."""
    folder = doc.folder
    digest = text_hash(text)
    out = []
    with folder.tools_lock:
        for issue in issues:
            key = (digest, issue.fingerprint)
            fixes = doc.fix_cache.get(key)
            if fixes is None:
                fixes = folder.engine.code_fixes(issue, text) if doc.kind == "source" else ()
                doc.fix_cache[key] = fixes
            plan_key = (issue.path, issue.fingerprint)
            plans = folder.plan_cache.get(plan_key)
            if plans is None:
                try:
                    plans = folder.engine.schema_plans(issue)
                except (SchemaError, FixError, OSError) as exc:
                    logger.info("dbheal: no schema fix for %s: %s", issue.fingerprint, exc)
                    plans = ()
                folder.plan_cache[plan_key] = plans
            out.append((fixes, plans))
    return out


def _may_fix_all(doc: Document) -> bool:
    """Whether the document has issues a safe code fix may exist for (cheap guess)."""
    issues = doc.result.issues if doc.result is not None else ()
    return (
        any(
            i.call_span is not None
            and (
                i.type is IssueType.SQL_INJECTION
                or (i.type is IssueType.TYPE_MISMATCH and i.helper)
            )
            for i in issues
        )
        or doc.result is None
    )


async def resolve_code_action(server: DbhealServer, action: lsp.CodeAction) -> lsp.CodeAction:
    """Give "fix all" its edit: every safe code fix of the document that overlaps no other."""
    data = action.data if isinstance(action.data, Mapping) else {}
    uri = data.get("fixAll")
    doc = server.documents.get(uri) if isinstance(uri, str) else None
    if doc is None or action.edit is not None:
        return action
    result = await analysed(server, doc)
    if result is None:
        return action
    snapshot = server.workspace.get_text_document(doc.uri)
    text, version = snapshot.source, snapshot.version
    found = await server.run_in(server.interactive_pool, _fixes_for, doc, text, list(result.issues))
    chosen = non_overlapping(
        fix for fixes, _ in found for fix in fixes if fix.kind in SAFE_CODE_FIXES
    )
    lines = LineIndex(text)
    edits = convert.text_edits([e for f in chosen for e in f.edits], lines, server.caps.encoding)
    action.edit = convert.merged_edit(doc.uri, version, edits, server.caps)
    return action


def _touches(a: lsp.Range, b: lsp.Range) -> bool:
    """Whether two ranges overlap or touch (a cursor at either end of a range touches it)."""

    def key(p: lsp.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _wants(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a code action of `kind` was asked for (`only` lists kinds and their parents)."""
    if only is None:
        return True
    return any(kind == str(k) or kind.startswith(str(k) + ".") or str(k) == "" for k in only)
