"""`dbheal check` runs are scans too: recorded in .dbheal/state.sqlite, drawn in "Issues over
time" on the admin's dashboard."""

from __future__ import annotations

import re
from pathlib import Path

from dbheal_lsp.fixes.state import StateStore
from tests.conftest import copy_shop, run_dbheal

from .conftest import start


def _check(cwd: Path, *args: str) -> None:
    done = run_dbheal(cwd, "check", "--no-cache", *args)
    assert done.returncode in (0, 1), done.stderr


def test_cli_checks_are_recorded_and_drawn_over_time(tmp_path: Path) -> None:
    root = copy_shop(tmp_path)
    for running in start(root):  # the admin makes .dbheal/ (its first scan: one point)
        client = running.client()
        client.login()
        _check(root)
        (root / "app" / "routes" / "auth.py").unlink()  # fewer issues on the next run
        _check(root / "app", "..")  # from a subfolder, the whole project: a scan too
        _check(root, "app/reports.py")  # one file is not a scan of the project: not drawn
        with StateStore(root) as store:
            scans = store.scans()
        cli = [s for s in scans if s.trigger == "cli"]
        assert len(cli) == 2, scans
        assert sum(cli[0].counts_by_severity.values()) < sum(cli[1].counts_by_severity.values())
        assert cli[0].files > 0 and cli[0].statements > 0
        page = client.get("/").text
        chart = page[page.index("<svg") : page.index("</svg>")]
        assert len(re.findall(r"\(cli\)", chart)) >= 2, (
            chart
        )  # each point is titled with its trigger


def test_a_check_where_dbheal_was_never_used_writes_nothing(tmp_path: Path) -> None:
    root = copy_shop(tmp_path)
    _check(root)
    assert not (root / ".dbheal").exists()
