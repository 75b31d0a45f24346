"""What checking one file found: the value the project, the result cache and the workers pass,
and the one list of issues a file gives."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from dbheal_lsp.model import FileNote, Issue

__all__ = ["FileResult", "unique_issues", "why_failed"]


@dataclass(frozen=True)
class FileResult:
    """What checking one file found."""

    path: str
    issues: tuple[Issue, ...] = ()
    notes: tuple[FileNote, ...] = ()
    statements: int = 0
    over_budget: bool = False  # stopped at the per-file budget: not to be cached
    partly: int = 0  # of the statements, those only partly checked (an unknown name or SQL)


def unique_issues(issues: Iterable[Issue]) -> tuple[Issue, ...]:
    """Return a file's `issues` without repeats (the same type, span and message), repeated
    fingerprints numbered (the same finding twice in one file) in source order."""
    return tuple(_unique_fingerprints(_dedupe(issues)))


def _dedupe(issues: Iterable[Issue]) -> Iterator[Issue]:
    seen: set[tuple[Any, ...]] = set()
    for issue in issues:
        key = (issue.type, issue.span, issue.message)
        if key not in seen:
            seen.add(key)
            yield issue


def _unique_fingerprints(issues: Iterable[Issue]) -> Iterator[Issue]:
    counts: dict[str, int] = {}
    for issue in issues:
        n = counts.get(issue.fingerprint, 0)
        counts[issue.fingerprint] = n + 1
        yield issue if n == 0 else replace(issue, fingerprint=f"{issue.fingerprint}-{n}")


def why_failed(exc: BaseException) -> str:
    """One line saying why a file or statement could not be checked."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, UnicodeError):
        return "text that is not valid Unicode"
    detail = " ".join(str(exc).split())[:200]
    return f"internal error ({type(exc).__name__}: {detail})" if detail else type(exc).__name__
