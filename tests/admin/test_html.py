"""The HTML builder: what it is given is escaped, and nothing can make it run script
(docs/admin.md, "What comes from the code is text")."""

from __future__ import annotations

import json

import pytest

from dbheal_lsp.admin.html import el, json_script

from .conftest import EVIL_FILE, EVIL_SQL


def test_the_html_builder_escapes_what_it_is_given() -> None:
    assert el("td", None, EVIL_FILE) == "<td>&lt;img src=x onerror=alert(1)&gt;.py</td>"
    assert el("a", {"title": '"><script>'}, "x") == '<a title="&quot;&gt;&lt;script&gt;">x</a>'
    with pytest.raises(ValueError):
        el("a", {"onclick": "alert(1)"})
    with pytest.raises(ValueError):
        el("script", None, "alert(1)")
    with pytest.raises(ValueError):
        el("img src=x", None)
    script = json_script("data", {"sql": EVIL_SQL, "amp": "a & b"})
    assert "</script><script>" not in script
    assert script.count("</script>") == 1
    body = script.split(">", 1)[1].rsplit("<", 1)[0]
    assert "<" not in body and ">" not in body and "&" not in body
    assert json.loads(body) == {"sql": EVIL_SQL, "amp": "a & b"}
