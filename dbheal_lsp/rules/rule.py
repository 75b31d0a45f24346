"""`Rule`: what dbheal knows about one issue type, in one record.

Each rule module (`rules/missing_table.py`, ...) holds its check and the `Rule` records of the
issue types it reports; `rules/__init__.py` lists them in `RULES`. Everything that names, ranks,
documents or runs a rule reads it from there: the default severities (config), SARIF's rule
texts (report), the documentation link (report, LSP) and the checks (the checker).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dbheal_lsp.analysis.oracle import Facts
from dbheal_lsp.model import Issue, IssueType, Severity

# docs/rules.md on the project's site: each rule has a section whose anchor is its name.
DOCS_URL = "https://github.com/dbheal/dbheal/blob/main/docs/rules.md"

Check = Callable[[Facts], Iterator[Issue]]


@dataclass(frozen=True)
class Rule:
    """One issue type: its names, default severity, documentation and check."""

    type: IssueType
    name: str  # SARIF's rule name: "MissingTable"
    severity: Severity  # unless the configuration says otherwise
    short: str  # SARIF's shortDescription
    full: str  # SARIF's fullDescription, and the help text
    tags: tuple[str, ...]
    # Yields this rule's issues of a statement. One check may report for two rules (SQL_INJECTION
    # and DYNAMIC_IDENTIFIER: an interpolated value is one or the other): it runs once.
    check: Check
    # Whether it runs on a statement SQLite rejected: only what the text alone shows is certain.
    runs_on_rejected: bool = False
    security_severity: str | None = None  # GitHub code scanning's 0-10 score, for security rules

    @property
    def anchor(self) -> str:
        """Return the anchor of the rule's section of docs/rules.md (its name, lower-cased)."""
        return self.type.value.lower()

    @property
    def docs_url(self) -> str:
        """Return the address of the rule's section of docs/rules.md."""
        return f"{DOCS_URL}#{self.anchor}"
