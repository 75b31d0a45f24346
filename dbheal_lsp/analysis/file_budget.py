"""How long checking one file may take: $DBHEAL_FILE_BUDGET seconds, else 10.

A stranger's file (a generated 100,000-line module, a pathological string) must not hold up a
whole check: past its budget, checked between statements, a file keeps the issues found so far
and a note says where checking stopped.
"""

from __future__ import annotations

import os

from dbheal_lsp.config import ConfigError

__all__ = ["DEFAULT_FILE_BUDGET", "FILE_BUDGET_VARIABLE", "budget_or_default", "file_budget"]

DEFAULT_FILE_BUDGET = 10.0
FILE_BUDGET_VARIABLE = "DBHEAL_FILE_BUDGET"


def file_budget() -> float:
    """Return the seconds one file may take to check: $DBHEAL_FILE_BUDGET, else 10.

    Raise ConfigError when the variable is set to anything but a number of seconds >= 0.
    """
    raw = os.environ.get(FILE_BUDGET_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_FILE_BUDGET
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise ConfigError(f"{FILE_BUDGET_VARIABLE} must be a number of seconds, not {raw!r}")
    return seconds


def budget_or_default() -> float:
    """Return `file_budget()`, or the default when the variable is wrong (the editor's entry
    never fails on a setting; `check_paths` reports it)."""
    try:
        return file_budget()
    except ConfigError:
        return DEFAULT_FILE_BUDGET
