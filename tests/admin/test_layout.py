"""The pieces pages share: the one table builder."""

from __future__ import annotations

from dbheal_lsp.admin.html import el
from dbheal_lsp.admin.layout import table

from .conftest import EVIL_FILE


def test_table_heads_text_escaped_and_made_headers_as_they_are() -> None:
    sortable = el("th", {"aria-sort": "ascending"}, "File")
    body = el("tbody", None, el("tr", None, el("td", None, "x")))
    assert table((EVIL_FILE, sortable, None, ""), body, cls="issues") == (
        '<table class="table issues"><thead><tr>'
        "<th>&lt;img src=x onerror=alert(1)&gt;.py</th>"
        '<th aria-sort="ascending">File</th><th></th>'
        "</tr></thead><tbody><tr><td>x</td></tr></tbody></table>"
    )


def test_a_table_without_headers_has_no_header_row() -> None:
    assert table((), [el("tbody", None)]) == '<table class="table"><tbody></tbody></table>'
