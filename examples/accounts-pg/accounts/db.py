"""The connection: psycopg 3, the URL from DATABASE_URL."""

from __future__ import annotations

import os

import psycopg


def connect() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(os.environ["DATABASE_URL"])


def fetch_all(sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with connect() as conn:
        return conn.execute(sql, params).fetchall()
