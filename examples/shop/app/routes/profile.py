"""The account page: profile details and display preferences."""

from __future__ import annotations

import sqlite3

from app.db import get_db, transaction

THEMES = ("light", "dark", "system")


def get_profile(user_id: int) -> sqlite3.Row | None:
    db = get_db()
    # dbheal: planted SELECT_STAR
    return db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def public_profile(user_id: int) -> sqlite3.Row | None:
    """What other customers may see of an account (reviews, wish lists)."""
    db = get_db()
    return db.execute(
        "SELECT id, display_name, created_at FROM users WHERE id = ?",
        (user_id,),
    ).fetchone()


def update_profile(user_id: int, display_name: str, email: str) -> None:
    with transaction() as db:
        db.execute(
            "UPDATE users SET display_name = :display_name, email = :email WHERE id = :id",
            {"display_name": display_name.strip(), "email": email.strip().lower(), "id": user_id},
        )


def get_preferences(user_id: int) -> dict[str, object]:
    """Return the user's theme and notification settings (defaults if never saved)."""
    db = get_db()
    # dbheal: planted MISSING_TABLE
    row = db.execute("SELECT theme, notifications FROM user_preferences WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        return {"theme": "light", "notifications": True}
    return {"theme": row["theme"], "notifications": bool(row["notifications"])}


def save_preferences(user_id: int, theme: str, notifications: bool) -> None:
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    with transaction() as db:
        db.execute(
            # dbheal: planted MISSING_TABLE
            "INSERT OR REPLACE INTO user_preferences (user_id, theme, notifications) VALUES (?, ?, ?)",
            (user_id, theme, notifications),
        )
