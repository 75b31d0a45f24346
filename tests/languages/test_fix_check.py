"""Whether a code fix clears its issue and adds none (languages/fix_check.py), for every
language's fixes."""

from __future__ import annotations

from dbheal_lsp.languages.fix_check import clears_only
from dbheal_lsp.model import Issue, IssueType, Severity, Span


def _issue(kind: IssueType, message: str) -> Issue:
    return Issue(kind, Severity.CRITICAL, "app.py", Span(1, 1, 1, 2), message)


MISSING = _issue(IssueType.MISSING_COLUMN, "no such column: users.nmae; did you mean 'name'?")
INJECTION = _issue(IssueType.SQL_INJECTION, "name is built into the SQL text with an f-string")


def test_the_issue_gone_and_nothing_added_is_a_fix() -> None:
    assert clears_only(INJECTION, [INJECTION], [], "parameterize")


def test_an_issue_the_code_does_not_show_or_still_shows_is_not_fixed() -> None:
    assert not clears_only(INJECTION, [], [], "parameterize")
    assert not clears_only(INJECTION, [INJECTION], [INJECTION], "parameterize")


def test_a_new_issue_makes_it_no_fix_unless_a_rename_reveals_it() -> None:
    star = _issue(IssueType.SELECT_STAR, "SELECT * returns every column of users")
    index = _issue(IssueType.MISSING_INDEX, "users.name is read in full")
    assert not clears_only(MISSING, [MISSING], [star], "remove_cast")
    # The renamed column now resolves, so the check sees its missing index: revealed, not made.
    assert clears_only(MISSING, [MISSING], [index], "rename", "nmae", "name")
    assert not clears_only(MISSING, [MISSING], [index], "remove_cast")


def test_messages_that_named_the_old_token_name_the_new_one() -> None:
    missing_table = _issue(IssueType.MISSING_TABLE, "no such table: usres; did you mean 'users'?")
    before_star = _issue(IssueType.SELECT_STAR, "SELECT * returns every column of usres")
    after_star = _issue(IssueType.SELECT_STAR, "SELECT * returns every column of users")
    assert clears_only(
        missing_table, [missing_table, before_star], [after_star], "rename", "usres", "users"
    )


def test_a_parameterize_that_leaves_an_injection_is_no_fix() -> None:
    other = _issue(IssueType.SQL_INJECTION, "email is built into the SQL text with an f-string")
    assert not clears_only(INJECTION, [INJECTION, other], [other], "parameterize")
