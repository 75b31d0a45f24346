"""The admin end to end, in headless Chromium: Debian's `chromium` package driven by Playwright's
Python API (no browser download: `pip install playwright` only).

Without /usr/bin/chromium (or Playwright) the test is skipped — except under CI (the CI
variable set), where it fails: CI installs chromium (.ci/run).
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import copy_shop

from .conftest import EVIL_FILE, EVIL_SOURCE, EVIL_SQL, serve_cli

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Dialog, Page

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",  # as root the sandbox cannot start; the test visits only its own server
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def _require_browser() -> None:
    missing = None
    if not CHROMIUM.exists():
        missing = f"Debian's chromium is not installed ({CHROMIUM})"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install playwright)"
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{missing}: CI must install it (see .ci/run)")
    pytest.skip(missing)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A page of a fresh headless Chromium with a profile of its own."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": 1360, "height": 900},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            context.close()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _indexes(root: Path) -> set[str]:
    with sqlite3.connect(root / "shop.db") as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_every_page_and_a_migration_applied_and_rolled_back(page: Page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    root = copy_shop(tmp_path)
    (root / "app" / EVIL_FILE).write_text(EVIL_SOURCE, encoding="utf-8")
    problems: list[str] = []

    def on_dialog(dialog: Dialog) -> None:  # alert(1) would land here
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        # A Content-Security-Policy violation is reported on the console as an error.
        if message.type == "error":
            problems.append(f"console: {message.text}")

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    for served in serve_cli(root):
        # The token opens a session; the URL loses it.
        page.goto(served.url)
        assert page.url == f"{served.base}/"
        expect(page.locator("h1")).to_have_text("Dashboard")
        expect(page.locator(".stat-total .stat-num")).to_have_text("27")  # 26 + the evil file
        expect(page.locator(".stat-critical .stat-num")).to_have_text("13")
        expect(page.locator("svg.chart")).to_be_visible()

        # Issues: filter, sort, and the evil file shown as text.
        page.get_by_role("link", name="Issues", exact=True).click()
        expect(page.locator("h1")).to_have_text("Issues")
        expect(page.locator("tbody.issue")).to_have_count(27)
        page.select_option("select[name=severity]", "critical")  # applies at once
        page.wait_for_url("**/issues?severity=critical*")
        expect(page.locator("tbody.issue")).to_have_count(13)
        page.locator("th a.sort", has_text="File").click()
        page.wait_for_url("**sort=file*")
        files = [f.rsplit(":", 2)[0] for f in page.locator("tbody.issue td.file").all_inner_texts()]
        assert files == sorted(files) and len(set(files)) > 1
        evil_row = page.locator("tbody.issue", has_text=EVIL_FILE)
        expect(evil_row).to_have_count(1)
        expect(evil_row.locator("pre.excerpt")).to_contain_text(EVIL_SQL)
        assert page.locator("main img").count() == 0
        assert page.locator("script").count() == 2  # app.js and its JSON data, nothing else
        evil_row.get_by_role("button", name="Show fixes").click()
        expect(evil_row.locator(".preview")).not_to_contain_text("Planning")

        # A code fix's preview: its diff.
        page.goto(f"{served.base}/issues?type=TYPE_MISMATCH&file=app/routes/auth.py")
        page.get_by_role("button", name="Show fixes").click()
        expect(page.locator("pre.diff")).to_contain_text("(user_id,)")
        expect(page.get_by_role("button", name="Apply code fix")).to_be_visible()

        # A schema fix's preview: SQL and dry run; queue it.
        page.goto(f"{served.base}/issues?type=MISSING_INDEX")
        page.get_by_role("button", name="Show fixes").click()
        fix = page.locator(".schema-fix")
        expect(fix.locator("pre.sql")).to_contain_text('CREATE INDEX "idx_orders_customer_email"')
        expect(fix.locator(".dry-status")).to_have_text("Dry run: would succeed")
        fix.get_by_role("button", name="Queue this migration").click()

        # Manual Fix: the queued migration's plan opens; apply it.
        page.wait_for_url("**/fix?entry=*")
        expect(page.locator(".notice.ok")).to_contain_text("Queued migration")
        plan = page.locator("tr.detail:not([hidden]) .schema-fix")
        expect(plan.locator("pre.sql")).to_contain_text("idx_orders_customer_email")
        expect(plan.locator(".dry-status")).to_have_text("Dry run: would succeed")
        assert "idx_orders_customer_email" not in _indexes(root)
        plan.get_by_role("button", name="Apply migration").click()
        expect(page.locator(".notice.ok")).to_contain_text(
            "[applied] applied: Create index idx_orders_customer_email"
        )
        expect(page.locator(".notice.ok pre")).to_contain_text("ok   index used")
        assert "idx_orders_customer_email" in _indexes(root)

        # History: the fix with its verification; roll it back.
        page.get_by_role("link", name="History", exact=True).click()
        record = page.locator("tbody.fix", has_text="Create index idx_orders_customer_email")
        expect(record.locator(".outcome")).to_have_text("applied")
        expect(record.locator(".checks")).to_contain_text("index used")
        # Roll back asks first: a confirmation page with the inverse SQL, nothing changed yet.
        record.get_by_role("link", name="Roll back…").click()
        page.wait_for_url("**/rollback?fix_id=*")
        expect(page.locator(".rollback-confirm pre.sql")).to_contain_text(
            'DROP INDEX "idx_orders_customer_email"'
        )
        assert "idx_orders_customer_email" in _indexes(root)
        page.get_by_role("button", name="Roll back").click()
        page.wait_for_url("**/history")
        expect(page.locator(".notice.ok")).to_contain_text("Rolled back")
        expect(page.locator(".notice.ok")).to_contain_text("every row written since the fix")
        # Labelled as `dbheal history` labels them: the rollback, and the fix it undid.
        expect(page.locator("tbody.fix .outcome", has_text="rolled back")).to_have_count(1)
        expect(page.locator("tbody.fix .outcome", has_text="undone")).to_have_count(1)
        assert "idx_orders_customer_email" not in _indexes(root)

        # Settings: the sources, and a change written to pyproject.toml.
        page.get_by_role("link", name="Settings", exact=True).click()
        expect(page.locator("table.settings")).to_contain_text("pyproject.toml")
        page.select_option("select[name=fail-on]", "high")
        page.get_by_role("button", name="Save to pyproject.toml").click()
        expect(page.locator(".notice.ok")).to_contain_text("Saved [tool.dbheal]")
        assert 'fail-on = "high"' in (root / "pyproject.toml").read_text()

        # Manual Fix: a scan now.
        page.get_by_role("link", name="Manual Fix", exact=True).click()
        page.get_by_role("button", name="Run a scan now").click()
        expect(page.locator(".notice.ok")).to_contain_text("Scanned in")

        # The dashboard, with the chart of every scan so far.
        page.get_by_role("link", name="Dashboard", exact=True).click()
        expect(page.locator("svg.chart circle.s-total")).to_have_count(5)
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        width, height = _png_size(shot)
        assert width >= 1300 and height >= 800
        assert shot.stat().st_size > 30_000

    assert problems == []


SHOTS = Path("/tmp/dbheal-admin-1280")
PAGES_1280 = ("/", "/issues", "/fix", "/history", "/settings")


def test_every_page_fits_a_1280_window_and_roll_back_is_on_screen(
    page: Page, tmp_path: Path
) -> None:
    """At 1280x800 (a common laptop window) no page scrolls sideways, and on History every
    Roll back button is inside the window. Each page is saved as a screenshot to look at."""
    from tests.conftest import run_dbheal

    root = copy_shop(tmp_path)
    healed = run_dbheal(root, "heal", ".", "--yes")  # several fixes, code diffs, long titles
    assert healed.returncode in (0, 1), healed.stdout + healed.stderr
    for _ in range(2):  # two CLI checks: points of "Issues over time" before the admin's own
        assert run_dbheal(root, "check", "--no-cache").returncode in (0, 1)
    page.set_viewport_size({"width": 1280, "height": 800})
    SHOTS.mkdir(parents=True, exist_ok=True)
    for served in serve_cli(root):
        page.goto(served.url)
        for path in PAGES_1280:
            page.goto(f"{served.base}{path}")
            name = path.strip("/") or "dashboard"
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1280, f"{path} is {width} px wide in a 1280 px window"
            assert _png_size(SHOTS / f"{name}.png")[0] == 1280
        page.goto(f"{served.base}/")
        assert page.locator("svg.chart circle").count() >= 3 * 5  # 3 scans x 5 series
        page.goto(f"{served.base}/history")
        # With every plan opened too (a diff or a SQL line can be long).
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        page.screenshot(path=str(SHOTS / "history-plans-open.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"/history with its plans open is {width} px wide"
        buttons = page.get_by_role("link", name="Roll back…")
        assert buttons.count() >= 1
        for n in range(buttons.count()):
            box = buttons.nth(n).bounding_box()
            assert box is not None
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
