"""The rule registry: every rule has its module, its docs/rules.md section and its fixture, and
each fixture gives exactly the issues it is annotated with.

A fixture, fixtures/<rule>.py (the rule's anchor: `missing_table.py`), is annotated as in
tests/analysis/test_checker.py (`# expect: TYPE token`; a line without annotation gives no
issue) and checked against the schema of tests/analysis/fixtures/checks/schema.sql, with the
migrations of fixtures/<rule>.migrations/ when there is such a folder.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

import dbheal_lsp.rules
from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.model import IssueType
from dbheal_lsp.rules import DEFAULT_SEVERITIES, RULE_OF, RULES
from dbheal_lsp.rules.rule import Rule
from tests.analysis.test_checker import FIXTURES as CHECK_FIXTURES
from tests.analysis.test_checker import assert_fixture_file, expected_issues

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(FIXTURES.glob("*.py"))
DOCS = Path(__file__).parents[2] / "docs" / "rules.md"
RULES_DIR = Path(dbheal_lsp.rules.__file__).parent
# A rule's section: a heading that is exactly its name (`## MISSING_TABLE`).
_RULE_HEADING = re.compile(r"^## ([A-Z][A-Z_]*)$", re.MULTILINE)
# A row of the table at the top: `| [MISSING_TABLE](#missing_table) | critical | Error | ... |`.
_TABLE_ROW = re.compile(r"^\| \[([A-Z_]+)\]\(#([a-z_]+)\) \| (\w+) \|", re.MULTILINE)
IDS = [rule.anchor for rule in RULES]


def make_project(root: Path, migrations: Path | None = None) -> Project:
    """Return a project in `root` whose database has the fixtures' schema (and `migrations`)."""
    root.mkdir(parents=True, exist_ok=True)
    db = root / "app.db"
    with sqlite3.connect(db) as conn:
        conn.executescript((CHECK_FIXTURES / "schema.sql").read_text(encoding="utf-8"))
    conn.close()
    settings: dict[str, object] = {"database": str(db), "identifier-helpers": ["quote_ident"]}
    if migrations is not None:
        shutil.copytree(migrations, root / "migrations")
        settings["migrations"] = str(root / "migrations")
    return Project(load_config(root, settings))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("project"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_fixture(project: Project, tmp_path: Path, case: Path) -> None:
    migrations = case.with_suffix(".migrations")
    if migrations.is_dir():
        project = make_project(tmp_path / "project", migrations)
    result = project.check_source(case.name, case.read_text(encoding="utf-8"))
    assert all(issue.span.line == issue.span.end_line for issue in result.issues), result.issues
    assert_fixture_file(project, case)


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
