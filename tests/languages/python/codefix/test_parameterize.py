"""The parameterize fix (`dbheal_lsp.languages.python.codefix.parameterize`): its fixture pairs, the cases
that must get no fix (`nofix_*`), its id and title."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.languages.python.codefix import code_fixes
from dbheal_lsp.model import IssueType
from tests.languages.python.codefix.conftest import CASES, FIXTURES, check_fixture, issues_of


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith(("parameterize_", "nofix_"))])
def test_fixture(case: str, project: Project, caplog: pytest.LogCaptureFixture) -> None:
    check_fixture(case, project, caplog)


def test_one_id_for_every_slot_of_the_statement(project: Project) -> None:
    inject = (FIXTURES / "parameterize_fstring_two_values.before.py").read_text(encoding="utf-8")
    issues = issues_of(project, inject, IssueType.SQL_INJECTION)
    assert len(issues) == 2
    first, second = (code_fixes(inject, i, project)[0] for i in issues)
    span = issues[0].statement_span
    assert span is not None
    assert (
        first.id
        == second.id
        == (f"parameterize:{span.line}:{span.column}-{span.end_line}:{span.end_column}")
    )
    assert first.kind == "parameterize"
    assert first.title == "Pass user.email, user.id as bound parameters"
    assert first.edits == second.edits
