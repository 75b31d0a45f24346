"""The server's error read back as a `Verdict` (analysis/oracle.py), at the token it names.

PostgreSQL answers a prepare with a SQLSTATE, a message and `statement_position`, a 1-based
character index into the text it was given. The verdict names the token there and carries its
offset in the caller's text (the rules mark the name at it), for the kinds the rules know: unknown
table (42P01), unknown column (42703), syntax (42601), type errors (42883 on an operator, 42804,
22P02) and the rest as errors.
"""

from __future__ import annotations

import re

from dbheal_lsp.analysis.oracle import Verdict
from dbheal_lsp.databases.postgres.params import Dollared

__all__ = ["verdict_of"]

_RELATION = re.compile(r'relation "([^"]+)" does not exist')
_COLUMN = re.compile(r'column "?([^" ]+?)"? does not exist')
_COLUMN_OF = re.compile(r'column "([^"]+)" of relation "([^"]+)" does not exist')
_NEAR = re.compile(r'at or near "((?:[^"]|"")*)"')
_TOKEN = re.compile(r""""(?:[^"]|"")*"|'(?:[^']|'')*'|\w+|::|[^\s\w]""")
# Errors that depend on what is installed or set at run time, not on the schema.
_RUNTIME_DEPENDENT = frozenset({"42704", "3F000"})
# A value meets a type it cannot be: no operator for the two types (42883), a datatype
# mismatch (42804), a literal the type cannot read (22P02 invalid text representation).
_TYPE_ERRORS = frozenset({"42883", "42804", "22P02"})
# The classes of errors about the statement itself (syntax or access rule, data, cardinality,
# feature): any other (a lock or statement timeout, a lost connection, a server shutting down)
# says nothing about the code.
_ABOUT_THE_STATEMENT = frozenset({"42", "22", "21", "0A"})


def verdict_of(sqlstate: str, message: str, position: int | None, sent: Dollared) -> Verdict:
    """Return the verdict of the server's error `sqlstate`/`message`; `position` (1-based, in
    the respelled text `sent`) picks the token of the caller's text the verdict names."""
    token = _token_at(sent, position)
    # Every finding is placed where the server says: a name that comes twice is marked at the
    # occurrence the server means, not at the first.
    offset = sent.original_offset(position - 1) if position else None
    if sqlstate[:2] not in _ABOUT_THE_STATEMENT:
        return Verdict("ok", f"not judged: {message or 'the server did not answer'}")
    if sqlstate == "42P01" and (m := _RELATION.search(message)):
        return Verdict("no_table", message, m.group(1).rpartition(".")[2], None, offset)
    if sqlstate == "42703":
        if m := _COLUMN_OF.search(message):
            return Verdict("no_column", message, m.group(1), m.group(2), offset)
        if m := _COLUMN.search(message):
            qualifier, _, name = m.group(1).rpartition(".")
            return Verdict("no_column", message, name, qualifier or None, offset)
    if sqlstate == "42601":
        if "multiple commands" in message:
            return Verdict("ok", f"not judged: {message}")
        if m := _NEAR.search(message):
            return Verdict("syntax", message, m.group(1).replace('""', '"'), None, offset)
        return Verdict("syntax", message, token, None, offset)
    if sqlstate == "42883" and message.startswith("function "):
        # An extension's function the application installs: not the code's error.
        return Verdict("ok", f"not judged: {message}")
    if sqlstate in _RUNTIME_DEPENDENT:
        return Verdict("ok", f"not judged: {message}")
    if sqlstate in _TYPE_ERRORS and (sqlstate != "42883" or message.startswith("operator ")):
        return Verdict("type", message, token, None, offset)
    return Verdict("error", message, token, None, offset)


def _token_at(sent: Dollared, position: int | None) -> str | None:
    """Return the token of `sent`'s text at the 1-based character `position`, or None."""
    if not position or position < 1 or position > len(sent.text):
        return None
    m = _TOKEN.match(sent.text, position - 1)
    return m.group() if m else None
