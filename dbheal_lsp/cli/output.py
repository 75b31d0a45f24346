"""What the commands print and how: paths as a terminal shows them, colour, one-line errors,
and writing to standard output."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from dbheal_lsp.model import CheckResult, FileNote, Issue, Origin


def shown_path(path: Path) -> str:
    """Return `path` as a terminal shows it: relative to the working directory when inside."""
    try:
        rel = os.path.relpath(path, Path.cwd())
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def for_display(result: CheckResult, root: Path) -> CheckResult:
    """Return `result` with paths relative to the working directory, as a terminal expects."""
    cwd = Path.cwd()

    def shown(rel: str) -> str:
        path = Path(rel) if Path(rel).is_absolute() else root / rel
        try:
            return os.path.relpath(path, cwd)
        except ValueError:
            return str(path)

    def issue(i: Issue) -> Issue:
        origin = Origin(shown(i.origin.path), i.origin.line) if i.origin else None
        message = i.message
        if i.origin is not None and str(i.origin) in message and origin is not None:
            message = message.replace(str(i.origin), str(origin))
        return replace(i, path=shown(i.path), origin=origin, message=message)

    return replace(
        result,
        issues=tuple(issue(i) for i in result.issues),
        notes=tuple(FileNote(shown(n.path), n.message, n.line) for n in result.notes),
    )


def use_color(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def one_line(exc: BaseException) -> str:
    """Return the message of `exc` on one line, with the file it names."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
        text += f": {exc.filename}"
    return text


def write(text: str) -> None:
    try:
        # A file name that is not UTF-8 reaches us as lone surrogates: shown as \udcff
        # escapes (valid UTF-8, and in JSON the same escape) rather than failing the run.
        sys.stdout.buffer.write(text.encode("utf-8", "backslashreplace"))
        sys.stdout.flush()
    except BrokenPipeError:
        # `dbheal check | head` closed the pipe: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
