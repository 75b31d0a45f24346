"""What `dbheal check --statements` lists: every statement found and how far it can be checked,
and the SQL-looking strings that go to calls dbheal does not read.

A clean bill of health means little when the statements were never found: a project whose
helper is called `run_sql` gets "No issues" until `extra-calls` names it. This module says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.sqllex import skip_trivia
from dbheal_lsp.analysis.statement import Statement, TextPiece, unknown_slots
from dbheal_lsp.languages.language import CallNotRead, SourceSyntaxError

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project

# The keywords a SQL statement starts with; a string that starts with one of them (after blanks,
# comments and parentheses) and holds a second SQL word reads as SQL.
_STARTS = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "WITH"}
)
_SECOND = frozenset({"FROM", "INTO", "SET", "TABLE", "INDEX", "VIEW", "TRIGGER", "AS", "WHERE"})


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
    # The helper whose SQL this call site runs (languages/python/call_sites.py), "" if none.
    built_by: str = ""

    def line_text(self) -> str:
        """Return the entry as one line of `dbheal check --statements`."""
        status = f"{self.status}: {self.reason}" if self.reason else self.status
        built = f" (SQL built by {self.built_by})" if self.built_by else ""
        return f"{self.path}:{self.line}: {self.call}() {status}{built}"


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
            path,
            line,
            statement.call,
            "checked",
            "",
            sql_line,
            end_line,
            call_end,
            statement.built_by,
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
        statement.built_by,
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


def unread_calls(files: Iterable[tuple[str, Sequence[CallNotRead]]]) -> tuple[UnreadCall, ...]:
    """Return the calls that receive SQL-looking strings but are not read as statements, most
    frequent first; `files` are (path, such calls its language found in it)."""
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for path, calls in files:
        for call in calls:
            counts[call.name] += 1
            first.setdefault(call.name, f"{path}:{call.line}")
    return tuple(UnreadCall(n, c, first[n]) for n, c in counts.most_common())


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
    """Return the inventory of the source files under `paths` in `project` (reads them again;
    no check runs)."""
    from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
    from dbheal_lsp.config import split_pattern_warnings
    from dbheal_lsp.files import read_regular_file

    files, scan_notes = project.scan_files(paths)
    # Read with what the whole project passes, as `dbheal check` reads them.
    project.learn(project.source_files([project.config.root]), use_cache=project.config.cache)
    warnings, notes = split_pattern_warnings(scan_notes)
    skipped = [f"{note.path}: {note.message}" for note in notes]
    entries: list[StatementEntry] = []
    unread: list[tuple[str, Sequence[CallNotRead]]] = []
    for file in files:
        rel = project.config.relative(file)
        analyzer = project.analyzer_for(rel)
        try:
            source = project.language_for(rel).decode(
                read_regular_file(file, max_bytes=MAX_FILE_BYTES)
            )
            parsed = analyzer.parse(rel, source)
            statements = analyzer.statements(parsed)
        except Exception as exc:  # unreadable, not code, nested too deeply: listed, not fatal
            # What the language could not read is named by the error it met (SyntaxError).
            cause = exc.__cause__ if isinstance(exc, SourceSyntaxError) and exc.__cause__ else exc
            skipped.append(f"{rel}: not read ({type(cause).__name__})")
            continue
        entries.extend(statement_entry(s, rel) for s in statements)
        unread.append((rel, analyzer.unread_calls(parsed, statements)))
    return Inventory(tuple(entries), tuple(skipped), unread_calls(unread), warnings)
