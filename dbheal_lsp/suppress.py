"""What a user said not to report: `# dbheal: ignore[...]` comments and baseline files.

Pure functions over source text and issues; the engine applies the comments where a file's
issues are finalised (so the editor, the hook and `dbheal check` all honour them), and the CLI
reads and writes baselines (docs/output.md, "Baseline").

Comments:

- ``# dbheal: ignore[TYPE, ...]`` (or bare ``# dbheal: ignore`` for every type) on the line of a
  finding, or on any line of the call that sends its statement, hides it.
- ``# dbheal: ignore-file[TYPE, ...]`` (or bare ``# dbheal: ignore-file``) anywhere in the file
  hides those types in the whole file.

In JavaScript and TypeScript files the same directives are written in `//` or `/* ... */`
comments (`// dbheal: ignore[TYPE]`, `/* dbheal: ignore */`); a block comment over several
lines counts on the line where the directive is.

Only real comments count (found with `tokenize` in Python, with a small scanner of strings,
template literals and comments in JS/TS; never text inside a string), and a type name that is
not an issue type, or a list that is not closed, is a note on that line, hiding nothing.
"""

from __future__ import annotations

import bisect
import io
import json
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dbheal_lsp.model import FileNote, Issue, IssueType

__all__ = [
    "BASELINE_VERSION",
    "BaselineError",
    "Directive",
    "apply_suppressions",
    "baseline_key",
    "parse_baseline",
    "read_directives",
    "render_baseline",
    "subtract_baseline",
]

# `(?![\w-])` keeps "dbheal: ignored" and "dbheal: ignore_this" from reading as directives.
# Group 2 is the bracket as written (closed or not), group 3 a list in another tool's style
# (`ignore: X`, `ignore=X`), so that a broken list can be told apart from no list at all: a
# broken list must hide nothing, not everything.
_DIRECTIVE = re.compile(
    r"dbheal:\s*(ignore-file|ignore)(?![\w-])(?:\s*(\[[^\]\n]*\]?)|\s*([:=(]))?", re.IGNORECASE
)
# Tokenizing is the costly part; a file without this text (most files, and files that mention
# dbheal only otherwise, like the demo's "dbheal: planted" markers) is never tokenized.
_CANDIDATE = re.compile(r"dbheal:\s*ignore", re.IGNORECASE)
# The files whose comments are JavaScript's (`//`, `/* */`): the JS/TS endings.
_SLASH_COMMENTS = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
# One step of the JS scanner in code: a comment, a quoted string (to its line's end at most,
# as JS strings are), a backquote, a brace, or text that is none of these.
_JS_CODE = re.compile(
    r"""(?P<line>//[^\n]*)|(?P<block>/\*(?s:.*?)(?:\*/|\Z))"""
    r"""|'(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?|(?P<tick>`)|(?P<open>\{)|(?P<close>\})"""
    r"""|[^/'"`{}]+|/"""
)
# The text of a template literal up to its end or its next `${`.
_JS_TEMPLATE = re.compile(r"(?:[^`\\$]|\\(?s:.)|\$(?!\{))*(?P<end>`|\$\{)?")


@dataclass(frozen=True)
class Directive:
    """One ignore comment: its line, the types it names (None: every type), its reach."""

    line: int
    types: frozenset[IssueType] | None
    file_level: bool


def _comments(source: str) -> Iterable[tuple[int, str]]:
    """Yield (line, text) of each comment of `source`, up to where tokenizing fails.

    A half-typed editor buffer is normal: the comments before the break still count.
    """
    readline = io.StringIO(source).readline
    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.COMMENT and _CANDIDATE.search(token.string):
                yield token.start[0], token.string
    except (tokenize.TokenError, SyntaxError, ValueError):
        return


def _slash_comments(source: str) -> Iterable[tuple[int, str]]:
    """Yield (line, text) of each JS/TS comment of `source` that may hold a directive, the
    line being that of the directive itself in a block comment. Strings and template literals
    (with their `${...}`, nested) are skipped; a regular expression literal is read as code,
    which can only hide a comment on its own line (a string never runs past its line)."""
    stack: list[int] = []  # for each open `${`: the depth of braces inside it
    at, end = 0, len(source)
    while at < end:
        if stack and stack[-1] < 0:  # inside a template literal's text
            match = _JS_TEMPLATE.match(source, at)
            assert match is not None
            at = match.end()
            if match.group("end") == "`" or match.group("end") is None:
                stack.pop()
            else:
                stack.append(0)  # `${`: code until its `}`
            continue
        match = _JS_CODE.match(source, at)
        assert match is not None
        kind = match.lastgroup
        if kind in ("line", "block") and _CANDIDATE.search(match.group()):
            text = match.group()
            for found in _CANDIDATE.finditer(text):
                line = source.count("\n", 0, match.start() + found.start()) + 1
                start = text.rfind("\n", 0, found.start()) + 1
                stop = text.find("\n", found.start())
                yield line, text[start : stop if stop >= 0 else len(text)]
        elif kind == "tick":
            stack.append(-1)
        elif kind == "open" and stack:
            stack[-1] += 1
        elif kind == "close" and stack:
            if stack[-1] == 0:
                stack.pop()  # the `}` of a `${`: back in the template's text
            else:
                stack[-1] -= 1
        at = match.end()


def _parse(line: int, comment: str, path: str) -> tuple[list[Directive], list[FileNote]]:
    directives: list[Directive] = []
    notes: list[FileNote] = []
    mark = "//" if path.lower().endswith(_SLASH_COMMENTS) else "#"
    for match in _DIRECTIVE.finditer(comment):
        form, bracket, other_style = match.group(1).lower(), match.group(2), match.group(3)
        written = comment[match.start() :].strip() if other_style else match.group(0)
        if bracket is None and other_style is None:
            directives.append(Directive(line, None, form == "ignore-file"))
            continue
        bracket = bracket or ""
        names = [n.strip() for n in bracket.strip("[]").split(",") if n.strip()]
        if other_style or not bracket.endswith("]") or not names:
            notes.append(
                FileNote(
                    path,
                    f"'{mark} {written}' ignores nothing: write "
                    f"'{mark} dbheal: {form}[TYPE, ...]' or '{mark} dbheal: {form}' for every type",
                    line,
                )
            )
            continue
        types: set[IssueType] = set()
        for name in names:
            try:
                types.add(IssueType.parse(name))
            except ValueError as exc:
                notes.append(FileNote(path, f"'{mark} {written}': {exc}", line))
        if types:
            directives.append(Directive(line, frozenset(types), form == "ignore-file"))
    return directives, notes


def read_directives(
    source: str, path: str = "<string>"
) -> tuple[tuple[Directive, ...], tuple[FileNote, ...]]:
    """Return the ignore comments of `source` in line order, and notes on the malformed ones."""
    directives: list[Directive] = []
    notes: list[FileNote] = []
    if _CANDIDATE.search(source) is None:
        return (), ()
    comments = _slash_comments if path.lower().endswith(_SLASH_COMMENTS) else _comments
    for line, comment in comments(source):
        found, why = _parse(line, comment, path)
        directives.extend(found)
        notes.extend(why)
    return tuple(directives), tuple(notes)


def _ranges(issue: Issue) -> list[tuple[int, int]]:
    """The line ranges a comment may be on to hide `issue`: its own, its statement's, its call's."""
    return [
        (span.line, span.end_line)
        for span in (issue.span, issue.statement_span, issue.call_span)
        if span is not None
    ]


def _hidden(issue: Issue, lines: Sequence[int]) -> bool:
    """Return whether one of `lines` (sorted: those with a directive for the issue's type)
    lies in a range that reaches the issue; a bisection per range, whatever the file's size."""
    for start, end in _ranges(issue):
        index = bisect.bisect_left(lines, start)
        if index < len(lines) and lines[index] <= end:
            return True
    return False


def apply_suppressions(
    path: str, source: str, issues: Iterable[Issue]
) -> tuple[tuple[Issue, ...], tuple[FileNote, ...]]:
    """Return the issues of `source` that no ignore comment hides, and notes on bad comments."""
    issues = tuple(issues)
    directives, notes = read_directives(source, path)
    if not directives:
        return issues, notes
    file_types: set[IssueType] = set()
    lines_for: dict[IssueType, list[int]] = {kind: [] for kind in IssueType}
    for directive in directives:  # in line order, so every list is sorted
        kinds = directive.types if directive.types is not None else frozenset(IssueType)
        if directive.file_level:
            file_types.update(kinds)
        else:
            for kind in kinds:
                lines_for[kind].append(directive.line)
    kept = tuple(
        issue
        for issue in issues
        if issue.type not in file_types and not _hidden(issue, lines_for[issue.type])
    )
    return kept, notes


# --- baselines -----------------------------------------------------------------------------------

BASELINE_VERSION = 1


class BaselineError(ValueError):
    """A baseline file that is not one dbheal wrote (its message is one line)."""


def baseline_key(issue: Issue) -> str:
    """Return what identifies `issue` in a baseline: its fingerprint (type, path and message
    for an issue without one)."""
    return issue.fingerprint or f"{issue.type.value}|{issue.path}|{issue.message}"


def render_baseline(issues: Iterable[Issue]) -> str:
    """Return the baseline file recording `issues`: JSON, sorted so that it diffs well.

    Entries are sorted by path, type, message and fingerprint (never by line: a finding that
    moves keeps its place in the file), one per distinct key. Ends with a newline.
    """
    entries: dict[str, dict[str, str]] = {}
    for issue in issues:
        entries[baseline_key(issue)] = {
            "fingerprint": baseline_key(issue),
            "type": issue.type.value,
            "path": issue.path,
            "message": issue.message,
        }
    ordered = sorted(
        entries.values(), key=lambda e: (e["path"], e["type"], e["message"], e["fingerprint"])
    )
    data = {"dbheal-baseline": BASELINE_VERSION, "findings": ordered}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def parse_baseline(text: str) -> frozenset[str]:
    """Return the keys a baseline file records, or raise BaselineError saying what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BaselineError(f"not JSON ({exc})") from None
    if not isinstance(data, dict) or "dbheal-baseline" not in data:
        raise BaselineError("not a dbheal baseline (no 'dbheal-baseline' key)")
    if data["dbheal-baseline"] != BASELINE_VERSION:
        raise BaselineError(
            f"baseline version {data['dbheal-baseline']!r} is not {BASELINE_VERSION}"
        )
    findings = data.get("findings")
    if not isinstance(findings, list):
        raise BaselineError("'findings' is not a list")
    keys: set[str] = set()
    for number, entry in enumerate(findings, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise BaselineError(f"finding {number} has no 'fingerprint' string")
        keys.add(entry["fingerprint"])
    return frozenset(keys)


def subtract_baseline(
    issues: Iterable[Issue], known: frozenset[str]
) -> tuple[tuple[Issue, ...], int]:
    """Return the issues the baseline does not know, and how many it did."""
    new: list[Issue] = []
    count = 0
    for issue in issues:
        if baseline_key(issue) in known:
            count += 1
        else:
            new.append(issue)
    return tuple(new), count
