"""The service's handlers: each sends its SQL through psycopg."""

from __future__ import annotations

from accounts.db import connect, fetch_all


def account(account_id: int) -> list[tuple[object, ...]]:
    return fetch_all("SELECT id, emial, owner FROM accounts WHERE id = %s", (account_id,))


def find_by_owner(owner: str) -> list[tuple[object, ...]]:
    return fetch_all("SELECT id, email FROM accounts WHERE owner = %s", (owner,))


def search(pattern: str) -> list[tuple[object, ...]]:
    return fetch_all(
        "SELECT id, email::text FROM accounts WHERE email ILIKE %s ORDER BY id LIMIT 20",
        (pattern,),
    )


def newest() -> list[tuple[object, ...]]:
    return fetch_all("SELECT id, email FROM accounts ORDER BY created_at DESC LIMT 10")


def statement(account_id: int) -> list[tuple[object, ...]]:
    return fetch_all("SELECT * FROM ledger WHERE account_id = %s", (account_id,))


def recent_movements(account_ids: list[int]) -> list[tuple[object, ...]]:
    return fetch_all(
        "SELECT account_id, sum(amount_cents) FROM ledger "
        "WHERE account_id = ANY(%s) AND booked_at > now() - interval '30 days' "
        "GROUP BY account_id",
        (account_ids,),
    )


def book(account_id: int, amount_cents: int, memo: str) -> None:
    with connect() as conn:
        conn.execute(
            "INSERT INTO ledger (account_id, amount_cents, memo) VALUES (%s, %s, %s)",
            (account_id, amount_cents),
        )
        conn.execute(
            "UPDATE accounts SET balance_cents = balance_cents + %(amount)s "
            "WHERE id = %(id)s RETURNING balance_cents",
            {"amount": amount_cents, "id": account_id},
        )


def open_account(email: str, owner: str) -> None:
    with connect() as conn:
        conn.execute(
            "INSERT INTO accounts (email, owner) VALUES (%s, %s) "
            "ON CONFLICT (email) DO UPDATE SET owner = excluded.owner",
            (email, owner),
        )


def by_email(email: str) -> list[tuple[object, ...]]:
    return fetch_all(f"SELECT id, owner FROM accounts WHERE email = '{email}'")


def count_rows(table: str) -> list[tuple[object, ...]]:
    return fetch_all(f"SELECT count(*) FROM {table}")


def session_account(token: str) -> list[tuple[object, ...]]:
    return fetch_all(
        "SELECT account_id FROM sessions WHERE token = %s AND expires_at > 1700000000",
        (token,),
    )


def partner(key_hash: str) -> list[tuple[object, ...]]:
    return fetch_all("SELECT account_id FROM api_keys WHERE key_hash = %s", (key_hash,))
