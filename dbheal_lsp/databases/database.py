"""The database seam: what every back end raises and gives, whatever its driver."""

from __future__ import annotations

__all__ = ["SchemaError"]


class SchemaError(Exception):
    """The database cannot be read (missing, not a database, corrupt, locked, unreachable);
    `message` is one line meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
