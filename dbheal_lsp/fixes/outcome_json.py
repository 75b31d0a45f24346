"""Fix values as JSON for the front doors: dry runs and the outcome of applying a fix.

The one place these objects are shaped, beside `present.py`, the one place their texts are
written: the admin page's previews and the language server's command answers carry the same
keys in the same words (the status line and lossy report are `present`'s). A dry run carries
both the words of `dbheal migrate plan` and the verification as the codec writes it, so that a
reader can take either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dbheal_lsp.codec import to_dict
from dbheal_lsp.fixes.present import dry_run_status, lossy_text
from dbheal_lsp.model import LossyReport, VerifyCheck, VerifyReport

if TYPE_CHECKING:
    from dbheal_lsp.fixes.orchestrator import FixOutcome


def dry_run_json(lossy: LossyReport | None, verify: VerifyReport) -> dict[str, Any]:
    """Return a dry run as JSON: `ok`, `status`, `lossy` (the report's text, or None),
    `lossless`, `lossy_count` and `checks` in the words of `dbheal migrate plan`, and `verify`
    (the verification as the codec writes it)."""
    return {
        "ok": verify.ok,
        "status": dry_run_status(verify),
        "lossy": lossy_text(lossy) if lossy is not None else None,
        "lossless": lossy is None or lossy.lossless,
        "lossy_count": lossy.lossy_count if lossy is not None else 0,
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in verify.checks],
        "verify": to_dict(verify),
    }


def dry_run_error_json(error: str) -> dict[str, Any]:
    """Return, in the shape of `dry_run_json`, a dry run that could not run, and why."""
    failed = VerifyReport((VerifyCheck("dry run", False, error),))
    return {**dry_run_json(None, failed), "status": "Dry run: could not run"}


def outcome_json(outcome: FixOutcome) -> dict[str, Any]:
    """Return what applying a fix did: `applied`, `message`, `fix_id` (its entry in the
    history, or None), `migration_file`, `verify` (as the codec writes it) and `diff`."""
    return {
        "applied": outcome.applied,
        "message": outcome.message,
        "fix_id": outcome.record.id if outcome.record else None,
        "migration_file": outcome.migration_file,
        "verify": to_dict(outcome.verify),
        "diff": outcome.diff,
    }
