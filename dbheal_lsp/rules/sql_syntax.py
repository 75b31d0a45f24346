"""SQL_SYNTAX: SQLite itself rejects the statement (decided by SQLite, not by sqlglot)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbheal_lsp.analysis.oracle import DEFINED_TWICE, Facts, stand_in_index
from dbheal_lsp.analysis.sqlmask import masked
from dbheal_lsp.model import Issue, IssueType, Severity
from dbheal_lsp.rules._issue import find_name, issue
from dbheal_lsp.rules.rule import Rule

_VALUE_COUNT = re.compile(
    r"columns but \d+ values were supplied|\d+ values for \d+ columns|same number of terms"
)


def syntax_errors(facts: Facts) -> Iterator[Issue]:
    """SQL_SYNTAX: SQLite itself rejects the statement (decided by SQLite, not by sqlglot)."""
    verdict = facts.verdict
    if verdict.kind not in ("syntax", "error"):
        return
    text = facts.rendered.text
    if verdict.kind == "error" and not facts.has_schema:
        return
    if verdict.kind == "error" and stand_in_index(verdict.message) is not None:
        # What SQLite lacks is named by an interpolated part (`tokenize = '{tok}'`, a
        # collation): known only at run time, so not the code's error to report.
        return
    if facts.rendered.slots and _VALUE_COUNT.search(verdict.message):
        # An interpolated part may be a list of placeholders (`VALUES (%s)` % "?, ?, ?"): how
        # many values it gives is not known here.
        return
    if facts.rendered.slots and verdict.kind == "syntax":
        # An interpolated part may hold any SQL fragment: only blame text the code spells out
        # before the first slot.
        near = verdict.name
        first_slot = min(s.start for s in facts.rendered.slots)
        if near is None:
            return
        start, _ = find_name(text, near) if near else (0, 0)
        if start >= first_slot:
            return
    if verdict.message.endswith(DEFINED_TWICE) and verdict.name:
        # Defined twice: point at the second definition.
        _, first_end = find_name(text, verdict.name)
        start, end = find_name(text, verdict.name, first_end)
    elif verdict.name:
        start, end = _placed_token(text, verdict.name, verdict.offset)
    else:
        stripped = text.rstrip()
        start, end = max(0, len(stripped) - 1), len(stripped)
    message = f"{facts.judged_by} rejects this statement: {verdict.message}"
    if verdict.message.startswith("stopped"):
        # SQLite accepted it; the sandbox stopped it (a runaway script statement).
        message = f"this statement does not finish: {verdict.message}"
    yield issue(facts, RULE, start, end, message)


def _placed_token(text: str, token: str, offset: int | None) -> tuple[int, int]:
    """Return the token where the database placed the error (a PostgreSQL server's position:
    right when the token comes earlier too), else its first occurrence."""
    if offset is not None and text[offset : offset + len(token)].lower() == token.lower():
        return offset, offset + len(token)
    return _find_token(text, token)


def _find_token(text: str, token: str) -> tuple[int, int]:
    mask = masked(text)
    index = mask.find(token)
    if index < 0:
        index = text.find(token)
    if index < 0:
        leading = len(text) - len(text.lstrip())
        return leading, len(text.rstrip())
    return index, index + len(token)


RULE = Rule(
    IssueType.SQL_SYNTAX,
    "SqlSyntax",
    Severity.CRITICAL,
    "SQL statement does not parse.",
    "The SQL text is not valid SQLite syntax, so every execution of it raises an error.",
    ("correctness", "sql"),
    syntax_errors,
    runs_on_rejected=True,
)
