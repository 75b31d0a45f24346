"""Fix values as JSON (dbheal_lsp/fixes/outcome_json.py): the keys the admin page and the
language server's command answers carry, in `dbheal migrate plan`'s words."""

from __future__ import annotations

import json

from dbheal_lsp.codec import from_dict
from dbheal_lsp.fixes.orchestrator import FixOutcome
from dbheal_lsp.fixes.outcome_json import dry_run_error_json, dry_run_json, outcome_json
from dbheal_lsp.model import LossyReport, VerifyCheck, VerifyReport
from dbheal_lsp.records import FixRecord


def test_a_dry_run_as_json_is_migrate_plans_words() -> None:
    verify = VerifyReport((VerifyCheck("quick_check", True, "ok"),))
    lossy = LossyReport("orders", "qty", "INTEGER", 9, 5)
    data = dry_run_json(lossy, verify)
    assert data["ok"] and not data["lossless"]
    assert data["status"] == "Dry run: would succeed"
    assert data["checks"] == [{"name": "quick_check", "ok": True, "detail": "ok"}]
    assert data["lossy"] is not None and "5" in data["lossy"]
    assert data["lossy_count"] == 5
    assert dry_run_json(None, verify)["lossless"] is True
    assert dry_run_json(None, verify)["lossy_count"] == 0


def test_a_dry_run_carries_its_verification_as_the_codec_writes_it() -> None:
    verify = VerifyReport((VerifyCheck("quick_check", True, "ok"), VerifyCheck("rows", False)))
    data = json.loads(json.dumps(dry_run_json(None, verify)))
    assert from_dict(VerifyReport, data["verify"]) == verify
    assert (data["ok"], data["status"]) == (False, "Dry run: would FAIL")


def test_a_dry_run_that_could_not_run_has_the_same_keys_and_says_why() -> None:
    data = dry_run_error_json("no such table: orders")
    assert set(data) == set(dry_run_json(None, VerifyReport()))
    assert (data["ok"], data["status"], data["lossy"], data["lossless"]) == (
        False,
        "Dry run: could not run",
        None,
        True,
    )
    assert data["checks"] == [{"name": "dry run", "ok": False, "detail": "no such table: orders"}]


def test_an_outcome_names_its_history_entry_file_checks_and_diff() -> None:
    record = FixRecord("fix-7", "2026-01-01T00:00:00Z", "schema", "Add index")
    verify = VerifyReport((VerifyCheck("re-analysis", True, "the issue is gone"),))
    applied = FixOutcome(
        True, "Add index", record, verify, migration_file="migrations/002.sql", diff="+x\n"
    )
    data = json.loads(json.dumps(outcome_json(applied)))
    assert data == {
        "applied": True,
        "message": "Add index",
        "fix_id": "fix-7",
        "migration_file": "migrations/002.sql",
        "verify": data["verify"],
        "diff": "+x\n",
    }
    assert from_dict(VerifyReport, data["verify"]) == verify
    refused = outcome_json(FixOutcome(False, "the dry run fails"))
    assert (refused["applied"], refused["fix_id"], refused["migration_file"]) == (
        False,
        None,
        None,
    )
