"""Fix values as text: the words the CLI and the admin page share."""

from __future__ import annotations

from dbheal_lsp.fixes.orchestrator import FixOutcome
from dbheal_lsp.fixes.present import dry_run_text, heal_summary, lossy_text, outcome_text
from dbheal_lsp.model import LossyReport, VerifyCheck, VerifyReport

VERIFY = VerifyReport((VerifyCheck("quick_check", True, "ok"), VerifyCheck("rows", False, "")))


def test_lossy_text_names_the_rows_and_the_way_on() -> None:
    lossy = LossyReport("t", "c", "INTEGER", 10, 2, (3, 7), ("'a'", "'b'"))
    assert lossy_text(lossy) == (
        "2 of 10 values of t.c would not convert to INTEGER without loss (rowids 3, 7: 'a', "
        "'b'); choose --on-lossy=null or --on-lossy=keep to go ahead"
    )
    assert lossy_text(lossy, advice="it will be refused.").endswith(
        "(rowids 3, 7: 'a', 'b'); it will be refused."
    )
    lossless = LossyReport("t", "c", "INTEGER", 10, 0, (), ())
    assert lossy_text(lossless) == "All 10 values of t.c convert to INTEGER without loss."


def test_dry_run_text() -> None:
    assert dry_run_text(None, VERIFY) == (
        "Dry run: would FAIL\n  ok   quick_check: ok\n  FAIL rows"
    )


def test_outcome_text_ends_with_its_diff_without_a_blank_line() -> None:
    outcome = FixOutcome(False, "refused", verify=VERIFY, migration_file="m/002_x.sql", diff="d\n")
    assert outcome_text(outcome) == (
        "[not applied] refused (fix -)\n  ok   quick_check: ok\n  FAIL rows\n  wrote m/002_x.sql\nd"
    )


def test_heal_summary_says_why_not_all_were_healed() -> None:
    done = FixOutcome(True, "applied")
    assert heal_summary(1, [done], 0, 0) == "Healed 1 of 1 listed."
    assert heal_summary(4, [done, FixOutcome(False, "x")], 1, 1) == (
        "Healed 1 of 4 listed; 3 not healed: 1 would lose values (see --on-lossy), 1 fails a "
        "dry run (why is said above), 1 failed (see above)."
    )
    assert heal_summary(2, [done, done], 0, 0, by_code=1) == (
        "Healed 2 of 2 listed (1 by a code fix instead of a type change)."
    )
