"""Building an Issue from a statement's Facts: its span, message, fingerprint and the shared
look-ups of the messages (a name's place in the SQL, did-you-mean, where the migrations define
a table or column)."""

from __future__ import annotations

import difflib
import re
from typing import Any

from dbheal_lsp.analysis.oracle import Facts
from dbheal_lsp.analysis.sqlmask import masked
from dbheal_lsp.analysis.statement import is_stand_in
from dbheal_lsp.model import Issue, Origin, Span
from dbheal_lsp.rules.rule import Rule


def issue(
    facts: Facts,
    rule: Rule,
    start: int,
    end: int,
    message: str,
    *,
    span_override: Any = None,
    **fields: Any,
) -> Issue:
    """Return the issue of `rule` at SQL offsets `start`-`end` of the statement (or at
    `span_override` in the Python file), every stand-in name spelled out in its message."""
    span = span_override or facts.rendered.span(start, end)
    token = facts.rendered.text[start:end] if 0 <= start < end else ""
    return issue_at(facts, rule, span, without_stand_ins(message), token, **fields)


def issue_at(
    facts: Facts, rule: Rule, span: Span, message: str, token: str, **fields: Any
) -> Issue:
    """Return the issue of `rule` at `span`; `token` (with the table and column) tells it apart
    from the statement's other issues in its fingerprint."""
    kind = rule.type
    return Issue(
        type=kind,
        severity=rule.severity,
        path=facts.path,
        span=span,
        message=message,
        statement_span=facts.statement.span,
        call_span=facts.statement.call_span,
        sql=facts.sql,
        fingerprint=facts.fingerprint(kind, token, fields.get("table"), fields.get("column_name")),
        **fields,
    )


def without_stand_ins(message: str) -> str:
    r"""Return `message` with every word that holds a stand-in name (`__dbheal_N`, `:__dbheal_N`,
    `orders___dbheal_2`) spelled "an interpolated name". A scan outward from each stand-in: a
    pattern such as `\w*__dbheal_\d+` retries from every position of a long word."""
    marker = "__dbheal_"
    at = message.find(marker)
    if at < 0:
        return message
    parts: list[str] = []
    done = 0
    while at >= 0:
        start = at
        while start > done and (message[start - 1].isalnum() or message[start - 1] == "_"):
            start -= 1
        if start > done and message[start - 1] == ":":
            start -= 1
        end = at + len(marker)
        while end < len(message) and (message[end].isalnum() or message[end] == "_"):
            end += 1
        parts.append(message[done:start])
        parts.append("an interpolated name")
        done = end
        at = message.find(marker, done)
    parts.append(message[done:])
    return "".join(parts)


def find_name(text: str, name: str, after: int = 0) -> tuple[int, int]:
    """Return the offsets of `name` as a whole word (quoted or not) in `text`, or the whole text."""
    mask = masked(text)
    pattern = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)", re.IGNORECASE)
    for haystack in (mask, text):
        m = pattern.search(haystack, after)
        if m:
            return m.start(), m.end()
    leading = len(text) - len(text.lstrip())
    return leading, len(text.rstrip())


# What may stand between where the database places a name's error and the name: qualifiers
# (`u.`, `public.users.`) and an opening quote.
_QUALIFIERS = re.compile(r'(?:"?[\w$]+"?\s*\.\s*)*"?')


def verdict_span(facts: Facts, name: str, after: int = 0) -> tuple[int, int]:
    """Return the offsets of `name` where the database placed its error (the verdict's offset,
    a PostgreSQL server's position: the right one when the name comes twice), else of its
    first whole-word occurrence (`find_name`)."""
    offset = facts.verdict.offset
    text = facts.rendered.text
    if offset is not None and 0 <= offset < len(text):
        # The position is the reference's start: `u.emial` or `"Name"` puts the name a few
        # characters on.
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
        m = pattern.search(text, offset, offset + len(name) + 130)
        if m is not None and _QUALIFIERS.fullmatch(text, offset, m.start()):
            return m.start(), m.end()
    return find_name(text, name, after)


def no_such(
    kind: str, shown: str, name: str, origin: Origin | None, verb: str, candidates: Any
) -> tuple[str, str | None]:
    """Return the message of an unknown table or column `name` (`shown` as the message names
    it) and its suggestion: where the migrations `verb` it ("defined", "added") when they do,
    else the candidate it is most likely a typo of."""
    if origin is not None:
        message = (
            f"no such {kind}: {shown} — it is {verb} in {origin} but the database has not "
            "applied that migration"
        )
        return message, None
    suggestion = _did_you_mean(name, candidates)
    hint = f"; did you mean '{suggestion}'?" if suggestion else ""
    return f"no such {kind}: {shown}{hint}", suggestion


def _did_you_mean(name: str, candidates: Any) -> str | None:
    """Return the one of `candidates` `name` is most likely a typo of, if one is close enough."""
    options = {c.lower(): c for c in candidates if not is_stand_in(c)}
    match = difflib.get_close_matches(name.lower(), list(options), n=1, cutoff=0.7)
    return options[match[0]] if match else None


def expected_origin(facts: Facts, table: str, column: str | None = None) -> Origin | None:
    """Return where the migrations define `table` (or its `column`), as issues show it."""
    if facts.expected is None:
        return None
    found = facts.expected.table(table)
    if found is None:
        return None
    if column is None:
        return facts.settings.shown(found.origin)
    col = found.column(column)
    return facts.settings.shown(col.origin) if col else None
