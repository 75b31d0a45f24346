"""What checking one file found: the value the project, the result cache and the workers pass."""

from __future__ import annotations

from dataclasses import dataclass

from dbheal_lsp.model import FileNote, Issue

__all__ = ["FileResult"]


@dataclass(frozen=True)
class FileResult:
    """What checking one file found."""

    path: str
    issues: tuple[Issue, ...] = ()
    notes: tuple[FileNote, ...] = ()
    statements: int = 0
    over_budget: bool = False  # stopped at the per-file budget: not to be cached
    partly: int = 0  # of the statements, those only partly checked (an unknown name or SQL)
