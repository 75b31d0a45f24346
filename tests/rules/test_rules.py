"""The rule registry: every rule has its module, its docs/rules.md section, its fixture and its
test module (tests/rules/test_<module>.py checks its fixture: see conftest.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import dbheal_lsp.rules
from dbheal_lsp.model import IssueType
from dbheal_lsp.rules import DEFAULT_SEVERITIES, RULE_OF, RULES
from dbheal_lsp.rules.rule import Rule
from tests.analysis.test_checker import expected_issues

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
CASES = sorted(FIXTURES.glob("*.py"))
DOCS = Path(__file__).parents[2] / "docs" / "rules.md"
RULES_DIR = Path(dbheal_lsp.rules.__file__).parent
# A rule's section: a heading that is exactly its name (`## MISSING_TABLE`).
_RULE_HEADING = re.compile(r"^## ([A-Z][A-Z_]*)$", re.MULTILINE)
# A row of the table at the top: `| [MISSING_TABLE](#missing_table) | critical | Error | ... |`.
_TABLE_ROW = re.compile(r"^\| \[([A-Z_]+)\]\(#([a-z_]+)\) \| (\w+) \|", re.MULTILINE)
IDS = [rule.anchor for rule in RULES]


def test_the_registry_has_one_rule_per_issue_type_in_its_order() -> None:
    assert [rule.type for rule in RULES] == list(IssueType)
    assert dict(RULE_OF) == {rule.type: rule for rule in RULES}
    assert dict(DEFAULT_SEVERITIES) == {rule.type: rule.severity for rule in RULES}


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_a_rule_lives_in_its_module(rule: Rule) -> None:
    module = rule.check.__module__
    package, _, name = module.rpartition(".")
    assert package == "dbheal_lsp.rules" and not name.startswith("_"), module
    assert (RULES_DIR / f"{name}.py").is_file()
    # The module holds the rule's record next to its check.
    assert any(value is rule for value in vars(sys.modules[module]).values())
    assert rule.name and rule.short and rule.full and rule.tags


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_a_rule_has_its_docs_section(rule: Rule) -> None:
    headings = _RULE_HEADING.findall(DOCS.read_text(encoding="utf-8"))
    assert rule.type.value in headings
    assert rule.anchor == rule.type.value.lower()  # GitHub's anchor of that heading
    assert rule.docs_url.endswith(f"docs/rules.md#{rule.anchor}")


def test_the_docs_document_only_rules_that_exist() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert sorted(_RULE_HEADING.findall(text)) == sorted(rule.type.value for rule in RULES)
    table = {name: (anchor, severity) for name, anchor, severity in _TABLE_ROW.findall(text)}
    assert table == {rule.type.value: (rule.anchor, rule.severity.value) for rule in RULES}


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_a_rule_has_its_fixture(rule: Rule) -> None:
    # Every issue type of statements (and SCHEMA_DRIFT seen from queries) has a case.
    fixture = FIXTURES / f"{rule.anchor}.py"
    assert fixture.is_file(), f"{rule.type.value} has no fixture {fixture.name}"
    kinds = {kind for _, kind, _ in expected_issues(fixture.read_text(encoding="utf-8"))}
    assert rule.type.value in kinds


def test_every_fixture_is_a_rules_fixture() -> None:
    assert {case.stem for case in CASES} == {rule.anchor for rule in RULES}


def test_every_rule_module_has_its_test_module() -> None:
    modules = {p.stem.lstrip("_") for p in RULES_DIR.glob("*.py") if not p.stem.startswith("__")}
    assert {name for name in modules if not (TESTS / f"test_{name}.py").is_file()} == set()
