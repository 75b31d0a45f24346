"""Which code fixes of one file can be applied together: the one overlap rule.

`dbheal fix` and the editor's "Fix all" both choose with `non_overlapping`, so they never
disagree about which fixes a whole-file fix makes.
"""

from __future__ import annotations

from collections.abc import Iterable

from dbheal_lsp.model import CodeFix, TextEdit


def edits_conflict(a: TextEdit, b: TextEdit) -> bool:
    """Return whether two edits of one file cannot both be applied.

    They conflict when they share text (each starts before the other ends), or when they start
    at the same position: two insertions at one offset, or an insertion at the start of a
    replacement, leave the order of the new texts to a guess. An edit that ends where the
    other starts does not conflict (an insertion there included).
    """
    a_start, a_end = (a.span.line, a.span.column), (a.span.end_line, a.span.end_column)
    b_start, b_end = (b.span.line, b.span.column), (b.span.end_line, b.span.end_column)
    return a_start == b_start or (a_start < b_end and b_start < a_end)


def non_overlapping(fixes: Iterable[CodeFix]) -> list[CodeFix]:
    """Return the fixes to apply together: each whole or not at all, in the order given.

    A fix is left out when one of its edits conflicts (`edits_conflict`) with an edit of a fix
    taken before it, or when a fix with its id was taken already.
    """
    taken: list[CodeFix] = []
    edits: list[TextEdit] = []
    seen: set[str] = set()
    for fix in fixes:
        if fix.id in seen or any(edits_conflict(a, b) for a in fix.edits for b in edits):
            continue
        seen.add(fix.id)
        taken.append(fix)
        edits.extend(fix.edits)
    return taken
