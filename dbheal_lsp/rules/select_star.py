"""SELECT_STAR: `SELECT *` couples the code to every column of the table, in order."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbheal_lsp.analysis.oracle import Facts
from dbheal_lsp.analysis.sqlmask import masked, star_offsets
from dbheal_lsp.analysis.statement import is_stand_in
from dbheal_lsp.model import Issue, IssueType, Severity
from dbheal_lsp.rules._issue import issue
from dbheal_lsp.rules.rule import Rule

_FROM_TABLE = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_]\w*)", re.IGNORECASE)


def select_stars(facts: Facts) -> Iterator[Issue]:
    """SELECT_STAR: `SELECT *` couples the code to every column of the table, in order."""
    stars = facts.refs.stars if facts.refs else star_offsets(facts.rendered.text)
    if not stars:
        return
    if facts.refs:
        tables = [t.name for t in facts.refs.tables]
    else:
        tables = _FROM_TABLE.findall(masked(facts.rendered.text))
    # A stand-in is the name of an interpolated slot, never a table a user knows.
    tables = ["an interpolated table" if is_stand_in(t) else t for t in tables]
    named = [t for t in tables if t != "an interpolated table"]
    mask = masked(facts.rendered.text)
    for start, end in stars:
        if _inside_exists(mask, start):
            continue  # `EXISTS (SELECT * ...)` returns no column to the code
        # `{table}.*` returns the columns of the interpolated table, whatever else the
        # statement reads: one message for it in every statement it is part of.
        qualifier = facts.rendered.text[start:end].rpartition(".")[0]
        interpolated = is_stand_in(qualifier)
        shown = ["an interpolated table"] if interpolated else tables
        if facts.rendered.span(start, end).line != facts.rendered.span(end - 1, end).line:
            # `{table}.*` with the table's name written elsewhere (a class's `_table`): the
            # issue is where the star is written.
            start = end - 1
        what = f" of {', '.join(dict.fromkeys(shown))}" if shown else ""
        yield issue(
            facts,
            RULE,
            start,
            end,
            f"SELECT * returns every column{what}; name the columns the code uses",
            table=named[0] if len(tables) == 1 and named else None,
        )


def _inside_exists(mask: str, at: int) -> bool:
    """Return whether offset `at` of the (masked) SQL lies in the subquery of an EXISTS or an
    IN, however deep (`IN (SELECT id FROM (SELECT t.* ...))`): its columns reach no code."""
    depth = 0
    for i in range(at - 1, -1, -1):
        if mask[i] == ")":
            depth += 1
        elif mask[i] == "(":
            if depth == 0:
                before = mask[:i].rstrip().upper()
                if before.endswith("EXISTS") or re.search(r"\bIN$", before):
                    return True
            else:
                depth -= 1
    return False


RULE = Rule(
    IssueType.SELECT_STAR,
    "SelectStar",
    Severity.LOW,
    "SELECT * couples the code to the table's column order.",
    "The statement selects every column; code that unpacks rows by position breaks when "
    "a column is added or reordered, and unused columns are read for nothing.",
    ("maintainability", "sql"),
    select_stars,
    runs_on_rejected=True,
)
