"""Code fixes of JS/TS files: byte-range edits made on the tree-sitter tree, each checked
before it is offered.

Three kinds, as for Python: ``remove_cast`` (TYPE_MISMATCH made by a cast, remove_cast.py),
``parameterize`` (SQL_INJECTION, parameterize.py) and ``rename`` (MISSING_COLUMN /
MISSING_TABLE with a suggestion, rename.py). A candidate is offered only when the edited file
still parses, keeps all its comments, and (given a `Project`) checking the file again shows the
issue gone and nothing added. Anything unexpected gives no fix rather than a wrong one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dbheal_lsp.files import text_hash
from dbheal_lsp.languages.fix_check import clears_only
from dbheal_lsp.languages.javascript.calls import DEFAULT_CALLS
from dbheal_lsp.languages.javascript.edits import Candidate, text_edit
from dbheal_lsp.languages.javascript.fix_target import Target
from dbheal_lsp.languages.javascript.parameterize import parameterize
from dbheal_lsp.languages.javascript.parse import JsSource, Parsers, syntax_error
from dbheal_lsp.languages.javascript.remove_cast import CAST_HELPERS, remove_cast
from dbheal_lsp.languages.javascript.rename import rename
from dbheal_lsp.languages.javascript.values import Helpers
from dbheal_lsp.model import CodeFix, Issue, IssueType

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project

__all__ = ["code_fixes"]

_log = logging.getLogger(__name__)


def code_fixes(source: str, issue: Issue, project: Project | None = None) -> tuple[CodeFix, ...]:
    """Return every checked code fix of `issue` in the JS/TS file whose text is `source`
    (never raises: a shape of code not foreseen gives no fix)."""
    try:
        parsers = Parsers()
        parsed = parsers.tree(issue.path, source)
        calls, helpers = _settings(project, issue.path)
        target = Target.find(parsed, issue, calls)
        if target is None:
            return ()
        candidate = _candidate(target, issue, helpers)
        if candidate is None:
            return ()
        fix = _checked(parsers, parsed, issue, candidate, project)
        return (fix,) if fix is not None else ()
    except Exception:
        _log.debug("no code fix for %s", issue.fingerprint, exc_info=True)
        return ()


def _settings(project: Project | None, path: str) -> tuple[frozenset[str], Helpers]:
    """The call names and helpers of the project's JS/TS reading (the defaults without one)."""
    from dbheal_lsp.languages.javascript.analyzer import JavaScriptAnalyzer

    analyzer = project.analyzer_for(path) if project is not None else None
    if isinstance(analyzer, JavaScriptAnalyzer):
        return analyzer.finder.options.calls, analyzer.finder.options.helpers
    return DEFAULT_CALLS, Helpers()


def _candidate(target: Target, issue: Issue, helpers: Helpers) -> Candidate | None:
    if issue.type is IssueType.TYPE_MISMATCH and issue.helper in CAST_HELPERS:
        return remove_cast(target, issue)
    if issue.type is IssueType.SQL_INJECTION:
        return parameterize(target, helpers)
    if issue.type in (IssueType.MISSING_COLUMN, IssueType.MISSING_TABLE) and issue.suggestion:
        return rename(target, issue)
    return None


def _fix_id(issue: Issue, candidate: Candidate) -> str:
    if candidate.kind == "parameterize" and issue.statement_span is not None:
        # Every injection of the statement gets the one fix that binds them all.
        span = issue.statement_span
        return f"parameterize:{span.line}:{span.column}-{span.end_line}:{span.end_column}"
    return f"{candidate.kind}:{issue.fingerprint}"


def _checked(
    parsers: Parsers,
    parsed: JsSource,
    issue: Issue,
    candidate: Candidate,
    project: Project | None,
) -> CodeFix | None:
    """The candidate as a CodeFix when the edited file parses, keeps its comments and (given
    a project) no longer shows the issue; else None."""
    edit, new_text = text_edit(parsed, issue.path, candidate.edits)
    reparsed = parsers.tree(issue.path, new_text)
    if syntax_error(reparsed) is not None and syntax_error(parsed) is None:
        return None
    if _comments(reparsed) < _comments(parsed):
        return None
    if project is not None and not still_fixes(project, issue, parsed.text, new_text, candidate):
        return None
    return CodeFix(
        id=_fix_id(issue, candidate),
        kind=candidate.kind,
        title=candidate.title,
        path=issue.path,
        issue_fingerprint=issue.fingerprint,
        edits=(edit,),
        source_hash=text_hash(parsed.text),
    )


def _comments(source: JsSource) -> int:
    count = 0
    stack = [source.tree.root_node]
    while stack:
        node = stack.pop()
        count += node.type == "comment"
        stack.extend(node.children)
    return count


def still_fixes(
    project: Project, issue: Issue, before_text: str, after_text: str, candidate: Candidate
) -> bool:
    """Check the file before and after the edit: the issue gone, nothing added."""
    before = project.check_source(issue.path, before_text)
    after = project.check_source(issue.path, after_text)
    if len(after.notes) > len(before.notes):
        return False
    return clears_only(
        issue, before.issues, after.issues, candidate.kind, candidate.token, candidate.replacement
    )
