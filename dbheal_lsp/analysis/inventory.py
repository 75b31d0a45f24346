"""What `dbheal check --statements` lists: every statement found and how far it can be checked,
and the SQL-looking strings that go to calls dbheal does not read.

A clean bill of health means little when the statements were never found: a project whose
helper is called `run_sql` gets "No issues" until `extra-calls` names it. This module says so.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.sqllex import skip_trivia
from dbheal_lsp.analysis.statement import Statement, TextPiece, unknown_slots
from dbheal_lsp.languages.python.receivers import leaf_name

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project

# The keywords a SQL statement starts with; a string that starts with one of them (after blanks,
# comments and parentheses) and holds a second SQL word reads as SQL.
_STARTS = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "WITH"}
)
_SECOND = frozenset({"FROM", "INTO", "SET", "TABLE", "INDEX", "VIEW", "TRIGGER", "AS", "WHERE"})
# Calls that show or translate text, never run it: SQL in a log line is not a statement.
_NOT_RUNNERS = frozenset(
    {"_", "gettext", "ngettext", "print", "debug", "info", "warning", "warn", "error"}
    | {"exception", "critical", "log", "write", "echo", "assertEqual", "assertIn"}
)


@dataclass(frozen=True)
class StatementEntry:
    """One statement found in the code, and how far its text is known to the checks."""

    path: str
    line: int  # the line of the call's SQL argument (a literal, or a name bound above)
    call: str
    status: str  # "checked" or "partly checked"
    reason: str  # why only partly; "" when checked
    # The first and last lines of the statement's SQL text, which may lie above the call
    # (`sql = "..."` then `execute(sql)`): a finding on a line between them belongs to this
    # statement (bench/accuracy maps findings to statements so).
    sql_line: int = 0
    end_line: int = 0
    # The last line of the call, its bound parameters included (a TYPE_MISMATCH points there).
    call_end_line: int = 0

    def line_text(self) -> str:
        """Return the entry as one line of `dbheal check --statements`."""
        status = f"{self.status}: {self.reason}" if self.reason else self.status
        return f"{self.path}:{self.line}: {self.call}() {status}"


@dataclass(frozen=True)
class UnreadCall:
    """A call, not among the call names dbheal reads, that is given SQL-looking strings."""

    name: str
    count: int
    first: str  # "path:line" of the first one


def statement_entry(statement: Statement, path: str) -> StatementEntry:
    """Return how `statement` (of file `path`) is checked.

    A slot where a value belongs is checked as a bound value; a slot where a name or a piece of
    SQL text stands hides what it will be, so the names around it cannot all be checked.
    """
    line = statement.span.line
    sql_line, end_line = _text_lines(statement)
    call_end = max(statement.call_span.end_line, end_line)
    unknown = unknown_slots(statement)
    if not unknown:
        return StatementEntry(
            path, line, statement.call, "checked", "", sql_line, end_line, call_end
        )
    reasons = []
    names = [s for s in unknown if s.role != "fragment"]
    if names:
        shown = ", ".join(dict.fromkeys(_short(s.slot.value.source) for s in names))
        reasons.append(f"the names built from {shown} are not known")
    pieces = [s for s in unknown if s.role == "fragment"]
    if pieces:
        shown = ", ".join(dict.fromkeys(_short(s.slot.value.source) for s in pieces))
        reasons.append(f"the SQL text {shown} is not known (the text around it is checked)")
    return StatementEntry(
        path,
        line,
        statement.call,
        "partly checked",
        "; ".join(reasons),
        sql_line,
        end_line,
        call_end,
    )


def _text_lines(statement: Statement) -> tuple[int, int]:
    """Return the first and last lines of the statement's SQL text (its literal pieces and
    interpolated values); the argument's own lines when it has neither."""
    lines: list[int] = []
    for piece in statement.pieces:
        if isinstance(piece, TextPiece):
            lines += [piece.positions[0][0], piece.positions[-1][0]]
        else:
            lines += [piece.value.span.line, piece.value.span.end_line]
    if not lines:
        return statement.span.line, statement.span.end_line
    return min(lines), max(lines)


def _short(source: str) -> str:
    text = " ".join(source.split())
    return text if len(text) <= 40 else text[:37] + "..."


def reads_as_sql(text: str) -> bool:
    """Return whether a string literal reads as a SQL statement (a start word and a second
    SQL word), so that prose such as "Select a file" does not count."""
    start = skip_trivia(text, 0, also="(")
    words = text[start : start + 400].replace("(", " ").split()
    if not words or words[0].upper() not in _STARTS:
        return False
    return any(word.upper() in _SECOND for word in words[1:12])


def unread_calls(
    files: Iterable[tuple[str, ast.Module, Sequence[Statement]]], calls: frozenset[str]
) -> tuple[UnreadCall, ...]:
    """Return the calls that receive SQL-looking string literals but are not read as statements.

    `files` are (path, module, statements found in it); `calls` the call names dbheal reads. A
    literal counts when it is a direct argument of a call whose name is not in `calls` (the
    receiver is ignored: `db.run_sql(...)` is "run_sql").
    """
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for path, tree, statements in files:
        found_lines = {s.call_span.line for s in statements} | {s.span.line for s in statements}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = leaf_name(node.func)
            if name is None or name in calls or name in _NOT_RUNNERS or node.lineno in found_lines:
                continue
            if any(_sql_literal(arg) for arg in node.args):
                counts[name] += 1
                first.setdefault(name, f"{path}:{node.lineno}")
    return tuple(UnreadCall(n, c, first[n]) for n, c in counts.most_common())


def _sql_literal(node: ast.expr) -> bool:
    while isinstance(node, ast.BinOp):  # "..." % x, "..." + x + y: the leftmost operand
        node = node.left
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and reads_as_sql(node.value)
    )


def summary_lines(entries: Sequence[StatementEntry], unread: Sequence[UnreadCall]) -> list[str]:
    """Return the closing lines of `--statements`: the counts, and the calls to configure."""
    partly = sum(1 for e in entries if e.status != "checked")
    lines = [
        f"{len(entries)} statement{'s' if len(entries) != 1 else ''} found: "
        f"{len(entries) - partly} checked, {partly} partly checked."
    ]
    if unread:
        total = sum(u.count for u in unread)
        named = ", ".join(f"{u.name} ({u.count}, first at {u.first})" for u in unread[:5])
        lines.append(
            f"{total} call{'s' if total != 1 else ''} pass SQL-looking strings to names dbheal "
            f"does not read: {named}. If they run SQL, add them to extra-calls in "
            "[tool.dbheal]."
        )
    return lines


@dataclass(frozen=True)
class Inventory:
    """Every statement found under some paths, the files that could not be read, and the
    calls that receive SQL but are not read."""

    entries: tuple[StatementEntry, ...]
    skipped: tuple[str, ...]  # "path: why" for each file not read
    unread: tuple[UnreadCall, ...]
    warnings: tuple[str, ...] = ()  # about the settings: an include pattern that matches nothing


def project_inventory(project: Project, paths: Iterable[Path]) -> Inventory:
    """Return the inventory of the Python files under `paths` in `project` (reads them again;
    no check runs)."""
    from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
    from dbheal_lsp.config import split_pattern_warnings
    from dbheal_lsp.files import python_source, read_regular_file
    from dbheal_lsp.languages.python.pysource import parse_module

    files, scan_notes = project.scan_files(paths)
    # Read with what the whole project passes, as `dbheal check` reads them.
    project.learn_constants(
        project.python_files([project.config.root]), use_cache=project.config.cache
    )
    warnings, notes = split_pattern_warnings(scan_notes)
    skipped = [f"{note.path}: {note.message}" for note in notes]
    entries: list[StatementEntry] = []
    parsed: list[tuple[str, ast.Module, Sequence[Statement]]] = []
    for file in files:
        rel = project.config.relative(file)
        try:
            source = python_source(read_regular_file(file, max_bytes=MAX_FILE_BYTES))
            tree = parse_module(source, rel)
            statements = project.extractor.extract(source, tree)
        except Exception as exc:  # unreadable, not Python, nested too deeply: listed, not fatal
            skipped.append(f"{rel}: not read ({type(exc).__name__})")
            continue
        entries.extend(statement_entry(s, rel) for s in statements)
        parsed.append((rel, tree, statements))
    calls = project.extractor.options.calls
    return Inventory(tuple(entries), tuple(skipped), unread_calls(parsed, calls), warnings)
