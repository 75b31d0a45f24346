"""The Issues page over HTTP: its filters and orders, and the code shown around each issue."""

from __future__ import annotations

import re

from .conftest import Running, logged_in


def test_issues_filter_and_sort(admin: Running) -> None:
    client = logged_in(admin)
    every = client.get("/issues").text
    assert every.count('<tbody class="issue') == 26
    critical = client.get("/issues?severity=critical").text
    assert critical.count('<tbody class="issue') == 12
    assert "Showing 12 of 26 issues." in critical
    one_file = client.get("/issues?file=app/store/orders.py&type=MISSING_COLUMN").text
    assert one_file.count('<tbody class="issue') == 2
    by_table = client.get("/issues?table=user_preferences").text
    assert by_table.count('<tbody class="issue') == 3
    by_file = client.get("/issues?sort=file&dir=desc").text
    paths = re.findall(r'<td class="file">(.*?)<span', by_file)
    paths = [p.replace("<wbr>", "") for p in paths]
    assert paths == sorted(paths, reverse=True)
    # Each row shows the code around the issue, the issue's token marked.
    assert '<span class="xl hit"><span class="ln">97</span>' in every
    assert "<mark>customer_email</mark>" in every
