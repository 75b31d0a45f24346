"""Sign-in, sign-out and session lookup."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time

from app.db import get_db

SESSION_TTL = 14 * 24 * 3600


def hash_password(password: str, salt: str) -> str:
    """Return the stored form of a password: 'salt$hex digest'."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 100_000)
    return f"{salt}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Return whether `password` matches a hash made by hash_password."""
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(hash_password(password, salt), stored)


def find_user_by_email(email: str) -> sqlite3.Row | None:
    db = get_db()
    return db.execute(
        "SELECT id, email, password_hash, display_name FROM users WHERE email = ?",
        (email,),
    ).fetchone()


def login(email: str, password: str) -> str | None:
    """Check the credentials and return a new session token, or None."""
    user = find_user_by_email(email)
    if user is None or not check_password(password, user["password_hash"]):
        return None
    db = get_db()
    db.execute(
        "UPDATE users SET last_login_at = datetime('now') WHERE id = ?",
        (user["id"],),
    )
    return create_session(user["id"])


def login_legacy(email: str, password: str) -> str | None:
    """The old mobile app's sign-in endpoint, kept alive for version 1.x clients."""
    db = get_db()
    # dbheal: planted SQL_INJECTION
    row = db.execute("SELECT id, password_hash FROM users WHERE email = '%s'" % email).fetchone()
    if row is None or not check_password(password, row["password_hash"]):
        return None
    return create_session(row["id"])


def create_session(user_id: int) -> str:
    """Open a session for `user_id` and return its token."""
    db = get_db()
    token = secrets.token_urlsafe(32)
    now = int(time.time())
    with db:
        db.execute(
            "INSERT INTO sessions (id, user_id, token, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (secrets.token_hex(16), str(user_id), token, now, now + SESSION_TTL),
        )
    return token


def current_user_id(token: str) -> str | None:
    """Return the user id of a live session (as the text the sessions table stores)."""
    db = get_db()
    row = db.execute(
        "SELECT user_id FROM sessions WHERE token = ? AND expires_at > ?",
        (token, int(time.time())),
    ).fetchone()
    return None if row is None else row["user_id"]


def sessions_for_user(user_id: str) -> list[sqlite3.Row]:
    """List a user's sessions for the 'signed-in devices' page."""
    db = get_db()
    # dbheal: planted TYPE_MISMATCH, SELECT_STAR
    return db.execute(f"SELECT * FROM sessions WHERE user_id = {int(user_id)}").fetchall()


def logout(token: str) -> None:
    db = get_db()
    with db:
        db.execute("DELETE FROM sessions WHERE token = ?", (token,))


def logout_everywhere(user_id: int) -> int:
    """End every session of a user; return how many there were."""
    db = get_db()
    with db:
        cur = db.execute("DELETE FROM sessions WHERE user_id = ?", (str(user_id),))
    return cur.rowcount


def purge_expired_sessions() -> int:
    db = get_db()
    with db:
        cur = db.execute("DELETE FROM sessions WHERE expires_at <= ?", (int(time.time()),))
    return cur.rowcount
