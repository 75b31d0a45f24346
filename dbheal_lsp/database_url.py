"""A database named by URL (`postgresql://user:secret@host/db`): recognised, and shown without
its password wherever dbheal names the database (the CLI's summary, JSON, SARIF, the editor)."""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "GIVEN_URL",
    "POSTGRES_SCHEMES",
    "database_url_setting",
    "is_postgres_url",
    "redacted",
    "scrubbed",
]

POSTGRES_SCHEMES = ("postgresql", "postgres")
#: The environment variable holding the URL the running command was given (`--database URL`),
#: as the CLI sets it for its own process: the fix engine, which finds a server again from the
#: file standing for it, connects only to a server the project names, this one included.
GIVEN_URL = "DBHEAL_GIVEN_DATABASE_URL"
_SECRET_KEYS = frozenset({"password", "sslpassword"})
# `password=...` in a libpq key/value string or a message that repeats one.
_KEYWORD_SECRET = re.compile(r"\b((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def is_postgres_url(text: object) -> bool:
    """Return whether `text` is a PostgreSQL connection URL (postgresql:// or postgres://)."""
    if not isinstance(text, str):
        return False
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in POSTGRES_SCHEMES


def database_url_setting(value: object) -> tuple[str | None, bool]:
    """Return the PostgreSQL URL the `database` setting names, or $DATABASE_URL's when the
    setting is not set and it names one (None for a SQLite file), and whether it came from the
    environment."""
    if is_postgres_url(value):
        return str(value), False
    environment = os.environ.get("DATABASE_URL")
    if (value is None or value == "") and is_postgres_url(environment):
        return environment, True
    return None, False


def redacted(url: str) -> str:
    """Return `url` without its password (user, host, port, database and options kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<a database URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostinfo = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}@{hostinfo}" if user else hostinfo
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, v) for k, v in pairs if k.lower() not in _SECRET_KEYS], safe="/")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrubbed(message: str, url: str | None = None) -> str:
    """Return `message` (a driver's error) with the password of `url` and any `password=...`
    removed: what the driver says may repeat what it was given."""
    if url:
        message = message.replace(url, redacted(url))
        for secret in _passwords_of(url):
            message = message.replace(secret, "***")
    return _KEYWORD_SECRET.sub(r"\1***", message)


def _passwords_of(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
        secrets = [v for k, v in parse_qsl(parts.query) if k.lower() in _SECRET_KEYS]
        if parts.password:
            secrets.append(parts.password)
    except ValueError:
        return []
    # A password is removed as written and as percent-decoded: messages may show either.
    from urllib.parse import unquote

    return [s for secret in secrets if secret for s in {secret, unquote(secret)}]
