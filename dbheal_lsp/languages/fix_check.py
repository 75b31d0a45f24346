"""Whether a code fix does what it says: the code checked before and after the edit, its issue
gone and nothing added. One verdict for every language's fixes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from dbheal_lsp.model import Issue, IssueType

# Issues a rename may reveal rather than cause: the statement now resolves its table or column
# and is checked further (an index it lacks, a type, drift).
_REVEALED_BY_RENAME = frozenset(
    {IssueType.MISSING_INDEX, IssueType.TYPE_MISMATCH, IssueType.SCHEMA_DRIFT}
)


def clears_only(
    issue: Issue,
    before: Iterable[Issue],
    after: Iterable[Issue],
    kind: str,
    token: str | None = None,
    replacement: str | None = None,
) -> bool:
    """Return whether the edit of `kind` clears `issue` and adds no other: `before` and
    `after` are the issues of the same code before and after it. A rename of `token` to
    `replacement` may reveal what the resolved name lets the check see; a parameterize must
    leave no injection."""
    key = (issue.type, issue.message)
    old = Counter((i.type, i.message) for i in before)
    new = Counter((i.type, i.message) for i in after)
    if old[key] == 0 or new[key] >= old[key]:
        return False  # the code does not show the issue, or the edit did not clear it
    if kind == "parameterize" and any(t is IssueType.SQL_INJECTION for t, _ in new):
        return False
    if kind == "rename" and token and replacement:
        # Messages that named the old token name the new one now (SELECT * "of users").
        word = re.compile(rf"(?<!\w){re.escape(token)}(?!\w)")
        old = Counter({(t, word.sub(replacement, m)): n for (t, m), n in old.items()})
        revealed = set(_REVEALED_BY_RENAME)
        if issue.type is IssueType.MISSING_TABLE:
            revealed.add(IssueType.MISSING_COLUMN)  # columns of a table that now resolves
        new = Counter({k: n for k, n in new.items() if k[0] not in revealed})
    return not new - old
