"""Tests of the JSON forms of the fix values (dbheal_lsp/codec.py)."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from dbheal_lsp.codec import (
    change_from_dict,
    changes_from_json,
    changes_to_json,
    from_json,
    to_dict,
    to_json,
)
from dbheal_lsp.model import (
    CodeFix,
    LossyReport,
    MigrationPlan,
    PlanStep,
    Span,
    TextEdit,
    VerifyCheck,
    VerifyReport,
)

PLAN = MigrationPlan(
    id="change_type:abc123",
    kind="change_type",
    title="Change users.age to INTEGER",
    description="Rebuild users with age INTEGER — «ünïcode» kept",
    table="users",
    steps=(
        PlanStep("CREATE TABLE users_new (id INTEGER PRIMARY KEY, age INTEGER)"),
        PlanStep("INSERT INTO users_new SELECT id, CAST(age AS INTEGER) FROM users"),
        PlanStep("users -> users_new", kind="verify_copy"),
        PlanStep("DROP TABLE users"),
    ),
    expected="users.age holds integers",
    issue_fingerprint="abc123",
    column="age",
    new_type="INTEGER",
    schema_version=7,
    migration_name="change_users_age",
    foreign_keys_off=True,
    check_sql=("SELECT age + 1 FROM users",),
    index_columns=("age", "id"),
)

CODE_FIX = CodeFix(
    id="remove_cast:def456",
    kind="remove_cast",
    title="Remove the redundant int() cast",
    path="app/models.py",
    issue_fingerprint="def456",
    edits=(
        TextEdit("app/models.py", Span(3, 5, 3, 17), "user_id"),
        TextEdit("app/models.py", Span(9, 1, 10, 4), "'é'\n"),
    ),
    source_hash="0123456789abcdef",
)

VERIFY = VerifyReport(
    (
        VerifyCheck("quick_check", True, "ok"),
        VerifyCheck("row counts", False, "users: 10 before, 9 after"),
    )
)

LOSSY = LossyReport("users", "age", "INTEGER", 100, 2, (4, 17), ("'abc'", "'1.5'"))


# --- JSON forms -------------------------------------------------------------------------------


def test_plan_json_round_trip_covers_every_field() -> None:
    assert from_json(MigrationPlan, to_json(PLAN)) == PLAN
    fields = {f.name for f in dataclasses.fields(MigrationPlan)}
    assert fields <= set(to_dict(PLAN))


def test_code_fix_json_round_trip_covers_every_field() -> None:
    assert from_json(CodeFix, to_json(CODE_FIX)) == CODE_FIX
    assert {f.name for f in dataclasses.fields(CodeFix)} <= set(to_dict(CODE_FIX))


def test_verify_and_lossy_json_round_trip() -> None:
    assert from_json(VerifyReport, to_json(VERIFY)) == VERIFY
    assert from_json(VerifyReport, to_json(VerifyReport())) == VerifyReport()
    assert {f.name for f in dataclasses.fields(VerifyCheck)} <= set(to_dict(VERIFY)["checks"][0])
    assert from_json(LossyReport, to_json(LOSSY)) == LOSSY
    assert {f.name for f in dataclasses.fields(LossyReport)} <= set(to_dict(LOSSY))


def test_changes_json_holds_plans_and_code_fixes() -> None:
    text = changes_to_json([PLAN, CODE_FIX])
    assert changes_from_json(text) == (PLAN, CODE_FIX)
    # A single object, as plan_to_json or fix_to_json wrote it, reads as one change.
    assert changes_from_json(to_json(PLAN)) == (PLAN,)
    assert change_from_dict(json.loads(to_json(CODE_FIX))) == CODE_FIX


def test_json_written_before_a_field_existed_reads_with_defaults() -> None:
    old = {
        "type": "migration_plan",
        "id": "add_column:x",
        "kind": "add_column",
        "title": "Add users.nick",
        "table": "users",
        "steps": [{"sql": "ALTER TABLE users ADD COLUMN nick TEXT"}],
    }
    plan = from_json(MigrationPlan, json.dumps(old))
    assert plan.steps == (PlanStep("ALTER TABLE users ADD COLUMN nick TEXT"),)
    assert plan.schema_version == -1 and plan.check_sql == () and plan.column is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"type": "code_fix"}', "expected type 'migration_plan'"),
        ('{"type": "migration_plan", "id": 3, "steps": []}', "'id' should be a string"),
        ('{"id": "x", "kind": "k", "title": "t", "table": "t"}', "missing 'steps'"),
    ],
)
def test_bad_plan_json_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        from_json(MigrationPlan, text)


def test_unknown_change_type_is_refused() -> None:
    with pytest.raises(ValueError, match="migration plan or a code fix"):
        changes_from_json('[{"type": "other"}]')
