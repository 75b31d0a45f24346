"""What libraries log is not the user's business: set once where a front door starts.

sqlglot logs "... contains unsupported syntax. Falling back to parsing as a 'Command'" through
its `sqlglot` logger for SQL it cannot read fully (a CREATE TRIGGER body), whatever error level
the parse asks for, so the parse itself cannot keep it quiet. dbheal does not need the line:
SQLite, not sqlglot, judges a statement (docs/architecture.md, "Oracle"), and a tree sqlglot
cannot build only means fewer structural checks. With no handler configured, Python prints such
a warning on stderr, where `dbheal check` keeps its own notes and warnings.
"""

from __future__ import annotations

import logging

#: The loggers of libraries whose messages describe their own limits, which dbheal handles.
QUIET_LOGGERS = ("sqlglot",)


def quiet_library_logs() -> None:
    """Stop the libraries' loggers from printing anything (worker processes forked later
    inherit the setting)."""
    for name in QUIET_LOGGERS:
        # CRITICAL, not ERROR: sqlglot logs parse errors at ERROR when asked to warn, and its
        # exceptions, which dbheal catches, are what carry a real failure.
        logging.getLogger(name).setLevel(logging.CRITICAL)
