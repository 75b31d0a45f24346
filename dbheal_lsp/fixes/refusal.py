"""Why a schema fix cannot go on: the refusal raised inside a run.

Why a database cannot be changed at all (missing, read-only, locked) is the back end's to say
(`SchemaFixes.write_problem` and `error_message`; SQLite's in `databases/sqlite/errors.py`).
"""

from __future__ import annotations

from dbheal_lsp.model import VerifyCheck


class Refused(Exception):
    """A reason not to go on; the transaction is rolled back and nothing has changed."""

    def __init__(self, message: str, check: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.check = VerifyCheck(check, False, detail or message)
