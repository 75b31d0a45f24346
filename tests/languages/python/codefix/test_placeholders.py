"""Placeholder styles (`dbheal_lsp.languages.python.codefix.placeholders`) as `code_fixes` takes them."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.languages.python.codefix import code_fixes
from dbheal_lsp.model import IssueType
from tests.languages.python.codefix.conftest import FIXTURES, issues_of


def test_an_unknown_style_is_an_error(project: Project) -> None:
    source = (FIXTURES / "parameterize_fstring_quoted.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, source, IssueType.SQL_INJECTION)
    with pytest.raises(ValueError, match="placeholder style"):
        code_fixes(source, issue, project, style="oracle")
