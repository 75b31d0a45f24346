"""The Settings page over HTTP: where each value comes from, and saving to pyproject.toml."""

from __future__ import annotations

import re

from .conftest import Running, logged_in


def test_settings_show_sources_and_save(admin: Running) -> None:
    client = logged_in(admin)
    page = client.get("/settings").text
    assert re.search(r"<code>database</code>.*?shop\.db.*?pyproject\.toml", page, re.S)
    assert re.search(r"<code>dialect</code>.*?sqlite.*?>default<", page, re.S)
    # With no `include`, every file of the languages dbheal reads is checked, and said so.
    assert re.search(
        r"<code>include</code>.*?all \*\.py \*\.js \*\.mjs \*\.cjs \*\.jsx \*\.ts \*\.mts "
        r"\*\.cts \*\.tsx.*?>default<",
        page,
        re.S,
    )
    pyproject = admin.root / "pyproject.toml"
    before = pyproject.read_text()
    fields = {
        "database": "shop.db",
        "migrations": "migrations",
        "exclude": "make_db.py\nscripts/*",
        "identifier-helpers": "quote_ident",
        "fail-on": "high",
        "severity.SELECT_STAR": "medium",
    }
    saved = client.post("/actions/settings", fields)
    assert saved.status == 303 and saved.header("Location") == "/settings"
    after = pyproject.read_text()
    assert 'fail-on = "high"' in after and 'exclude = ["make_db.py", "scripts/*"]' in after
    assert "# The live database (built by make_db.py" in after  # comments kept
    assert after.startswith(before.split("[tool.dbheal]")[0])  # [project] untouched
    assert admin.app.config.fail_on.value == "high"
    assert admin.app.config.sources["fail-on"] == "pyproject.toml"
    # An invalid value is shown with its reason, and nothing is written.
    refused = client.post("/actions/settings", {**fields, "migrations": "no/such/folder"})
    assert refused.status == 400
    assert "Not saved: migrations folder not found" in refused.text
    assert 'value="no/such/folder"' in refused.text  # what was typed stays in the form
    assert pyproject.read_text() == after
    bad_jobs = client.post("/actions/settings", {**fields, "jobs": "-2"})
    assert "jobs must be a whole number" in bad_jobs.text
    assert pyproject.read_text() == after
