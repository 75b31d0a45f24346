"""The admin's routes: the page, JSON answer or action of each path, over `AdminApp`.

A route runs once `http.AdminHandler` has checked its request (Host, session; for a POST, the
Origin and the CSRF token too). GET routes show a page or answer JSON and change nothing; POST
routes are the actions: each leaves a notice in the session and sends the browser back to a
page, never to a URL taken from the request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .app import CODE_FIX_TYPES, NotFound, Notice
from .dashboard_page import dashboard_page
from .history_page import history_page, rollback_page
from .issue_query import IssueQuery, excerpt, select_issues
from .issues_page import fix_page, issues_page
from .layout import Frame
from .settings import effective_rows
from .settings_page import settings_page

if TYPE_CHECKING:
    from .http import AdminHandler, Session

    Route = Callable[[AdminHandler, Session, dict[str, str]], None]

__all__ = ["BACK", "GET_ROUTES", "POST_ROUTES"]

# Where an action may send the browser back to (never a URL taken from the request).
BACK: Mapping[str, str] = MappingProxyType(
    {"/": "/", "/issues": "/issues", "/fix": "/fix", "/history": "/history"}
)


def _frame(handler: AdminHandler, session: Session) -> Frame:
    """The page frame, taking the session's unseen notices."""
    app = handler.server.app
    notices, session.notices = session.notices, []
    database = app.config.database
    return Frame(
        project=app.root.name,
        root=str(app.root),
        database=app.config.relative(database) if database else "no database",
        csrf=session.csrf,
        notices=notices,
    )


# --- pages and JSON (GET) -----------------------------------------------------------------------


def page_dashboard(handler: AdminHandler, session: Session, params: dict[str, str]) -> None:
    """GET /: the Dashboard."""
    data = handler.server.app.dashboard()
    handler.send_html(dashboard_page(_frame(handler, session), data))


def page_issues(handler: AdminHandler, session: Session, params: dict[str, str]) -> None:
    """GET /issues: the issues the query selects, with the code around each."""
    app = handler.server.app
    query = IssueQuery.from_params(params)
    with app.locked():
        result = app.result()
        shown = select_issues(result.issues, query)
        cache: dict[str, list[str] | None] = {}
        excerpts = {i.fingerprint: excerpt(i, app.root, cache) for i in shown}
        error = app.scan_error
    frame = _frame(handler, session)
    handler.send_html(issues_page(frame, result, query, shown, excerpts, error))


def page_history(handler: AdminHandler, session: Session, params: dict[str, str]) -> None:
    """GET /history: the fix history."""
    records = handler.server.app.history()
    handler.send_html(history_page(_frame(handler, session), records))


def page_rollback(handler: AdminHandler, session: Session, params: dict[str, str]) -> None:
    """GET /rollback: what rolling back a fix (or restoring its backup) would do."""
    app = handler.server.app
    try:
        preview = app.rollback_preview(params.get("fix_id", ""), params.get("restore") == "1")
    except NotFound as exc:
        session.notices.append(Notice(False, str(exc)))
        handler.send_redirect("/history")
        return
    handler.send_html(rollback_page(_frame(handler, session), preview))


def page_settings(handler: AdminHandler, session: Session, params: dict[str, str]) -> None:
    """GET /settings: the effective configuration and the form of [tool.dbheal]."""
    app = handler.server.app
    with app.locked():
        rows = effective_rows(app.config)
        fields = app.settings_form()
    handler.send_html(settings_page(_frame(handler, session), rows, fields))


def page_fix(handler: AdminHandler, session: Session, params: dict[str, str]) -> None:
    """GET /fix: Manual Fix; `entry` is the queued migration whose plan opens at once."""
    app = handler.server.app
    entry = params.get("entry", "")
    with app.locked():
        result = app.result()
        scans = app.store.scans(limit=1)
        queued = app.store.queued()
        candidates = [i for i in result.issues if i.type in CODE_FIX_TYPES]
    page = fix_page(
        _frame(handler, session),
        scans[0] if scans else None,
        queued,
        candidates,
        int(entry) if entry.isdigit() else None,
    )
    handler.send_html(page)


def api_issue_fixes(handler: AdminHandler, session: Session, params: dict[str, str]) -> None:
    """GET /api/issue-fixes: the fixes of the issue `fp`, planned and dry-run now."""
    try:
        handler.send_json(handler.server.app.issue_fixes(params.get("fp", "")))
    except NotFound as exc:
        handler.send_json({"error": str(exc)}, HTTPStatus.NOT_FOUND)


def api_plan(handler: AdminHandler, session: Session, params: dict[str, str]) -> None:
    """GET /api/plan: the plan and dry run of the queued migration `entry`."""
    entry = params.get("entry", "")
    try:
        if not entry.isdigit():
            raise NotFound("no such queued migration")
        handler.send_json(handler.server.app.entry_plan(int(entry)))
    except NotFound as exc:
        handler.send_json({"error": str(exc)}, HTTPStatus.NOT_FOUND)


# --- actions (POST) -----------------------------------------------------------------------------


def _done(handler: AdminHandler, session: Session, notice: Notice, back: str) -> None:
    session.notices.append(notice)
    handler.send_redirect(back)


def _back(form: Mapping[str, str], default: str) -> str:
    return BACK.get(form.get("back", ""), default)


def act_scan(handler: AdminHandler, session: Session, form: dict[str, str]) -> None:
    """POST /actions/scan: scan the project now."""
    _done(handler, session, handler.server.app.scan(), _back(form, "/"))


def act_queue(handler: AdminHandler, session: Session, form: dict[str, str]) -> None:
    """POST /actions/queue: queue the schema fix `plan_id` of the issue `fp`."""
    notice, entry = handler.server.app.queue(form.get("fp", ""), form.get("plan_id", ""))
    _done(handler, session, notice, f"/fix?entry={entry}" if entry is not None else "/issues")


def act_queue_all(handler: AdminHandler, session: Session, form: dict[str, str]) -> None:
    """POST /actions/queue-all: queue the schema fixes of all issues."""
    _done(handler, session, handler.server.app.queue_all(), "/fix")


def act_apply_migration(handler: AdminHandler, session: Session, form: dict[str, str]) -> None:
    """POST /actions/apply-migration: apply the queued `entry` if its plan is `plan_id`."""
    entry = form.get("entry", "")
    if not entry.isdigit():
        _done(handler, session, Notice(False, "No migration given."), "/fix")
        return
    notice = handler.server.app.apply_migration(
        int(entry), form.get("plan_id", ""), form.get("on_lossy", "refuse")
    )
    _done(handler, session, notice, "/fix")


def act_apply_code(handler: AdminHandler, session: Session, form: dict[str, str]) -> None:
    """POST /actions/apply-code: apply the code fix `fix_id` if the file is as previewed."""
    notice = handler.server.app.apply_code(
        form.get("fp", ""), form.get("fix_id", ""), form.get("source_hash", "")
    )
    _done(handler, session, notice, _back(form, "/issues"))


def act_rollback(handler: AdminHandler, session: Session, form: dict[str, str]) -> None:
    """POST /actions/rollback: roll back `fix_id` as its confirmation page showed (`shown`)."""
    fix_id = form.get("fix_id", "")
    notice = handler.server.app.rollback(
        fix_id, form.get("restore_backup") == "1", form.get("shown", "")
    )
    # Not run: back to the confirmation page, which shows what it would do now.
    back = "/history" if notice.ok else "/rollback?" + urlencode({"fix_id": fix_id})
    _done(handler, session, notice, back)


def act_settings(handler: AdminHandler, session: Session, form: dict[str, str]) -> None:
    """POST /actions/settings: write [tool.dbheal], or show the form again with the reason."""
    app = handler.server.app
    notice = app.save_settings(form)
    if notice.ok:
        _done(handler, session, notice, "/settings")
        return
    # Shown again with what was typed, and the reason it was not saved.
    session.notices.append(notice)
    with app.locked():
        rows = effective_rows(app.config)
    fields = {k: v for k, v in form.items() if k != "csrf"}
    page = settings_page(_frame(handler, session), rows, fields)
    handler.send_html(page, HTTPStatus.BAD_REQUEST)


GET_ROUTES: Mapping[str, Route] = MappingProxyType(
    {
        "/": page_dashboard,
        "/issues": page_issues,
        "/history": page_history,
        "/rollback": page_rollback,
        "/settings": page_settings,
        "/fix": page_fix,
        "/api/issue-fixes": api_issue_fixes,
        "/api/plan": api_plan,
    }
)
POST_ROUTES: Mapping[str, Route] = MappingProxyType(
    {
        "/actions/scan": act_scan,
        "/actions/queue": act_queue,
        "/actions/queue-all": act_queue_all,
        "/actions/apply-migration": act_apply_migration,
        "/actions/apply-code": act_apply_code,
        "/actions/rollback": act_rollback,
        "/actions/settings": act_settings,
    }
)
