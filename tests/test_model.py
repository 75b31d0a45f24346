"""model.py: the values every part of dbheal shares: severities and issue types as users spell
them, spans, issues as the JSON output and the result cache hold them, and what a fix reports."""

from __future__ import annotations

import dataclasses

import pytest

from dbheal_lsp.model import (
    CheckResult,
    Issue,
    IssueType,
    LossyReport,
    MigrationPlan,
    Origin,
    PlanStep,
    Severity,
    Span,
    VerifyCheck,
    VerifyReport,
)


def _issue(severity: Severity = Severity.HIGH, **fields: object) -> Issue:
    values: dict[str, object] = {
        "type": IssueType.MISSING_COLUMN,
        "severity": severity,
        "path": "app/db.py",
        "span": Span(3, 20, 3, 25),
        "message": "no such column: emial; did you mean 'email'?",
    }
    values.update(fields)
    return Issue(**values)  # type: ignore[arg-type]


def test_severities_rank_from_critical_down_to_low() -> None:
    ordered = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
    assert sorted(Severity, key=lambda s: s.rank) == ordered
    assert Severity.CRITICAL.at_least(Severity.HIGH)
    assert Severity.HIGH.at_least(Severity.HIGH)
    assert not Severity.MEDIUM.at_least(Severity.HIGH)


def test_severities_and_issue_types_are_read_as_users_spell_them() -> None:
    assert Severity.parse(" High ") is Severity.HIGH
    assert IssueType.parse("select-star") is IssueType.SELECT_STAR
    assert IssueType.parse("Missing_Table") is IssueType.MISSING_TABLE
    with pytest.raises(ValueError, match="expected one of: critical, high, medium, low"):
        Severity.parse("severe")
    with pytest.raises(ValueError, match=r"unknown issue type 'typo'.*PARAMETER_MISMATCH"):
        IssueType.parse("typo")


def test_spans_sort_by_position_and_contain_up_to_their_end() -> None:
    spans = [Span(2, 1, 2, 5), Span(1, 9, 1, 10), Span(1, 3, 4, 1)]
    assert sorted(spans) == [Span(1, 3, 4, 1), Span(1, 9, 1, 10), Span(2, 1, 2, 5)]
    word = Span.point(5, 10, 4)
    assert word == Span(5, 10, 5, 14)
    assert word.contains(5, 10) and word.contains(5, 13)
    assert not word.contains(5, 14) and not word.contains(5, 9)
    several = Span(1, 8, 3, 2)
    assert several.contains(2, 1) and several.contains(3, 1) and not several.contains(3, 2)
    assert Span.point(1, 1, -3) == Span(1, 1, 1, 1)


def test_an_origin_prints_as_path_and_line() -> None:
    assert str(Origin("migrations/001_users.sql", 4)) == "migrations/001_users.sql:4"


def test_an_issue_read_back_from_its_json_is_the_same_issue() -> None:
    issue = _issue(
        table="users",
        column_name="emial",
        origin=Origin("migrations/001_users.sql", 4),
        suggestion="email",
        sql="SELECT emial FROM users",
        fingerprint="0123456789abcdef",
    )
    data = issue.to_json()
    assert (data["type"], data["severity"], data["line"], data["end_column"]) == (
        "MISSING_COLUMN",
        "high",
        3,
        25,
    )
    assert data["origin"] == "migrations/001_users.sql:4"
    assert "sql" not in data  # the SQL is not part of the documented output
    assert Issue.from_json(data, sql="SELECT emial FROM users") == issue
    cached = {**data, "statement_span": [3, 5, 4, 2], "call_span": [3, 1, 4, 3]}
    back = Issue.from_json(cached)
    assert back.statement_span == Span(3, 5, 4, 2) and back.call_span == Span(3, 1, 4, 3)


def test_an_issue_whose_json_has_no_number_for_a_line_is_refused() -> None:
    data = _issue().to_json()
    with pytest.raises(ValueError, match="expected an integer"):
        Issue.from_json({**data, "line": True})
    with pytest.raises(ValueError, match="expected an integer"):
        Issue.from_json({**data, "column": None})


def test_a_result_gives_the_issues_of_a_severity_or_worse() -> None:
    low, high, critical = (_issue(s) for s in (Severity.LOW, Severity.HIGH, Severity.CRITICAL))
    result = CheckResult(issues=(low, high, critical))
    assert result.at_least(Severity.HIGH) == (high, critical)
    assert result.at_least(Severity.LOW) == (low, high, critical)


def test_a_plans_sql_is_one_script_with_its_checks_as_comments() -> None:
    plan = MigrationPlan(
        id="change_type:abc",
        kind="change_type",
        title="Change users.age to INTEGER",
        description="",
        table="users",
        steps=(
            PlanStep("CREATE TABLE users_new (id INTEGER PRIMARY KEY, age INTEGER);  "),
            PlanStep("INSERT INTO users_new SELECT id, age FROM users"),
            PlanStep("every row of users equals users_new", kind="verify_copy"),
            PlanStep("DROP TABLE users;"),
        ),
        expected="users.age is INTEGER",
    )
    assert plan.sql == (
        "CREATE TABLE users_new (id INTEGER PRIMARY KEY, age INTEGER);\n"
        "INSERT INTO users_new SELECT id, age FROM users;\n"
        "-- verify_copy: every row of users equals users_new\n"
        "DROP TABLE users;"
    )


def test_what_a_fix_reports_says_whether_it_is_safe() -> None:
    assert LossyReport("users", "age", "INTEGER", total_rows=10, lossy_count=0).lossless
    assert not LossyReport("users", "age", "INTEGER", 10, 2, (3, 7), ("'ten'",)).lossless
    passed, failed = VerifyCheck("rows kept", True), VerifyCheck("index used", False, "SCAN")
    assert VerifyReport((passed,)).ok and VerifyReport().ok
    report = VerifyReport((passed, failed))
    assert not report.ok and report.failures() == (failed,)


def test_values_cannot_be_changed_once_made() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _issue().message = "changed"  # type: ignore[misc]
