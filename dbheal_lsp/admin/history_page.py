"""The History page (every fix applied, refused or rolled back, with its verification report)
and the confirmation page of a rollback."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from dbheal_lsp.records import FixRecord

from .app import RollbackPreview
from .html import Child, Markup, el
from .layout import Frame, card, code_block, empty, layout, post_form, table, when

__all__ = ["history_page", "rollback_page"]


def history_page(frame: Frame, records: Sequence[FixRecord]) -> Markup:
    """The fix history, newest first as `records` come."""
    if not records:
        body: Child = empty("No fixes recorded yet.")
    else:
        headers = ("Fix", "When", "Outcome", "Kind", "What", "Files", "")
        body = table(headers, [_fix_body(r) for r in records], cls="history")
    return layout(
        frame,
        title="History",
        path="/history",
        body=body,
        subtitle="Every fix applied, refused or rolled back, with its verification report. A rollback undoes a fix by its inverse change and keeps the rows written since; it says what it will do before it runs.",
    )


def _fix_body(record: FixRecord) -> Markup:
    return el(
        "tbody", {"class": "fix", "data-fix": record.id}, _fix_row(record), _fix_detail(record)
    )


def _fix_row(record: FixRecord) -> Markup:
    """What, when and with what outcome; the files it changed; a rollback when it can be."""
    outcome = record.outcome_label  # as `dbheal history` says it
    what = [el("div", {"class": "title"}, record.title)]
    if record.message and record.message != record.title:
        what.append(el("div", {"class": "muted"}, record.message))
    if record.rollback_of:
        what.append(el("div", {"class": "muted"}, f"undoes {record.rollback_of}"))
    if record.rolled_back_at:
        what.append(el("div", {"class": "muted"}, f"rolled back {when(record.rolled_back_at)}"))
    action: Child = None
    if record.can_roll_back:
        # A link to the confirmation page, which says what the rollback will do first.
        action = el(
            "a",
            {"class": "button danger", "href": "/rollback?" + urlencode({"fix_id": record.id})},
            "Roll back…",
        )
    files = [record.database] if record.database else []
    files.extend(f for f in record.files if f not in files)
    outcome_class = (
        "outcome outcome-rollback" if record.rollback_of else f"outcome outcome-{record.outcome}"
    )
    return el(
        "tr",
        {"class": "fix-row"},
        el("td", {"class": "nowrap"}, el("code", None, record.id)),
        el("td", {"class": "nowrap"}, when(record.created_at)),
        el("td", None, el("span", {"class": outcome_class}, outcome)),
        el("td", None, record.kind),
        el("td", None, what),
        el("td", {"class": "file"}, [el("div", None, f) for f in files]),
        el("td", {"class": "actions"}, action),
    )


def _fix_detail(record: FixRecord) -> Markup:
    """The verification report and the plan that ran."""
    checks = record.verify.checks
    verification = (
        el(
            "ul",
            {"class": "checks"},
            [
                el(
                    "li",
                    {"class": "ok" if c.ok else "fail"},
                    el("span", {"class": "check-mark"}, "ok" if c.ok else "FAIL"),
                    el("span", {"class": "check-name"}, c.name),
                    f": {c.detail}" if c.detail else "",
                )
                for c in checks
            ],
        )
        if checks
        else el("p", {"class": "muted small"}, "No verification report.")
    )
    plan_kind = "sql" if record.kind == "schema" else "diff"
    return el(
        "tr",
        {"class": "fix-detail"},
        el(
            "td",
            {"colspan": "7"},
            el(
                "div",
                {"class": "verify"},
                el("span", {"class": "label"}, "Verification"),
                verification,
            ),
            el(
                "details",
                None,
                el("summary", None, "Plan"),
                code_block(record.plan_text, plan_kind),
            )
            if record.plan_text
            else None,
        ),
    )


def rollback_page(frame: Frame, preview: RollbackPreview) -> Markup:
    """The confirmation step of a rollback: what it will do (the inverse SQL, or the restore
    and what it drops), then the POST that runs exactly that."""
    back = el("a", {"class": "button link", "href": "/history"}, "Back to History")
    parts = _refusal(preview, back) if preview.refusal else _confirmation(frame, preview, back)
    return layout(
        frame,
        title=f"Roll back {preview.fix_id}",
        path="/history",
        body=card(preview.title, parts, cls="rollback-confirm"),
        subtitle="Nothing has changed yet: this is what the rollback will do.",
    )


def _refusal(preview: RollbackPreview, back: Markup) -> list[Child]:
    """Why the rollback cannot run, and the restore of the backup when that can."""
    parts: list[Child] = [el("div", {"class": "notice error", "role": "status"}, preview.refusal)]
    if preview.can_restore and not preview.restore_backup:
        restore = "/rollback?" + urlencode({"fix_id": preview.fix_id, "restore": "1"})
        parts.append(
            el(
                "p",
                None,
                "Restoring the database file as it was before the fix undoes it anyway, "
                "and drops what was written since. ",
                el("a", {"href": restore}, "See what restoring the backup would drop"),
            )
        )
    parts.append(el("p", None, back))
    return parts


def _confirmation(frame: Frame, preview: RollbackPreview, back: Markup) -> list[Child]:
    """What the rollback will do, and the button that does exactly that (`shown`)."""
    fields = {"fix_id": preview.fix_id, "shown": preview.digest}
    parts: list[Child] = []
    if preview.restore_backup:
        fields["restore_backup"] = "1"
        warning = (
            f"This restores the whole database file: {preview.losses}. What is lost is "
            "kept in the rollback's own backup."
            if preview.losses
            else "This restores the whole database file; nothing was written since the fix."
        )
        parts.append(el("p", {"class": "rollback-warning"}, warning))
    parts.append(code_block(preview.text, "sql"))
    label = "Restore the backup" if preview.restore_backup else "Roll back"
    parts.append(
        el("p", None, post_form(frame, "/actions/rollback", label, fields, kind="danger"), back)
    )
    return parts
