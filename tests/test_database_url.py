"""A database URL is recognised, and never shown with its password."""

from __future__ import annotations

import pytest

from dbheal_lsp.database_url import database_url_setting, is_postgres_url, redacted, scrubbed


def test_postgres_urls_are_recognised() -> None:
    assert is_postgres_url("postgresql://u@h/db")
    assert is_postgres_url("postgres://u:p@h:5432/db")
    assert is_postgres_url("PostgreSQL://h/db")
    assert not is_postgres_url("app.db")
    assert not is_postgres_url("sqlite:///app.db")
    assert not is_postgres_url(None)


def test_redacted_drops_the_password_only() -> None:
    assert redacted("postgresql://app:s3cr%40t@db.example:5432/prod?sslmode=require") == (
        "postgresql://app@db.example:5432/prod?sslmode=require"
    )
    assert redacted("postgres://h/db?user=u&password=pw&port=1") == "postgres://h/db?user=u&port=1"
    assert redacted("postgresql://:pw@h/db") == "postgresql://h/db"
    assert redacted("postgresql://u@/db?host=/tmp/x") == "postgresql://u@/db?host=/tmp/x"


def test_scrubbed_removes_the_password_from_a_message() -> None:
    url = "postgresql://app:s3cr%40t@h/db"
    message = f"cannot use {url}: password s3cr@t refused; password=abc"
    clean = scrubbed(message, url)
    assert "s3cr" not in clean and "abc" not in clean
    assert "postgresql://app@h/db" in clean


def test_the_setting_names_a_server_or_the_environment_does_when_it_is_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db/app")
    assert database_url_setting("postgresql://u@h/d") == ("postgresql://u@h/d", False)
    assert database_url_setting(None) == ("postgres://app@db/app", True)
    assert database_url_setting("app.db") == (None, False)  # a file wins over the environment
    monkeypatch.setenv("DATABASE_URL", "sqlite:///app.db")
    assert database_url_setting(None) == (None, False)
