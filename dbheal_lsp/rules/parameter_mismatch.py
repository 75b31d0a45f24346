"""PARAMETER_MISMATCH: the values a call binds do not fit the statement's placeholders.

What a call *certainly* binds is read by its language (`Statement.bindings`; for Python,
`languages/python/parameters.py`); this check compares it with the placeholders of the rendered
SQL the way Python's sqlite3 binds them: a sequence must give exactly as many values as the
statement numbers, a dict needs a key for every named placeholder (extra keys are ignored) and
cannot give a value to a nameless `?`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from dbheal_lsp.analysis.oracle import Facts
from dbheal_lsp.analysis.statement import (
    ARGS_STYLE_CALLS,
    DBAPI_CALLS,
    BoundRow,
    SlotRange,
    is_stand_in,
    render,
)
from dbheal_lsp.model import Issue, IssueType, Severity, Span
from dbheal_lsp.rules._issue import issue_at
from dbheal_lsp.rules.rule import Rule

_DOLLAR_NUMBER = re.compile(r"\$\d")
# Placeholders the checker respells for SQLite (analysis/sqlrefs.normalize_placeholders).
_WRITTEN = re.compile(r"%\(\w+\)s|%s|\$\d+")
_SHOWN = 6  # placeholders or keys listed in a message before "..."


@dataclass(frozen=True)
class _Needed:
    """What the statement's placeholders need, numbered the way SQLite numbers them."""

    count: int  # the largest parameter number: how many values a sequence must give
    names: dict[int, str]  # parameter number -> its name in SQLite's spelling (":name", "?2")
    shown: tuple[str, ...]  # the placeholders as written: each `?`, every other one once
    numbered: bool  # some placeholder is ?NNN
    written: dict[str, str]  # a placeholder in SQLite's spelling -> as the code writes it
    # Both `%s`/`$1` and `?`/`:name` are written (no one driver reads both as placeholders), or
    # a `?` outside SQLite: which marks are placeholders is not known.
    unknown: bool

    def spelled(self, tokens: Sequence[str]) -> list[str]:
        """Return `tokens` as the code writes them (`%(name)s`, `$1`), for messages."""
        return [self.written.get(t, t) for t in tokens]

    @property
    def named(self) -> list[str]:
        """Return the placeholders that have a name (:name, @name, $name), once each."""
        return [t for t in self.shown if t[0] in ":@$"]

    @property
    def nameless(self) -> list[str]:
        """Return the bare `?` placeholders."""
        return [t for t in self.shown if t == "?"]


def _needed(facts: Facts, original: str) -> _Needed:
    """Number the placeholders as SQLite does: `?` takes the next number, `?NNN` is NNN, and a
    name seen before keeps its number. `original` is the SQL before pyformat and `$1` were
    respelled (the same offsets), when it is at hand."""
    text = facts.rendered.text
    if len(original) != len(text):
        original = text  # read again with slots as names: no longer the same offsets
    written: dict[str, str] = {}
    respelled = native = unsure = False
    count = 0
    names: dict[int, str] = {}
    seen: dict[str, int] = {}
    shown: list[str] = []
    numbered = False
    for ph in facts.placeholders:
        if ph.name is not None and is_stand_in(ph.name):
            continue  # a number the code interpolates, not a parameter
        token = text[ph.start : ph.end]
        if token != original[ph.start : ph.end]:
            m = _WRITTEN.match(original, ph.start)
            written[token] = m.group() if m else token
            respelled = True
        else:
            native = True
            # Outside SQLite a `?` is PostgreSQL's jsonb operator, or a placeholder of some
            # drivers (mysql-connector's prepared cursors): which one is not known.
            unsure = unsure or (token.startswith("?") and facts.settings.dialect != "sqlite")
        if token == "?":
            number = count + 1
            shown.append(token)
        else:
            numbered = numbered or token.startswith("?")
            number = int(token[1:]) if token.startswith("?") else seen.get(token, count + 1)
            if token not in seen:
                seen[token] = number
                shown.append(token)
            names.setdefault(number, token)
        count = max(count, number)
    return _Needed(count, names, tuple(shown), numbered, written, (respelled and native) or unsure)


def _may_hide_placeholders(sr: SlotRange) -> bool:
    """Return whether an interpolated slot may carry placeholders of its own.

    A number cannot, nor can a name (a table or column, even an imported constant); a fragment
    whose text is unknown can, and so can a value-position constant the extractor could not
    spell out (`IN ({marks})`, a list of `?` built at run time).
    """
    return not (sr.role in ("in_string", "identifier") or sr.slot.value.numeric_cast)


def parameter_mismatches(facts: Facts) -> Iterator[Issue]:
    """PARAMETER_MISMATCH: bound values that sqlite3 will refuse for these placeholders."""
    statement = facts.statement
    bindings = statement.bindings
    if bindings is None or statement.is_script:
        return
    # Judge slots by the role they were first given: the checker's retry reads every slot as a
    # name, and a fragment read as a name would hide its placeholders.
    first = render(statement)
    if any(_may_hide_placeholders(sr) for sr in first.slots):
        return
    if statement.call in DBAPI_CALLS and _DOLLAR_NUMBER.search(statement.literal_text):
        return  # asyncpg's execute(sql, *args): each argument is one value, not a sequence
    needed = _needed(facts, first.text)
    if needed.unknown:
        return
    if statement.call in ARGS_STYLE_CALLS and (not needed.numbered or needed.nameless):
        return  # not asyncpg's $1, $2: a helper of its own, whose binding is not known
    for number, row in enumerate(bindings.rows, start=1):
        prefix = f"row {number} " if bindings.many else ""
        message = _row_problem(row, needed, bindings.passed)
        if message:
            yield _issue(facts, row.span, prefix + message)


def _row_problem(row: BoundRow, needed: _Needed, passed: bool) -> str | None:
    """Return what sqlite3 would refuse in binding `row` to the placeholders, if anything."""
    named, nameless = needed.named, needed.nameless
    mixed = (
        f"the statement mixes named ({_listed(needed.spelled(named))}) and positional "
        f"({_listed(needed.spelled(nameless))}) placeholders"
    )
    if row.keys is None:
        count = row.count or 0
        if count != needed.count:
            given = f"{count} value{'s' if count != 1 else ''}" if passed else "no value"
            return f"binds {given} but the statement {_takes(needed)}"
        if named and nameless:
            return f"{mixed}; bind them all by name, with a dict"
        if named:
            return (
                f"binds values by position but the statement names its placeholders "
                f"({_listed(needed.spelled(named))}); pass a dict (Python 3.14's sqlite3 rejects a "
                "sequence here)"
            )
        return None
    keys = row.keys
    used = {token[1:] for token in needed.names.values()}
    for number in range(1, needed.count + 1):
        token = needed.names.get(number)
        if token is None:
            if named:
                return f"{mixed}, and a dict gives no value to ?"
            return (
                f"binds a dict but the statement has positional placeholders "
                f"({_listed(needed.spelled(needed.shown))}); a dict binds only named ones"
            )
        key = token[1:]
        if key in keys:
            continue
        given = f"the dict gives {_listed(keys)}" if keys else "the dict is empty"
        unused = [k for k in keys if k not in used]
        close = difflib.get_close_matches(key, unused, n=1, cutoff=0.6)
        shown = needed.written.get(token, token)
        return f"no value for {shown}; {given}" + (f" (did you mean {key}?)" if close else "")
    return None


def _takes(needed: _Needed) -> str:
    """Return how many values the statement takes, as the message says it."""
    if needed.numbered and needed.count != len(needed.shown):
        top = max(int(t[1:]) for t in needed.shown if t.startswith("?") and len(t) > 1)
        highest = needed.written.get(f"?{top}", f"?{top}")
        return f"numbers its placeholders up to {highest}, so it takes {needed.count}"
    n = needed.count
    listed = f" ({_listed(needed.spelled(needed.shown))})" if needed.shown else ""
    return f"has {n} placeholder{'s' if n != 1 else ''}{listed}"


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (", ..." if len(items) > _SHOWN else "")


def _issue(facts: Facts, span: Span, message: str) -> Issue:
    return issue_at(facts, RULE, span, message, message)


RULE = Rule(
    IssueType.PARAMETER_MISMATCH,
    "ParameterMismatch",
    Severity.CRITICAL,
    "Bound values do not fit the statement's placeholders.",
    "The call binds more or fewer values than the statement has placeholders, or a dict "
    "lacks a key for a named placeholder (or gives values to nameless ones), so the "
    "driver raises an error each time the statement runs.",
    ("correctness", "sql"),
    parameter_mismatches,
)
