"""Code fixes: edits to the Python code that sends a statement, made with libcst and checked.

Three kinds of fix, each a `CodeFix` of one minimal `TextEdit`:

- ``remove_cast`` (TYPE_MISMATCH made by a cast): ``(int(sku),)`` becomes ``(sku,)``. When the
  cast sits inside the SQL text itself (``f"... = {int(user_id)}"``) it is what keeps the value
  from carrying SQL, so dropping it alone would open an injection; there the fix drops the cast
  *and* binds the value as a parameter (``"... = ?", (user_id,)``).
- ``parameterize`` (SQL_INJECTION): an f-string, ``%``-formatted, ``.format()``-ed or
  ``+``-concatenated query written inline in the call becomes a parameterized query in the
  driver's placeholder style, merged with the parameters the call already passes.
- ``rename`` (MISSING_COLUMN / MISSING_TABLE with a "did you mean"): the misspelt name is
  replaced by the suggestion.

Every fix works on the text of the one call that sends the statement, never on the whole file:
the call is cut out by `Issue.call_span`, parsed with ``libcst.parse_expression``, transformed,
regenerated, and diffed against the old text, so a fix costs the same in a 10,000-line file as
in a 100-line one. Before it is offered, the edit is applied to the call's text, the result must
parse, and (given a `Project`) the old and the new call are checked alone: the issue must be gone
and nothing may be added. Anything unexpected gives no fix rather than a wrong one.

One module per fix (`remove_cast`, `rename`, `parameterize`), on shared machinery: `call` (the
call cut out, parsed and re-checked), `sql_argument` (the SQL argument as characters and slots),
`placeholders` (placeholders, parameters and the driver's style), `value_context` (where SQL
takes a value) and `rewrite` (writing the new call). libcst is imported inside the functions
that need it, so importing this package stays cheap.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.text_edits import apply_edits
from dbheal_lsp.languages.python.codefix.call import (
    Candidate,
    Context,
    count_comments,
    parse_python,
    snippet_edit,
    still_fixes,
)
from dbheal_lsp.languages.python.codefix.parameterize import parameterize
from dbheal_lsp.languages.python.codefix.placeholders import Preference, style_preference
from dbheal_lsp.languages.python.codefix.remove_cast import CASTS, remove_cast
from dbheal_lsp.languages.python.codefix.rename import rename
from dbheal_lsp.model import CodeFix, Issue, IssueType, Span, TextEdit

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project

__all__ = ["code_fixes"]

_log = logging.getLogger(__name__)


def code_fixes(
    source: str, issue: Issue, project: Project | None = None, *, style: str | None = None
) -> tuple[CodeFix, ...]:
    """Return every checked code fix for `issue` in the file whose current text is `source`.

    `issue.path` names the file; `issue.call_span` and `issue.statement_span` must be set (the
    engine sets them). Kinds by issue type:

    - TYPE_MISMATCH with a cast helper: ``remove_cast``. In a parameters tuple, list, dict or
      asyncpg argument the cast is simply dropped. Inside the SQL text the cast is dropped and
      the statement parameterized, as below: an uncast interpolation would be an injection.
    - SQL_INJECTION: ``parameterize``, with id ``parameterize:<statement span>`` whichever slot
      the issue names, since every value slot of the statement is bound in the same edit
      (numeric casts too; literals and UPPER_CASE constants stay interpolated in an f-string or
      a + chain, and rule the fix out for % and .format(), whose formatting goes away).
      The placeholder style comes from the placeholders the statement already uses, else from
      `style` (``sqlite3``, ``psycopg``, ``asyncpg`` or a DB-API paramstyle name: ``qmark``,
      ``named``, ``format``, ``pyformat``, ``numeric``), else from the call name (fetch,
      fetchrow, fetchval: asyncpg), else sqlite3's ``?``. Positional parameters follow the order
      of the placeholders in the final SQL, existing ones included (asyncpg's ``$n`` are
      renumbered); named ones (``:name``, ``%(name)s``) are used when the call already passes a
      dict, or when every slot is keyed already (``%(name)s`` with a dict, ``.format(name=x)``).
      For psycopg, a literal ``%`` becomes ``%%`` once parameters are passed.
      A value quoted in SQL loses its quotes (``'{x}'`` -> ``?``, bound to ``x``). An unquoted
      value was read by SQL as a literal (``5``, not ``'5'``), so ``+ str(x)`` binds ``x``.
      A quoted SQL string with more than the value in it (``'%{term}%'``) becomes one
      placeholder bound to an f-string of that text (``f"%{term}%"``) rather than
      ``'%' || ? || '%'``: Python still formats the value exactly as before (``str()``, format
      specs, conversions), where ``||`` would let SQLite convert numbers to text its own way.
      No fix when an interpolated part stands for a table or column name, when the SQL is not
      written inline in the call, when a slot is not plainly a value (``WHERE {cond}``,
      ``SELECT a, {col}``, ``IN ({ids})``), for % conversions other than ``%s``, for
      executemany / executescript, SQLAlchemy ``text()`` and parameters passed as a variable.
    - MISSING_COLUMN / MISSING_TABLE with a suggestion: ``rename``, the token at `issue.span`
      replaced by the suggestion (when the SQL is written in the call: that is what can be
      re-checked).

    With `project`, each candidate is checked by re-analysing the call alone before and after
    the edit; without it, only that the edited call parses. Raises ValueError for an unknown
    `style`; never for the code (an unexpected shape gives no fix).
    """
    preference = style_preference(style)
    try:
        ctx = Context.build(source, issue, project)
        if ctx is None:
            return ()
        candidate = _candidate(ctx, preference)
        if candidate is None:
            return ()
        fix = _check(ctx, candidate)
        return (fix,) if fix is not None else ()
    except Exception:
        # A fix is an offer, never a requirement: a shape of code the transformers did not
        # foresee must cost the offer, not the editor session that asked for it.
        _log.debug("no code fix for %s", issue.fingerprint, exc_info=True)
        return ()


def _candidate(ctx: Context, preference: Preference) -> Candidate | None:
    issue = ctx.issue
    if issue.type is IssueType.TYPE_MISMATCH and issue.helper in CASTS:
        return remove_cast(ctx, preference)
    if issue.type is IssueType.SQL_INJECTION:
        return parameterize(ctx, preference)
    if issue.type in (IssueType.MISSING_COLUMN, IssueType.MISSING_TABLE) and issue.suggestion:
        return rename(ctx)
    return None


def _check(ctx: Context, candidate: Candidate) -> CodeFix | None:
    """Return the candidate as a CodeFix when its edit passes every check, else None."""
    old, new = ctx.snippet, candidate.new_snippet
    edit = snippet_edit(ctx, old, new)
    if edit is None or apply_edits(old, [edit]) != new:
        return None
    if parse_python(new) is None or count_comments(new) < count_comments(old):
        return None
    if ctx.project is not None and not still_fixes(ctx, candidate):
        return None
    start = ctx.absolute(edit.span.line, edit.span.column)
    end = ctx.absolute(edit.span.end_line, edit.span.end_column)
    issue = ctx.issue
    return CodeFix(
        id=candidate.id,
        kind=candidate.kind,
        title=candidate.title,
        path=issue.path,
        issue_fingerprint=issue.fingerprint,
        edits=(TextEdit(issue.path, Span(*start, *end), edit.new_text),),
        source_hash=ctx.file.digest,
    )
