"""rules/rule.py: the `Rule` record, and the documentation link every report and editor shows."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from dbheal_lsp.analysis.oracle import Facts
from dbheal_lsp.model import Issue, IssueType, Severity
from dbheal_lsp.rules.rule import DOCS_URL, Rule


def _nothing(facts: Facts) -> Iterator[Issue]:
    return iter(())


RULE = Rule(
    type=IssueType.SELECT_STAR,
    name="SelectStar",
    severity=Severity.LOW,
    short="SELECT * in application code",
    full="Name the columns the code uses.",
    tags=("maintainability",),
    check=_nothing,
)


def test_the_docs_link_is_the_section_named_after_the_issue_type() -> None:
    assert RULE.anchor == "select_star"
    assert RULE.docs_url == "https://github.com/dbheal/dbheal/blob/main/docs/rules.md#select_star"
    assert RULE.docs_url.startswith(DOCS_URL)


def test_a_rule_runs_on_accepted_statements_only_and_is_not_a_security_rule_unless_told() -> None:
    assert RULE.runs_on_rejected is False
    assert RULE.security_severity is None


def test_a_rule_cannot_be_changed_once_made() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RULE.severity = Severity.HIGH  # type: ignore[misc]
