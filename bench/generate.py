"""Generate a deterministic, realistic Python project to benchmark `dbheal check` against.

The project looks like the data layer of a mid-sized web shop: packages of repositories,
services, reports and jobs that talk to SQLite through the standard `sqlite3` module. Every file
holds ordinary Python (imports, dataclasses, loops, dict and list comprehensions, logging, type
hints) and 3-8 SQL statements, written the ways real code writes them: inline in
`conn.execute(...)`, batched with `cur.executemany(...)`, held in module constants or local
variables, as triple-quoted blocks or implicitly concatenated literals, always with `?`
parameters, against the real tables and columns of the migrations written beside it.

About 5% of the statements carry a seeded problem, in four kinds:

- ``injection``: the query is built with an f-string, `+` or `%` from a variable;
- ``typo``: a column name is misspelt (SQLite rejects the statement);
- ``select_star``: ``SELECT *``;
- ``unindexed``: a lookup on a column that no index covers (the query plan scans the table).

A few statements build an ``IN (?, ?, ...)`` list of placeholders with an f-string; that is safe,
and is recorded as the kind ``in_list`` (no problem) so that a checker's verdict on it can be
told apart from the seeded injections.

Alongside the code it writes ``migrations/00N_*.sql``, the SQLite database ``app.db`` built by
replaying them, a ``pyproject.toml`` with a ``[tool.dbheal]`` section, and
``bench-manifest.json``: the seed, the counts and every statement with its file, line, kind and
seeded problem. The same seed and sizes give the same files, byte for byte.

Usage (from the repository root)::

    .venv/bin/python bench/generate.py                  # 1,000 files, ~100k lines
    .venv/bin/python bench/generate.py --files 200 --out /tmp/small
    .venv/bin/python bench/generate.py --schema-from code   # bench/generated/code-schema

With ``--schema-from code`` the same project has no database and no migrations: its schema is
the ``CREATE`` statements of ``app/common/schema.py`` (one ``conn.execute`` each, the final
schema the migrations build), which is how dbheal learns the schema of such a project.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import shutil
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / "generated" / "project"
DEFAULT_CODE_OUT = BENCH_DIR / "generated" / "code-schema"
MANIFEST_NAME = "bench-manifest.json"
DEFAULT_SEED = 20240611

PROBLEM_RATE = 0.05
IN_LIST_RATE = 0.015
REPEAT_RATE = 0.10
PROBLEM_WEIGHTS = {"injection": 30, "typo": 25, "select_star": 20, "unindexed": 25}

# --------------------------------------------------------------------------------------------
# The schema
# --------------------------------------------------------------------------------------------

MIGRATION_FILES = {
    1: "001_init.sql",
    2: "002_orders.sql",
    3: "003_billing_support.sql",
    4: "004_audit_and_changes.sql",
}


@dataclass(frozen=True)
class TableSpec:
    """One table as the migrations create it, plus columns and indexes added later."""

    name: str
    migration: int
    columns: tuple[tuple[str, str], ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    unique_indexes: tuple[tuple[str, ...], ...] = ()
    later_columns: tuple[tuple[int, str, str], ...] = ()
    later_indexes: tuple[tuple[int, tuple[str, ...]], ...] = ()


FK = "INTEGER NOT NULL REFERENCES {}(id)"

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "users",
        1,
        (
            ("email", "TEXT NOT NULL UNIQUE"),
            ("display_name", "TEXT"),
            ("password_hash", "TEXT NOT NULL"),
            ("status", "TEXT NOT NULL DEFAULT 'active'"),
            ("created_at", "TEXT NOT NULL"),
            ("last_login_at", "TEXT"),
        ),
        indexes=(("created_at",),),
        later_columns=((4, "locale", "TEXT DEFAULT 'en'"),),
    ),
    TableSpec(
        "organizations",
        1,
        (
            ("name", "TEXT NOT NULL"),
            ("slug", "TEXT NOT NULL UNIQUE"),
            ("plan", "TEXT"),
            ("country_code", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
        ),
    ),
    TableSpec(
        "memberships",
        1,
        (
            ("organization_id", FK.format("organizations")),
            ("user_id", FK.format("users")),
            ("role", "TEXT NOT NULL DEFAULT 'member'"),
            ("joined_at", "TEXT NOT NULL"),
        ),
        indexes=(("organization_id",), ("user_id",)),
    ),
    TableSpec(
        "addresses",
        1,
        (
            ("user_id", FK.format("users")),
            ("line1", "TEXT NOT NULL"),
            ("line2", "TEXT"),
            ("city", "TEXT NOT NULL"),
            ("postal_code", "TEXT"),
            ("country_code", "TEXT NOT NULL"),
            ("is_default", "INTEGER NOT NULL DEFAULT 0"),
        ),
        indexes=(("user_id",),),
    ),
    TableSpec(
        "categories",
        1,
        (
            ("parent_id", "INTEGER REFERENCES categories(id)"),
            ("name", "TEXT NOT NULL"),
            ("slug", "TEXT NOT NULL UNIQUE"),
            ("position", "INTEGER NOT NULL DEFAULT 0"),
        ),
        indexes=(("parent_id",),),
    ),
    TableSpec(
        "products",
        1,
        (
            ("sku", "TEXT NOT NULL UNIQUE"),
            ("name", "TEXT NOT NULL"),
            ("description", "TEXT"),
            ("price_cents", "INTEGER NOT NULL"),
            ("currency", "TEXT NOT NULL DEFAULT 'EUR'"),
            ("category_id", "INTEGER REFERENCES categories(id)"),
            ("is_active", "INTEGER NOT NULL DEFAULT 1"),
            ("created_at", "TEXT NOT NULL"),
        ),
        indexes=(("category_id",),),
        later_columns=((4, "updated_at", "TEXT"),),
    ),
    TableSpec(
        "product_images",
        1,
        (
            ("product_id", FK.format("products")),
            ("url", "TEXT NOT NULL"),
            ("alt_text", "TEXT"),
            ("position", "INTEGER NOT NULL DEFAULT 0"),
        ),
        indexes=(("product_id",),),
    ),
    TableSpec(
        "suppliers",
        1,
        (
            ("name", "TEXT NOT NULL"),
            ("contact_email", "TEXT"),
            ("phone", "TEXT"),
            ("country_code", "TEXT"),
        ),
    ),
    TableSpec(
        "warehouses",
        1,
        (
            ("code", "TEXT NOT NULL UNIQUE"),
            ("name", "TEXT NOT NULL"),
            ("city", "TEXT"),
            ("country_code", "TEXT NOT NULL"),
        ),
    ),
    TableSpec(
        "inventory",
        1,
        (
            ("product_id", FK.format("products")),
            ("warehouse_id", FK.format("warehouses")),
            ("quantity", "INTEGER NOT NULL DEFAULT 0"),
            ("reserved", "INTEGER NOT NULL DEFAULT 0"),
            ("updated_at", "TEXT"),
        ),
        indexes=(("warehouse_id",),),
        unique_indexes=(("product_id", "warehouse_id"),),
    ),
    TableSpec(
        "sessions",
        1,
        (
            ("user_id", FK.format("users")),
            ("token", "TEXT NOT NULL UNIQUE"),
            ("user_agent", "TEXT"),
            ("ip_address", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
            ("expires_at", "TEXT NOT NULL"),
        ),
        indexes=(("user_id",), ("expires_at",)),
    ),
    TableSpec(
        "api_keys",
        1,
        (
            ("organization_id", FK.format("organizations")),
            ("key_hash", "TEXT NOT NULL UNIQUE"),
            ("label", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
            ("revoked_at", "TEXT"),
        ),
        indexes=(("organization_id",),),
    ),
    TableSpec(
        "carts",
        2,
        (
            ("user_id", "INTEGER REFERENCES users(id)"),
            ("created_at", "TEXT NOT NULL"),
            ("updated_at", "TEXT"),
        ),
        indexes=(("user_id",),),
    ),
    TableSpec(
        "cart_items",
        2,
        (
            ("cart_id", FK.format("carts")),
            ("product_id", FK.format("products")),
            ("quantity", "INTEGER NOT NULL DEFAULT 1"),
            ("added_at", "TEXT NOT NULL"),
        ),
        indexes=(("cart_id",),),
    ),
    TableSpec(
        "coupons",
        2,
        (
            ("code", "TEXT NOT NULL UNIQUE"),
            ("percent_off", "INTEGER"),
            ("amount_off_cents", "INTEGER"),
            ("valid_from", "TEXT NOT NULL"),
            ("valid_until", "TEXT"),
            ("max_redemptions", "INTEGER"),
        ),
    ),
    TableSpec(
        "orders",
        2,
        (
            ("user_id", FK.format("users")),
            ("status", "TEXT NOT NULL DEFAULT 'pending'"),
            ("total_cents", "INTEGER NOT NULL"),
            ("currency", "TEXT NOT NULL DEFAULT 'EUR'"),
            ("shipping_address_id", "INTEGER REFERENCES addresses(id)"),
            ("placed_at", "TEXT NOT NULL"),
            ("note", "TEXT"),
        ),
        indexes=(("user_id",), ("status",)),
        later_columns=((4, "coupon_id", "INTEGER REFERENCES coupons(id)"),),
        later_indexes=((4, ("placed_at",)),),
    ),
    TableSpec(
        "order_items",
        2,
        (
            ("order_id", FK.format("orders")),
            ("product_id", FK.format("products")),
            ("quantity", "INTEGER NOT NULL"),
            ("unit_price_cents", "INTEGER NOT NULL"),
            ("discount_cents", "INTEGER NOT NULL DEFAULT 0"),
        ),
        indexes=(("order_id",), ("product_id",)),
    ),
    TableSpec(
        "payments",
        2,
        (
            ("order_id", FK.format("orders")),
            ("provider", "TEXT NOT NULL"),
            ("provider_ref", "TEXT UNIQUE"),
            ("amount_cents", "INTEGER NOT NULL"),
            ("status", "TEXT NOT NULL"),
            ("created_at", "TEXT NOT NULL"),
        ),
        indexes=(("order_id",),),
    ),
    TableSpec(
        "refunds",
        2,
        (
            ("payment_id", FK.format("payments")),
            ("amount_cents", "INTEGER NOT NULL"),
            ("reason", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
        ),
        indexes=(("payment_id",),),
    ),
    TableSpec(
        "shipments",
        2,
        (
            ("order_id", FK.format("orders")),
            ("warehouse_id", "INTEGER REFERENCES warehouses(id)"),
            ("carrier", "TEXT NOT NULL"),
            ("tracking_number", "TEXT"),
            ("shipped_at", "TEXT"),
            ("delivered_at", "TEXT"),
        ),
        indexes=(("order_id",), ("tracking_number",)),
    ),
    TableSpec(
        "coupon_redemptions",
        2,
        (
            ("coupon_id", FK.format("coupons")),
            ("order_id", FK.format("orders")),
            ("redeemed_at", "TEXT NOT NULL"),
        ),
        indexes=(("coupon_id",),),
    ),
    TableSpec(
        "plans",
        3,
        (
            ("code", "TEXT NOT NULL UNIQUE"),
            ("name", "TEXT NOT NULL"),
            ("monthly_price_cents", "INTEGER NOT NULL"),
            ("seats", "INTEGER NOT NULL DEFAULT 1"),
        ),
    ),
    TableSpec(
        "subscriptions",
        3,
        (
            ("organization_id", FK.format("organizations")),
            ("plan_id", FK.format("plans")),
            ("status", "TEXT NOT NULL"),
            ("started_at", "TEXT NOT NULL"),
            ("renews_at", "TEXT"),
            ("canceled_at", "TEXT"),
        ),
        indexes=(("organization_id",), ("renews_at",)),
    ),
    TableSpec(
        "invoices",
        3,
        (
            ("subscription_id", FK.format("subscriptions")),
            ("number", "TEXT NOT NULL UNIQUE"),
            ("amount_cents", "INTEGER NOT NULL"),
            ("currency", "TEXT NOT NULL DEFAULT 'EUR'"),
            ("issued_at", "TEXT NOT NULL"),
            ("due_at", "TEXT"),
            ("paid_at", "TEXT"),
        ),
        indexes=(("subscription_id",),),
    ),
    TableSpec(
        "tickets",
        3,
        (
            ("user_id", FK.format("users")),
            ("subject", "TEXT NOT NULL"),
            ("body", "TEXT"),
            ("priority", "INTEGER NOT NULL DEFAULT 3"),
            ("status", "TEXT NOT NULL DEFAULT 'open'"),
            ("assigned_to", "INTEGER REFERENCES users(id)"),
            ("created_at", "TEXT NOT NULL"),
            ("closed_at", "TEXT"),
        ),
        indexes=(("user_id",), ("status",)),
    ),
    TableSpec(
        "ticket_comments",
        3,
        (
            ("ticket_id", FK.format("tickets")),
            ("author_id", FK.format("users")),
            ("body", "TEXT NOT NULL"),
            ("created_at", "TEXT NOT NULL"),
        ),
        indexes=(("ticket_id",),),
    ),
    TableSpec(
        "reviews",
        3,
        (
            ("product_id", FK.format("products")),
            ("user_id", FK.format("users")),
            ("rating", "INTEGER NOT NULL"),
            ("title", "TEXT"),
            ("body", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
        ),
        indexes=(("product_id",),),
    ),
    TableSpec(
        "notifications",
        3,
        (
            ("user_id", FK.format("users")),
            ("kind", "TEXT NOT NULL"),
            ("payload", "TEXT"),
            ("read_at", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
        ),
        indexes=(("user_id",),),
    ),
    TableSpec(
        "audit_log",
        4,
        (
            ("actor_id", "INTEGER REFERENCES users(id)"),
            ("action", "TEXT NOT NULL"),
            ("entity", "TEXT NOT NULL"),
            ("entity_id", "INTEGER"),
            ("details", "TEXT"),
            ("created_at", "TEXT NOT NULL"),
        ),
        indexes=(("entity", "entity_id"), ("created_at",)),
    ),
    TableSpec(
        "webhooks",
        4,
        (
            ("organization_id", FK.format("organizations")),
            ("url", "TEXT NOT NULL"),
            ("secret", "TEXT NOT NULL"),
            ("event", "TEXT NOT NULL"),
            ("is_active", "INTEGER NOT NULL DEFAULT 1"),
            ("created_at", "TEXT NOT NULL"),
        ),
        indexes=(("organization_id",),),
    ),
    TableSpec(
        "purchase_orders",
        4,
        (
            ("supplier_id", FK.format("suppliers")),
            ("warehouse_id", FK.format("warehouses")),
            ("status", "TEXT NOT NULL DEFAULT 'draft'"),
            ("ordered_at", "TEXT"),
            ("expected_at", "TEXT"),
        ),
        indexes=(("supplier_id",),),
    ),
)


@dataclass(frozen=True)
class Column:
    """A column of the final schema, with what the generator needs to know about it."""

    name: str
    sql_type: str
    not_null: bool
    unique: bool
    has_default: bool
    references: str | None

    @property
    def py_type(self) -> str:
        """Return the Python annotation of a value of this column."""
        return {"INTEGER": "int", "REAL": "float"}.get(self.sql_type, "str")


@dataclass
class Table:
    """A table of the final schema: columns in order, which columns an index can look up."""

    name: str
    columns: list[Column]
    lookups: list[str]  # id, UNIQUE columns and the leading column of every index
    unindexed: list[str]  # columns that no index starts with

    def col(self, name: str) -> Column:
        """Return the column called `name`."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def data_columns(self) -> list[Column]:
        """Return every column but the primary key."""
        return [c for c in self.columns if c.name != "id"]

    @property
    def unique_columns(self) -> list[str]:
        """Return the columns declared UNIQUE on their own."""
        return [c.name for c in self.columns if c.unique]


def parse_column(name: str, decl: str) -> Column:
    """Return the Column that `name decl` declares."""
    sql_type = decl.split()[0]
    ref = re.search(r"REFERENCES (\w+)\(id\)", decl)
    return Column(
        name=name,
        sql_type=sql_type,
        not_null="NOT NULL" in decl or "PRIMARY KEY" in decl,
        unique="UNIQUE" in decl,
        has_default="DEFAULT" in decl or "PRIMARY KEY" in decl,
        references=ref.group(1) if ref else None,
    )


def build_schema() -> dict[str, Table]:
    """Return the final schema (after every migration), keyed by table name."""
    tables: dict[str, Table] = {}
    for spec in TABLES:
        columns = [parse_column("id", "INTEGER PRIMARY KEY")]
        columns += [parse_column(n, d) for n, d in spec.columns]
        columns += [parse_column(n, d) for _, n, d in spec.later_columns]
        leading = [ix[0] for ix in spec.indexes + spec.unique_indexes]
        leading += [ix[0] for _, ix in spec.later_indexes]
        lookups = ["id"]
        for c in columns:
            if (c.unique or c.name in leading) and c.name not in lookups:
                lookups.append(c.name)
        unindexed = [c.name for c in columns if c.name not in lookups]
        tables[spec.name] = Table(spec.name, columns, lookups, unindexed)
    return tables


def index_sql(table: str, cols: Sequence[str], unique: bool = False) -> str:
    """Return a CREATE INDEX statement with a conventional name."""
    kind = "UNIQUE INDEX" if unique else "INDEX"
    name = ("ux_" if unique else "idx_") + table + "_" + "_".join(cols)
    return f"CREATE {kind} {name} ON {table} ({', '.join(cols)});"


def migration_texts() -> dict[str, str]:
    """Return the text of every migration file, keyed by file name."""
    titles = {
        1: "Accounts, catalogue and stock.",
        2: "Carts, orders, payments and shipping.",
        3: "Billing and customer support.",
        4: "Audit trail, webhooks, purchasing, and columns added since launch.",
    }
    parts: dict[int, list[str]] = {n: [f"-- {titles[n]}", ""] for n in MIGRATION_FILES}
    changes: dict[int, list[str]] = {n: [] for n in MIGRATION_FILES}
    for spec in TABLES:
        out = parts[spec.migration]
        out.append(f"CREATE TABLE {spec.name} (")
        decls = ["    id INTEGER PRIMARY KEY"] + [f"    {n} {d}" for n, d in spec.columns]
        out.append(",\n".join(decls))
        out.append(");")
        out.extend(index_sql(spec.name, ix) for ix in spec.indexes)
        out.extend(index_sql(spec.name, ix, unique=True) for ix in spec.unique_indexes)
        out.append("")
        for number, name, decl in spec.later_columns:
            changes[number].append(f"ALTER TABLE {spec.name} ADD COLUMN {name} {decl};")
        for number, ix in spec.later_indexes:
            changes[number].append(index_sql(spec.name, ix))
    for number, lines in changes.items():
        if lines:
            parts[number] += ["-- Changes to earlier tables.", *lines]
    return {MIGRATION_FILES[n]: "\n".join(lines).rstrip() + "\n" for n, lines in parts.items()}


# --------------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------------

NON_ASCII_FALLBACKS = (
    "Anónimo",
    "Ohne Namen — unbekannt",
    "名無し",
    "Sin título",
    "📦 pending",
    "Zürich",
    "Ελληνικά",
    "Без имени",
)
SQL_COMMENTS = (
    "-- Übersicht der offenen Posten (größte zuerst)",
    "-- résumé: only what the dashboard shows",
    "-- 注意: keep in sync with the admin export",
    "-- naïve but fast enough for ≤ 10k rows",
)
MISSPELLINGS = {
    "address": "adress",
    "quantity": "quanity",
    "currency": "currancy",
    "description": "descripton",
    "email": "emial",
    "status": "staus",
    "received": "recieved",
    "created_at": "create_at",
    "amount_cents": "ammount_cents",
    "tracking_number": "traking_number",
    "display_name": "dispaly_name",
    "expires_at": "expire_at",
}
SINGULAR = {
    "addresses": "address",
    "categories": "category",
    "inventory": "stock_level",
    "audit_log": "audit_entry",
    "cart_items": "cart_item",
    "order_items": "order_item",
    "product_images": "product_image",
    "coupon_redemptions": "coupon_redemption",
    "purchase_orders": "purchase_order",
    "ticket_comments": "ticket_comment",
}


def singular(table: str) -> str:
    """Return a plausible singular of a table name, for function names."""
    return SINGULAR.get(table, table[:-1] if table.endswith("s") else table)


@dataclass
class Query:
    """One SQL statement as the generated code sends it."""

    table: str
    kind: str  # select, get, exists, count, aggregate, join, subquery, insert, update, ...
    clauses: list[str]  # the statement split where a line break reads naturally
    params: list[tuple[str, str]]  # (Python name, annotation) for each `?`, in order
    result: str  # rows | row | scalar | exists | write
    columns: list[str] = field(default_factory=list)  # names of the result columns
    many: bool = False  # sent with executemany
    problem: str | None = None
    inject: tuple[str, str] | None = None  # (name, annotation) interpolated into the SQL
    name: str = ""  # a function name
    doc: str = ""
    comment: str | None = None  # a SQL comment line, for triple-quoted renderings

    @property
    def sql(self) -> str:
        """Return the statement on one line (injection holes as ``{name}``)."""
        return " ".join(self.clauses)


def _names(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return `params` with duplicate names made unique (since, since_2, ...)."""
    seen: dict[str, int] = {}
    out: list[tuple[str, str]] = []
    for name, annotation in params:
        count = seen.get(name, 0) + 1
        seen[name] = count
        out.append((name if count == 1 else f"{name}_{count}", annotation))
    return out


class QueryMaker:
    """Makes random but valid statements over the schema, and seeded problems."""

    def __init__(self, rng: random.Random, schema: dict[str, Table]) -> None:
        self.rng = rng
        self.schema = schema
        self.children: dict[str, list[tuple[str, str]]] = {t: [] for t in schema}
        for table in schema.values():
            for col in table.columns:
                if col.references:
                    self.children[col.references].append((table.name, col.name))

    # -- helpers -------------------------------------------------------------------------

    def pick_columns(self, table: Table, low: int = 2, high: int = 5) -> list[str]:
        """Return id and a few other columns, in table order."""
        others = [c.name for c in table.data_columns]
        k = min(len(others), self.rng.randint(low - 1, high - 1))
        chosen = set(self.rng.sample(others, k))
        return ["id"] + [c for c in others if c in chosen]

    def lookup_filter(self, table: Table, alias: str = "") -> tuple[str, tuple[str, str]]:
        """Return an indexed equality filter and its parameter."""
        choices = [c for c in table.lookups if c != "id"] or ["id"]
        name = self.rng.choice(choices) if self.rng.random() < 0.8 else "id"
        col = table.col(name)
        pname = f"{singular(table.name)}_id" if name == "id" else name
        return f"{alias}{name} = ?", (pname, col.py_type)

    def select_list(self, table: Table, cols: list[str], alias: str = "") -> str:
        """Return the select list, sometimes with a COALESCE over a nullable text column."""
        items = []
        for name in cols:
            col = table.col(name)
            if col.sql_type == "TEXT" and not col.not_null and self.rng.random() < 0.12:
                fallback = self.rng.choice(NON_ASCII_FALLBACKS)
                items.append(f"COALESCE({alias}{name}, '{fallback}') AS {name}")
            else:
                items.append(f"{alias}{name}")
        return ", ".join(items)

    def extra_condition(
        self, table: Table, used: str, alias: str = ""
    ) -> tuple[str, list[tuple[str, str]]]:
        """Return a second AND condition on another column, or nothing."""
        if self.rng.random() > 0.4:
            return "", []
        col = self.rng.choice([c for c in table.data_columns if c.name != used])
        if col.name.startswith("is_"):
            return f" AND {alias}{col.name} = 1", []
        if col.name.endswith("_at") and self.rng.random() < 0.7:
            if self.rng.random() < 0.3:
                return f" AND {alias}{col.name} IS NULL", []
            return f" AND {alias}{col.name} >= ?", [("since", "str")]
        return f" AND {alias}{col.name} = ?", [(col.name, col.py_type)]

    def order_by(self, table: Table, alias: str = "") -> str:
        """Return an ORDER BY clause, or nothing."""
        if self.rng.random() > 0.5:
            return ""
        stamps = [c.name for c in table.columns if c.name.endswith("_at")]
        if stamps and self.rng.random() < 0.7:
            return f"ORDER BY {alias}{self.rng.choice(stamps)} DESC"
        named = [c.name for c in table.columns if c.name in ("name", "position", "code")]
        return f"ORDER BY {alias}{self.rng.choice(named or ['id'])}"

    # -- clean statements ----------------------------------------------------------------

    def select(self, table: Table) -> Query:
        cols = self.pick_columns(table)
        cond, param = self.lookup_filter(table)
        extra, extra_params = self.extra_condition(table, cond.split()[0])
        clauses = [f"SELECT {self.select_list(table, cols)}", f"FROM {table.name}"]
        clauses.append(f"WHERE {cond}{extra}")
        params = [param, *extra_params]
        order = self.order_by(table)
        if order:
            clauses.append(order)
        if self.rng.random() < 0.35:
            clauses.append("LIMIT ?")
            params.append(("limit", "int"))
        by = param[0]
        return Query(
            table.name,
            "select",
            clauses,
            _names(params),
            "rows",
            cols,
            name=f"list_{table.name}_by_{by}",
            doc=f"Return the {table.name} rows with the given {by.replace('_', ' ')}.",
        )

    def get(self, table: Table) -> Query:
        cols = self.pick_columns(table, 3, 7)
        one = singular(table.name)
        return Query(
            table.name,
            "get",
            [f"SELECT {self.select_list(table, cols)}", f"FROM {table.name}", "WHERE id = ?"],
            [(f"{one}_id", "int")],
            "row",
            cols,
            name=f"get_{one}",
            doc=f"Return one {one.replace('_', ' ')} by id, or None.",
        )

    def exists(self, table: Table) -> Query:
        uniques = table.unique_columns or ["id"]
        col = self.rng.choice(uniques)
        ptype = table.col(col).py_type
        return Query(
            table.name,
            "exists",
            [f"SELECT 1 FROM {table.name} WHERE {col} = ?", "LIMIT 1"],
            [(col if col != "id" else f"{singular(table.name)}_id", ptype)],
            "exists",
            name=f"{singular(table.name)}_exists",
            doc=f"Return whether a {singular(table.name).replace('_', ' ')} with this {col} exists.",
        )

    def count(self, table: Table) -> Query:
        cond, param = self.lookup_filter(table)
        return Query(
            table.name,
            "count",
            [f"SELECT COUNT(*) FROM {table.name}", f"WHERE {cond}"],
            [param],
            "scalar",
            name=f"count_{table.name}_by_{param[0]}",
            doc=f"Count the {table.name} rows with the given {param[0].replace('_', ' ')}.",
        )

    def aggregate(self, table: Table) -> Query:
        cond, param = self.lookup_filter(table)
        group_choices = [c.name for c in table.data_columns if c.name != cond.split()[0]]
        group = self.rng.choice(group_choices)
        ints = [
            c.name
            for c in table.data_columns
            if c.sql_type == "INTEGER" and not c.references and c.name != group
        ]
        select = f"SELECT {group}, COUNT(*) AS n"
        if ints:
            pick = self.rng.choice(ints)
            select += f", SUM({pick}) AS total_{pick}"
        clauses = [select, f"FROM {table.name}", f"WHERE {cond}", f"GROUP BY {group}"]
        clauses.append("ORDER BY n DESC")
        return Query(
            table.name,
            "aggregate",
            clauses,
            [param],
            "rows",
            [group, "n"] + ([f"total_{pick}"] if ints else []),
            name=f"{table.name}_totals_by_{group}",
            doc=f"Return {table.name} counts per {group.replace('_', ' ')}.",
        )

    def join(self, table: Table) -> Query | None:
        fks = [c for c in table.data_columns if c.references and c.references != table.name]
        if not fks:
            return None
        fk = self.rng.choice(fks)
        parent = self.schema[fk.references or ""]
        a, b = "c", "p"
        child_cols = self.pick_columns(table, 2, 4)
        parent_cols = [c for c in self.pick_columns(parent, 2, 3) if c != "id"]
        select = self.select_list(table, child_cols, f"{a}.")
        if parent_cols:
            select += ", " + ", ".join(f"{b}.{c} AS {parent.name}_{c}" for c in parent_cols)
        cond, param = self.lookup_filter(table, f"{a}.")
        kind = "LEFT JOIN" if not fk.not_null and self.rng.random() < 0.6 else "JOIN"
        clauses = [
            f"SELECT {select}",
            f"FROM {table.name} AS {a}",
            f"{kind} {parent.name} AS {b} ON {b}.id = {a}.{fk.name}",
            f"WHERE {cond}",
        ]
        order = self.order_by(table, f"{a}.")
        if order:
            clauses.append(order)
        return Query(
            table.name,
            "join",
            clauses,
            [param],
            "rows",
            child_cols + [f"{parent.name}_{c}" for c in parent_cols],
            name=f"list_{table.name}_with_{singular(parent.name)}",
            doc=f"Return {table.name} rows together with their {singular(parent.name)}.",
        )

    def subquery(self, table: Table) -> Query | None:
        kids = [(t, c) for t, c in self.children[table.name] if c in self.schema[t].lookups]
        if not kids:
            return None
        child_name, fk = self.rng.choice(kids)
        child = self.schema[child_name]
        cond, param = self.lookup_filter(child)
        cols = self.pick_columns(table, 2, 4)
        clauses = [
            f"SELECT {self.select_list(table, cols)}",
            f"FROM {table.name}",
            f"WHERE id IN (SELECT {fk} FROM {child_name} WHERE {cond})",
        ]
        return Query(
            table.name,
            "subquery",
            clauses,
            [param],
            "rows",
            cols,
            name=f"list_{table.name}_for_{singular(child_name)}_{param[0]}",
            doc=f"Return the {table.name} referenced by {child_name} with this {param[0]}.",
        )

    def insert(self, table: Table) -> Query:
        cols = [c.name for c in table.data_columns if c.not_null and not c.has_default]
        optional = [c.name for c in table.data_columns if c.name not in cols]
        extra = set(self.rng.sample(optional, self.rng.randint(0, len(optional))))
        cols = [c.name for c in table.data_columns if c.name in cols or c.name in extra]
        many = self.rng.random() < 0.5
        marks = ", ".join("?" for _ in cols)
        return Query(
            table.name,
            "insert",
            [f"INSERT INTO {table.name} ({', '.join(cols)})", f"VALUES ({marks})"],
            [(c, table.col(c).py_type) for c in cols],
            "write",
            cols,
            many=many,
            name=("bulk_insert_" if many else "insert_") + table.name,
            doc=f"Insert {'many ' if many else 'one '}{table.name} row{'s' if many else ''}.",
        )

    def upsert(self, table: Table) -> Query | None:
        uniques = table.unique_columns
        if not uniques:
            return None
        key = self.rng.choice(uniques)
        required = [c.name for c in table.data_columns if c.not_null and not c.has_default]
        cols = [key] + [c for c in required if c != key]
        others = [c.name for c in table.data_columns if c.name not in cols and not c.unique]
        cols += self.rng.sample(others, min(len(others), self.rng.randint(0, 2)))
        updates = [c for c in cols if c != key]
        if not updates:
            return None
        sets = ", ".join(f"{c} = excluded.{c}" for c in updates)
        return Query(
            table.name,
            "upsert",
            [
                f"INSERT INTO {table.name} ({', '.join(cols)})",
                f"VALUES ({', '.join('?' for _ in cols)})",
                f"ON CONFLICT ({key}) DO UPDATE SET {sets}",
            ],
            [(c, table.col(c).py_type) for c in cols],
            "write",
            cols,
            many=self.rng.random() < 0.3,
            name=f"upsert_{singular(table.name)}",
            doc=f"Insert or update a {singular(table.name).replace('_', ' ')} by {key}.",
        )

    def update(self, table: Table) -> Query:
        candidates = [c for c in table.data_columns if not c.unique and not c.references]
        chosen = self.rng.sample(candidates, min(len(candidates), self.rng.randint(1, 3)))
        sets: list[str] = []
        params: list[tuple[str, str]] = []
        for col in chosen:
            if col.name in ("quantity", "reserved", "position") and self.rng.random() < 0.5:
                sets.append(f"{col.name} = {col.name} + ?")
                params.append(("delta", "int"))
            elif col.name.endswith("_at") and self.rng.random() < 0.4:
                sets.append(f"{col.name} = CURRENT_TIMESTAMP")
            else:
                sets.append(f"{col.name} = ?")
                params.append((col.name, col.py_type))
        one = singular(table.name)
        if self.rng.random() < 0.7:
            where, wparam = "id = ?", (f"{one}_id", "int")
        else:
            where, wparam = self.lookup_filter(table)
        many = bool(params) and self.rng.random() < 0.25
        return Query(
            table.name,
            "update",
            [f"UPDATE {table.name}", f"SET {', '.join(sets)}", f"WHERE {where}"],
            _names([*params, wparam]),
            "write",
            many=many,
            name=f"update_{one}_{chosen[0].name}",
            doc=f"Update the {chosen[0].name.replace('_', ' ')} of {table.name} rows.",
        )

    def delete(self, table: Table) -> Query:
        one = singular(table.name)
        stamps = [c for c in table.lookups if c.endswith("_at")]
        if stamps and self.rng.random() < 0.5:
            col = self.rng.choice(stamps)
            return Query(
                table.name,
                "delete",
                [f"DELETE FROM {table.name}", f"WHERE {col} < ?"],
                [("cutoff", "str")],
                "write",
                name=f"purge_{table.name}_before",
                doc=f"Delete {table.name} rows whose {col.replace('_', ' ')} is before a cutoff.",
            )
        many = self.rng.random() < 0.3
        return Query(
            table.name,
            "delete",
            [f"DELETE FROM {table.name}", "WHERE id = ?"],
            [(f"{one}_id", "int")],
            "write",
            many=many,
            name=f"delete_{table.name}" if many else f"delete_{one}",
            doc=f"Delete {table.name} rows by id.",
        )

    def in_list(self, table: Table) -> Query:
        cols = self.pick_columns(table)
        return Query(
            table.name,
            "in_list",
            [
                f"SELECT {self.select_list(table, cols)}",
                f"FROM {table.name}",
                "WHERE id IN ({placeholders})",
            ],
            [],
            "rows",
            cols,
            name=f"fetch_{table.name}_by_ids",
            doc=f"Return the {table.name} rows with these ids, in one round trip.",
        )

    CLEAN_KINDS: tuple[tuple[str, int], ...] = (
        ("select", 26),
        ("get", 16),
        ("exists", 4),
        ("count", 6),
        ("aggregate", 5),
        ("join", 8),
        ("subquery", 3),
        ("insert", 12),
        ("upsert", 4),
        ("update", 11),
        ("delete", 5),
    )

    def clean(self, table: Table, weights: dict[str, int] | None = None) -> Query:
        """Return a correct statement on `table` (of a kind drawn by `weights`)."""
        kinds = [k for k, _ in self.CLEAN_KINDS]
        w = [(weights or {}).get(k, base) for k, base in self.CLEAN_KINDS]
        while True:
            kind = self.rng.choices(kinds, w)[0]
            query: Query | None = getattr(self, kind)(table)
            if query is not None:
                return query

    # -- seeded problems -----------------------------------------------------------------

    def injection(self, table: Table) -> Query:
        cond, (pname, ptype) = self.lookup_filter(table)
        col = cond.split()[0]
        hole = f"'{{{pname}}}'" if ptype == "str" else f"{{{pname}}}"
        if self.rng.random() < 0.25 and len(table.data_columns) > 1:
            target = self.rng.choice([c for c in table.data_columns if not c.unique])
            value = f"{{new_{target.name}}}"
            if target.py_type == "str":
                value = f"'{value}'"
            return Query(
                table.name,
                "update",
                [f"UPDATE {table.name}", f"SET {target.name} = {value}", f"WHERE {col} = {hole}"],
                [],
                "write",
                problem="injection",
                inject=(pname, ptype),
                name=f"set_{singular(table.name)}_{target.name}",
                doc=f"Set the {target.name.replace('_', ' ')} of matching {table.name}.",
                columns=[f"new_{target.name}", target.py_type],
            )
        cols = self.pick_columns(table)
        return Query(
            table.name,
            "select",
            [f"SELECT {', '.join(cols)}", f"FROM {table.name}", f"WHERE {col} = {hole}"],
            [],
            "rows",
            cols,
            problem="injection",
            inject=(pname, ptype),
            name=f"search_{table.name}_by_{pname}",
            doc=f"Return {table.name} matching a {pname.replace('_', ' ')} typed by the user.",
        )

    def misspell(self, name: str, forbidden: set[str]) -> str:
        """Return a plausible misspelling of `name` that is no column of the schema."""
        for word, wrong in MISSPELLINGS.items():
            if word in name and self.rng.random() < 0.6:
                candidate = name.replace(word, wrong)
                if candidate not in forbidden:
                    return candidate
        for _ in range(50):
            i = self.rng.randrange(1, len(name) - 1)
            op = self.rng.choice(("swap", "drop", "double"))
            if op == "swap":
                if "_" in name[i : i + 2] or name[i] == name[i + 1]:
                    continue
                candidate = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
            elif op == "drop":
                if name[i] == "_":
                    continue
                candidate = name[:i] + name[i + 1 :]
            else:
                if name[i] == "_":
                    continue
                candidate = name[:i] + name[i] + name[i:]
            if candidate not in forbidden:
                return candidate
        return name + "_x"

    def typo(self, table: Table) -> Query:
        forbidden = {c.name for t in self.schema.values() for c in t.columns}
        if self.rng.random() < 0.3:
            query = self.update(table)
        else:
            query = self.select(table)
            # Keep the select list plain so that the misspelt name is easy to point at.
            query.clauses[0] = f"SELECT {', '.join(query.columns)}"
        if query.kind == "update":
            set_cols = re.findall(r"(\w+) = ", query.clauses[1])
            victim = self.rng.choice(set_cols)
            index = 1
        elif query.clauses[2].split()[1] != "id" and self.rng.random() < 0.4:
            victim = query.clauses[2].split()[1]
            index = 2
        else:
            if len(query.columns) == 1:  # only id: name one more column to misspell
                query.columns.append(table.data_columns[0].name)
                query.clauses[0] = f"SELECT {', '.join(query.columns)}"
            victim = self.rng.choice(query.columns[1:])
            index = 0
        wrong = self.misspell(victim, forbidden)
        query.clauses[index] = re.sub(rf"\b{victim}\b", wrong, query.clauses[index], count=1)
        query.columns = [wrong if c == victim else c for c in query.columns]
        query.problem = "typo"
        return query

    def select_star(self, table: Table) -> Query:
        cond, param = self.lookup_filter(table)
        clauses = [f"SELECT * FROM {table.name}", f"WHERE {cond}"]
        order = self.order_by(table)
        if order:
            clauses.append(order)
        return Query(
            table.name,
            "select",
            clauses,
            [param],
            "rows",
            [c.name for c in table.columns],
            problem="select_star",
            name=f"load_{table.name}_by_{param[0]}",
            doc=f"Load whole {table.name} rows for one {param[0].replace('_', ' ')}.",
        )

    def unindexed(self, table: Table) -> Query:
        candidates = [c for c in table.unindexed if not table.col(c).name.startswith("is_")]
        col = table.col(self.rng.choice(candidates or table.unindexed))
        if self.rng.random() < 0.2:
            return Query(
                table.name,
                "delete",
                [f"DELETE FROM {table.name}", f"WHERE {col.name} = ?"],
                [(col.name, col.py_type)],
                "write",
                problem="unindexed",
                name=f"delete_{table.name}_by_{col.name}",
                doc=f"Delete the {table.name} rows with this {col.name.replace('_', ' ')}.",
            )
        cols = self.pick_columns(table)
        clauses = [f"SELECT {', '.join(cols)}", f"FROM {table.name}", f"WHERE {col.name} = ?"]
        params = [(col.name, col.py_type)]
        if self.rng.random() < 0.3:
            clauses.append("LIMIT ?")
            params.append(("limit", "int"))
        return Query(
            table.name,
            "select",
            clauses,
            params,
            "rows",
            cols,
            problem="unindexed",
            name=f"find_{table.name}_by_{col.name}",
            doc=f"Return the {table.name} rows with this {col.name.replace('_', ' ')}.",
        )

    def problem(self, table: Table, kind: str) -> Query:
        """Return a statement on `table` (or a table where it fits) with a seeded problem."""
        if kind == "unindexed" and not table.unindexed:
            table = self.rng.choice([t for t in self.schema.values() if t.unindexed])
        maker: Callable[[Table], Query] = getattr(self, kind)
        return maker(table)


# --------------------------------------------------------------------------------------------
# Python source
# --------------------------------------------------------------------------------------------


@dataclass
class Block:
    """Some lines of source, the imports they need, and marks to find lines again."""

    lines: list[str]
    imports: set[str] = field(default_factory=set)
    marks: dict[str, int] = field(default_factory=dict)  # key -> index into lines


def py_str(text: str) -> str:
    """Return `text` as a double-quoted Python literal (our SQL has no quotes or backslashes)."""
    assert '"' not in text and "\\" not in text
    return f'"{text}"'


class FileWriter:
    """Writes one module: blocks of constants, classes and functions, then the imports."""

    def __init__(self, rng: random.Random, module: str) -> None:
        self.rng = rng
        self.module = module
        self.constants: list[Block] = []
        self.blocks: list[Block] = []
        self.used_names: set[str] = set()

    def unique(self, name: str) -> str:
        """Return `name`, or `name_2`, `name_3`... if it is taken in this module."""
        candidate, n = name, 1
        while candidate in self.used_names:
            n += 1
            candidate = f"{name}_{n}"
        self.used_names.add(candidate)
        return candidate

    def line_count(self) -> int:
        return sum(len(b.lines) + 2 for b in self.constants + self.blocks) + 12


def sql_lines(q: Query, indent: str, *, style: str, prefix: str = "") -> list[str]:
    """Return the lines of a SQL literal in `style` (inline, concat or triple)."""
    if style == "inline":
        return [indent + prefix + py_str(q.sql)]
    if style == "concat":
        parts = [c + " " for c in q.clauses[:-1]] + [q.clauses[-1]]
        return [indent + prefix + py_str(p) for p in parts]
    body = ([q.comment] if q.comment else []) + q.clauses
    inner = indent + "    "
    return [indent + prefix + '"""', *[inner + c for c in body], indent + '"""']


def render_params(q: Query) -> str:
    """Return the parameters tuple of a single execute, or '' when there are none."""
    names = [n for n, _ in q.params]
    if not names:
        return ""
    if len(names) == 1:
        return f"({names[0]},)"
    return f"({', '.join(names)})"


def row_tuple(q: Query, item: str) -> str:
    """Return the expression that turns one mapping `item` into a parameter tuple."""
    values = [f'{item}["{n}"]' for n, _ in q.params]
    return f"({values[0]},)" if len(values) == 1 else f"({', '.join(values)})"


class CodeMaker:
    """Turns statements into functions or methods, and writes ordinary filler code."""

    def __init__(self, rng: random.Random, schema: dict[str, Table]) -> None:
        self.rng = rng
        self.schema = schema

    # -- statements ------------------------------------------------------------------------

    def query_function(
        self, fw: FileWriter, q: Query, *, method: bool, receiver_style: str
    ) -> Block:
        """Return a function (or method, indented) that runs `q`, with marks sql/call."""
        rng = self.rng
        ind = "        " if method else "    "
        out: list[str] = []
        marks: dict[str, int] = {}
        imports = {"sqlite3"} if not method else set()
        name = fw.unique(q.name)
        conn = "self._conn" if method else "conn"
        first = ["self"] if method else ["conn: sqlite3.Connection"]

        if q.many:
            sig = [*first, "items: Iterable[Mapping[str, Any]]"]
            imports |= {"Iterable", "Mapping", "Any"}
            if len(q.params) == 1 and q.params[0][0].endswith("_id"):
                sig = [*first, f"{q.params[0][0]}s: Iterable[int]"]
                imports -= {"Mapping", "Any"}
        elif q.inject:
            sig = [*first, f"{q.inject[0]}: {q.inject[1]}"]
            if q.kind == "update" and q.columns:
                sig.append(f"{q.columns[0]}: {q.columns[1]}")
        else:
            sig = list(first)
            for pname, ptype in q.params:
                if pname == "limit":
                    sig.append("limit: int = 100")
                else:
                    sig.append(f"{pname}: {ptype}")
        returns = {
            "rows": "list[dict[str, Any]]",
            "row": "dict[str, Any] | None",
            "scalar": "int",
            "exists": "bool",
            "write": "int",
        }[q.result]
        if q.result == "rows" and rng.random() < 0.25:
            returns = "list[tuple[Any, ...]]"
        if "Any" in returns:
            imports.add("Any")
        if q.kind == "in_list":
            sig = [*first, "ids: Sequence[int]"]
            imports.add("Sequence")

        header = f"{ind[:-4]}def {name}({', '.join(sig)}) -> {returns}:"
        if len(header) > 100:
            out.append(f"{ind[:-4]}def {name}(")
            out.extend(f"{ind}{s}," for s in sig)
            out.append(f"{ind[:-4]}) -> {returns}:")
        else:
            out.append(header)
        out.append(f'{ind}"""{q.doc}"""')

        # How the SQL reaches execute(): a module constant, a local variable, or inline.
        if q.inject:
            style = rng.choice(("fstring", "fstring", "fstring", "concat", "percent"))
            expr_lines = self.injection_expr(q, ind, style)
            if rng.random() < 0.5:
                marks["sql"] = len(out)
                expr_lines[0] = expr_lines[0].replace(ind, ind + "query = ", 1)
                out.extend(expr_lines)
                sql_arg = ["query"]
            else:
                sql_arg = [line.replace(ind, ind + "    ", 1) for line in expr_lines]
        elif q.kind == "in_list":
            out.append(f"{ind}if not ids:")
            out.append(f"{ind}    return []")
            out.append(f'{ind}placeholders = ", ".join("?" for _ in ids)')
            sql_arg = [f"{ind}    f{py_str(q.sql)}"]
        else:
            where = rng.choices(("constant", "local", "inline"), (30, 25, 45))[0]
            long = len(q.sql) > 70
            if where == "constant":
                const = fw.unique(name.upper().lstrip("_") + "_SQL")
                style = (
                    "triple" if long and rng.random() < 0.6 else ("concat" if long else "inline")
                )
                if style == "triple" and rng.random() < 0.15:
                    q.comment = rng.choice(SQL_COMMENTS)
                if style == "concat":
                    lines = [f"{const} = (", *sql_lines(q, "    ", style="concat"), ")"]
                    mark_at = 1
                else:
                    lines = sql_lines(q, "", style=style, prefix=f"{const} = ")
                    mark_at = 0
                fw.constants.append(Block(lines, marks={"sql": mark_at}))
                q_key = f"const:{const}"
                marks[q_key] = -1  # resolved by the caller through the constant block
                sql_arg = [f"{ind}    {const}"]
            elif where == "local":
                style = "triple" if long or rng.random() < 0.4 else "inline"
                if style == "triple" and rng.random() < 0.15:
                    q.comment = rng.choice(SQL_COMMENTS)
                var = rng.choice(("sql", "query", "stmt"))
                marks["sql"] = len(out)
                out.extend(sql_lines(q, ind, style=style, prefix=f"{var} = "))
                sql_arg = [f"{ind}    {var}"]
            else:
                style = "concat" if long else "inline"
                sql_arg = sql_lines(q, ind + "    ", style=style)

        params = render_params(q)
        rest: list[str] = []  # the arguments after the SQL
        if q.many:
            row = rng.choice(("item", "row", "entry"))
            if sig[-1].endswith("Iterable[int]"):
                ids = sig[-1].split(":")[0]
                out.append(f"{ind}rows = [(value,) for value in {ids}]")
            else:
                one_line = f"{ind}rows = [{row_tuple(q, row)} for {row} in items]"
                if len(one_line) <= 100:
                    out.append(one_line)
                else:
                    out += [f"{ind}rows = [", f"{ind}    {row_tuple(q, row)}"]
                    out += [f"{ind}    for {row} in items", f"{ind}]"]
            out.append(f"{ind}if not rows:")
            out.append(f"{ind}    return 0")
            rest = ["rows"]
        elif q.kind == "in_list":
            rest = ["tuple(ids)"]
        elif params:
            rest = [params]

        def call(target: str, fn: str, lead: str, tail: str = "") -> list[str]:
            """Return `lead target.fn(sql, *rest)tail` on one line if it fits, else on several."""
            if len(sql_arg) == 1:
                args = ", ".join([sql_arg[0].strip(), *rest])
                one_line = f"{ind}{lead}{target}.{fn}({args}){tail}"
                if len(one_line) <= 100:
                    marks.setdefault("sql", len(out))
                    marks["call"] = len(out)
                    return [one_line]
            marks["call"] = len(out)
            marks.setdefault("sql", len(out) + 1)
            # Implicitly concatenated pieces make one argument: a comma after the last only.
            lines = [f"{ind}{lead}{target}.{fn}(", *sql_arg[:-1], sql_arg[-1] + ","]
            lines += [f"{ind}    {arg}," for arg in rest]
            lines.append(f"{ind}){tail}")
            return lines

        write = q.result == "write"
        if q.many:
            cur_name = "cur"
            out.append(f"{ind}{cur_name} = {conn}.cursor()")
            lines = call(cur_name, "executemany", "")
            out.extend(lines)
            out.append(f"{ind}{conn}.commit()")
            out.append(f'{ind}logger.info("{name}: %d rows", len(rows))')
            out.append(f"{ind}return len(rows)")
        elif write:
            if receiver_style == "transaction" and not method:
                imports.add("transaction")
                out.append(f"{ind}with transaction({conn}):")
                sub = ind + "    "
                body = call(conn, "execute", "cur = ")
                out.extend(line.replace(ind, sub, 1) for line in body)
            else:
                out.extend(call(conn, "execute", "cur = "))
                out.append(f"{ind}{conn}.commit()")
            if q.kind == "insert" or q.kind == "upsert":
                out.append(f"{ind}return int(cur.lastrowid or 0)")
            else:
                out.append(f'{ind}logger.debug("{name}: %d rows changed", cur.rowcount)')
                out.append(f"{ind}return cur.rowcount")
        else:
            if receiver_style == "cursor":
                out.append(f"{ind}cur = {conn}.cursor()")
                out.append(f"{ind}try:")
                body = call("cur", "execute", "")
                out.extend("    " + line for line in body)
                fetch = "fetchone" if q.result in ("row", "scalar", "exists") else "fetchall"
                target = "row" if fetch == "fetchone" else "rows"
                out.append(f"{ind}    {target} = cur.{fetch}()")
                out.append(f"{ind}finally:")
                out.append(f"{ind}    cur.close()")
            else:
                fetch = "fetchone" if q.result in ("row", "scalar", "exists") else "fetchall"
                target = "row" if fetch == "fetchone" else "rows"
                body = call(conn, "execute", f"{target} = ", f".{fetch}()")
                out.extend(body)
            out.extend(self.result_lines(q, ind, name, returns))
        return Block(out, imports, marks)

    def injection_expr(self, q: Query, ind: str, style: str) -> list[str]:
        """Return the lines of an unsafe, interpolated SQL expression."""
        assert q.inject is not None
        names = [q.inject[0]] + ([q.columns[0]] if q.kind == "update" and q.columns else [])
        text = q.sql
        if style == "fstring":
            return [f"{ind}f{py_str(text)}"]
        if style == "percent":
            for n in names:
                text = text.replace(f"{{{n}}}", "%s")
            args = names[0] if len(names) == 1 else f"({', '.join(names)})"
            return [f"{ind}{py_str(text)} % {args}"]
        types = {q.inject[0]: q.inject[1]}
        if q.kind == "update" and q.columns:
            types[q.columns[0]] = q.columns[1]
        pieces = re.split(r"\{(\w+)\}", text)
        expr: list[str] = []
        for i, piece in enumerate(pieces):
            if i % 2:
                expr.append(piece if types.get(piece) == "str" else f"str({piece})")
            elif piece:
                expr.append(py_str(piece))
        return [f"{ind}{' + '.join(expr)}"]

    def result_lines(self, q: Query, ind: str, name: str, returns: str) -> list[str]:
        """Return the lines that turn the fetched rows into the function's result."""
        rng = self.rng
        if q.result == "exists":
            return [f"{ind}return row is not None"]
        if q.result == "scalar":
            return [f"{ind}return int(row[0]) if row else 0"]
        if q.result == "row":
            key = q.params[0][0] if q.params else "id"
            cols = ", ".join(py_str(c) for c in q.columns)
            lines = [
                f"{ind}if row is None:",
                f'{ind}    logger.warning("{name}: no row for %r", {key})',
                f"{ind}    return None",
                f"{ind}return dict(zip(({cols}), row))",
            ]
            if len(lines[-1]) > 100:
                lines[-1:] = [f"{ind}columns = ({cols})", f"{ind}return dict(zip(columns, row))"]
            return lines
        if returns.startswith("list[tuple"):
            return [
                f'{ind}logger.debug("{name}: %d rows", len(rows))',
                f"{ind}return list(rows)",
            ]
        cols = ", ".join(py_str(c) for c in q.columns)
        if rng.random() < 0.5 or len(q.columns) < 2 or len(cols) > 60:
            return [
                f"{ind}columns = ({cols}{',' if len(q.columns) == 1 else ''})",
                f"{ind}return [dict(zip(columns, row)) for row in rows]",
            ]
        return [
            f"{ind}result: list[dict[str, Any]] = []",
            f"{ind}for row in rows:",
            f"{ind}    record = dict(zip(({cols}), row))",
            f'{ind}    record["_source"] = "{q.table}"',
            f"{ind}    result.append(record)",
            f'{ind}logger.debug("{name}: %d rows", len(result))',
            f"{ind}return result",
        ]

    # -- filler ----------------------------------------------------------------------------

    def filler(self, fw: FileWriter, table: Table) -> Block:
        """Return one block of ordinary code about `table` (no SQL)."""
        makers = (
            self.f_summary,
            self.f_validate,
            self.f_dataclass,
            self.f_enum,
            self.f_group,
            self.f_report,
            self.f_retry,
            self.f_chunks,
            self.f_parse_dates,
            self.f_csv,
            self.f_cache,
            self.f_merge,
        )
        return self.rng.choice(makers)(fw, table)

    def f_summary(self, fw: FileWriter, t: Table) -> Block:
        col = self.rng.choice(t.data_columns).name
        name = fw.unique(f"summarize_{t.name}_by_{col}")
        return Block(
            [
                f"def {name}(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:",
                f'    """Count {t.name} rows per {col.replace("_", " ")}."""',
                "    counts: dict[str, int] = defaultdict(int)",
                "    total = 0",
                "    for row in rows:",
                f'        key = str(row.get("{col}") or "unknown")',
                "        counts[key] += 1",
                "        total += 1",
                f'    logger.debug("{name}: %d rows in %d buckets", total, len(counts))',
                "    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))",
            ],
            {"Iterable", "Mapping", "Any", "defaultdict"},
        )

    def f_validate(self, fw: FileWriter, t: Table) -> Block:
        required = [c.name for c in t.data_columns if c.not_null][:4] or ["id"]
        name = fw.unique(f"validate_{singular(t.name)}")
        msg = self.rng.choice(
            ("missing field", "champ manquant", "fehlendes Feld", "campo obligatorio", "必須項目")
        )
        lines = [
            f"def {name}(payload: Mapping[str, Any]) -> list[str]:",
            f'    """Return the problems of a {singular(t.name).replace("_", " ")} payload."""',
            "    problems: list[str] = []",
            f"    for key in ({', '.join(py_str(r) for r in required)}{',' if len(required) == 1 else ''}):",
            "        if payload.get(key) in (None, ''):",
            f'            problems.append(f"{msg}: {{key}}")',
        ]
        ints = [c.name for c in t.data_columns if c.sql_type == "INTEGER" and not c.references]
        if ints:
            col = ints[0]
            lines += [
                f'    value = payload.get("{col}")',
                "    if value is not None and not isinstance(value, int):",
                f'        problems.append("{col} must be an integer")',
                "    elif isinstance(value, int) and value < 0:",
                f'        problems.append("{col} must not be negative — got %d" % value)',
            ]
        lines += [
            "    if problems:",
            f'        logger.info("{name}: %d problem(s)", len(problems))',
            "    return problems",
        ]
        return Block(lines, {"Mapping", "Any"})

    def f_dataclass(self, fw: FileWriter, t: Table) -> Block:
        cls = fw.unique("".join(p.title() for p in singular(t.name).split("_")) + "Record")
        cols = t.columns[: self.rng.randint(3, len(t.columns))]
        lines = [
            "@dataclass(frozen=True)",
            f"class {cls}:",
            f'    """A row of ``{t.name}``."""',
            "",
        ]
        for c in cols:
            annotation = c.py_type if c.not_null else f"{c.py_type} | None"
            lines.append(f"    {c.name}: {annotation}")
        lines += [
            "",
            "    @classmethod",
            f"    def from_mapping(cls, data: Mapping[str, Any]) -> {cls}:",
            '        """Build a record from a dict, ignoring unknown keys."""',
            "        fields = {k: data.get(k) for k in cls.__dataclass_fields__}",
            "        return cls(**fields)",
            "",
            "    def as_dict(self) -> dict[str, Any]:",
            "        return {k: getattr(self, k) for k in self.__dataclass_fields__}",
        ]
        return Block(lines, {"dataclass", "Mapping", "Any"})

    def f_enum(self, fw: FileWriter, t: Table) -> Block:
        cls = fw.unique("".join(p.title() for p in singular(t.name).split("_")) + "State")
        values = self.rng.sample(
            ["pending", "active", "paused", "closed", "failed", "archived", "draft", "sent"], 4
        )
        lines = [
            f"class {cls}(str, Enum):",
            f'    """States a {singular(t.name)} goes through."""',
            "",
        ]
        lines += [f'    {v.upper()} = "{v}"' for v in values]
        lines += [
            "",
            "    @property",
            "    def is_final(self) -> bool:",
            f"        return self in ({cls}.{values[-1].upper()}, {cls}.{values[-2].upper()})",
        ]
        return Block(lines, {"Enum"})

    def f_group(self, fw: FileWriter, t: Table) -> Block:
        col = self.rng.choice(t.data_columns).name
        name = fw.unique(f"group_{t.name}_by_{col}")
        return Block(
            [
                f"def {name}(",
                "    rows: Sequence[Mapping[str, Any]],",
                ") -> dict[Any, list[Mapping[str, Any]]]:",
                f'    """Group {t.name} rows by {col.replace("_", " ")}, keeping their order."""',
                "    groups: dict[Any, list[Mapping[str, Any]]] = {}",
                "    for row in rows:",
                f'        groups.setdefault(row.get("{col}"), []).append(row)',
                "    return {key: items for key, items in groups.items() if items}",
            ],
            {"Sequence", "Mapping", "Any"},
        )

    def f_report(self, fw: FileWriter, t: Table) -> Block:
        name = fw.unique(f"format_{t.name}_report")
        title = self.rng.choice(
            ("Bericht", "Rapport", "Informe", "Report", "Отчёт", "レポート", "Αναφορά")
        )
        return Block(
            [
                f"def {name}(rows: Sequence[Mapping[str, Any]], *, width: int = 72) -> str:",
                f'    """Return a plain-text report of {t.name} rows."""',
                f'    lines = [f"{title}: {t.name} ({{len(rows)}})", "─" * width]',
                "    for index, row in enumerate(rows, start=1):",
                '        cells = [f"{key}={value!r}" for key, value in row.items() if value is not None]',
                '        text = f"{index:>4}. " + ", ".join(cells)',
                '        lines.append(text if len(text) <= width else text[: width - 1] + "…")',
                '    return "\\n".join(lines)',
            ],
            {"Sequence", "Mapping", "Any"},
        )

    def f_retry(self, fw: FileWriter, t: Table) -> Block:
        name = fw.unique("with_retry")
        return Block(
            [
                f"def {name}(func: Callable[[], T], *, attempts: int = 3, delay: float = 0.05) -> T:",
                '    """Call `func`, retrying while the database is locked."""',
                "    for attempt in range(1, attempts + 1):",
                "        try:",
                "            return func()",
                "        except sqlite3.OperationalError as exc:",
                '            if "locked" not in str(exc) or attempt == attempts:',
                "                raise",
                '            logger.warning("database locked, retry %d/%d", attempt, attempts)',
                "            time.sleep(delay * attempt)",
                '    raise RuntimeError("unreachable")',
            ],
            {"Callable", "T", "sqlite3", "time"},
        )

    def f_chunks(self, fw: FileWriter, t: Table) -> Block:
        name = fw.unique("chunked")
        return Block(
            [
                f"def {name}(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:",
                '    """Yield `items` in slices of at most `size` (SQLite limits variables)."""',
                "    if size <= 0:",
                '        raise ValueError("size must be positive")',
                "    for start in range(0, len(items), size):",
                "        yield items[start : start + size]",
            ],
            {"Sequence", "Iterator", "T"},
        )

    def f_parse_dates(self, fw: FileWriter, t: Table) -> Block:
        stamps = [c.name for c in t.columns if c.name.endswith("_at")] or ["created_at"]
        col = self.rng.choice(stamps)
        name = fw.unique(f"{col}_age_days")
        return Block(
            [
                f"def {name}(row: Mapping[str, Any], now: datetime | None = None) -> int | None:",
                f'    """Return how many days ago {col.replace("_", " ")} was, or None."""',
                f'    raw = row.get("{col}")',
                "    if not raw:",
                "        return None",
                "    try:",
                '        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))',
                "    except ValueError:",
                f'        logger.warning("bad timestamp in {t.name}: %r", raw)',
                "        return None",
                "    if moment.tzinfo is None:",
                "        moment = moment.replace(tzinfo=timezone.utc)",
                "    now = now or datetime.now(timezone.utc)",
                "    return max((now - moment).days, 0)",
            ],
            {"Mapping", "Any", "datetime", "timezone"},
        )

    def f_csv(self, fw: FileWriter, t: Table) -> Block:
        cols = [c.name for c in t.columns[: self.rng.randint(3, len(t.columns))]]
        name = fw.unique(f"export_{t.name}_csv")
        header = ", ".join(py_str(c) for c in cols)
        return Block(
            [
                f"def {name}(rows: Iterable[Mapping[str, Any]]) -> str:",
                f'    """Return {t.name} rows as CSV text (UTF-8, header first)."""',
                f"    fieldnames = [{header}]",
                "    buffer = io.StringIO()",
                '    writer = csv.DictWriter(buffer, fieldnames=fieldnames, extrasaction="ignore")',
                "    writer.writeheader()",
                "    for row in rows:",
                "        writer.writerow({k: ('' if v is None else v) for k, v in row.items()})",
                "    return buffer.getvalue()",
            ],
            {"Iterable", "Mapping", "Any", "csv", "io"},
        )

    def f_cache(self, fw: FileWriter, t: Table) -> Block:
        name = fw.unique(f"{singular(t.name)}_label")
        city = self.rng.choice(("Zürich", "São Paulo", "Kraków", "Malmö", "Łódź", "東京", "Αθήνα"))
        return Block(
            [
                "@lru_cache(maxsize=256)",
                f"def {name}(code: str, locale: str = DEFAULT_LOCALE) -> str:",
                f'    """Return a display label for a {singular(t.name).replace("_", " ")} code."""',
                '    words = [part.capitalize() for part in code.replace("-", "_").split("_") if part]',
                '    label = " ".join(words) or code',
                '    if locale.startswith("de"):',
                f'        return f"{{label}} ({city})"',
                "    return label",
            ],
            {"lru_cache", "DEFAULT_LOCALE"},
        )

    def f_merge(self, fw: FileWriter, t: Table) -> Block:
        name = fw.unique(f"merge_{singular(t.name)}_changes")
        return Block(
            [
                f"def {name}(",
                "    current: Mapping[str, Any], changes: Mapping[str, Any]",
                ") -> tuple[dict[str, Any], set[str]]:",
                '    """Return the merged record and the names of the fields that changed."""',
                "    merged = dict(current)",
                "    changed = {k for k, v in changes.items() if current.get(k) != v}",
                "    merged.update({k: changes[k] for k in changed})",
                "    if changed:",
                f'        logger.info("{singular(t.name)} → %s", ", ".join(sorted(changed)))',
                "    return merged, changed",
            ],
            {"Mapping", "Any"},
        )


IMPORT_LINES: dict[str, tuple[str, str]] = {
    # name -> (module line key, what to import); plain modules map to themselves
    "Iterable": ("collections.abc", "Iterable"),
    "Iterator": ("collections.abc", "Iterator"),
    "Mapping": ("collections.abc", "Mapping"),
    "Sequence": ("collections.abc", "Sequence"),
    "Callable": ("collections.abc", "Callable"),
    "defaultdict": ("collections", "defaultdict"),
    "dataclass": ("dataclasses", "dataclass"),
    "Enum": ("enum", "Enum"),
    "Any": ("typing", "Any"),
    "TypeVar": ("typing", "TypeVar"),
    "datetime": ("datetime", "datetime"),
    "timezone": ("datetime", "timezone"),
    "lru_cache": ("functools", "lru_cache"),
    "transaction": ("app.common.db", "transaction"),
}
PLAIN_MODULES = ("csv", "io", "logging", "sqlite3", "time")


def import_block(names: set[str]) -> list[str]:
    """Return sorted import lines (stdlib, then the app) for the names a module uses."""
    plain = sorted(n for n in names if n in PLAIN_MODULES)
    froms: dict[str, list[str]] = {}
    for n in sorted(names):
        if n in IMPORT_LINES:
            module, what = IMPORT_LINES[n]
            froms.setdefault(module, []).append(what)
    out = [f"import {m}" for m in plain]
    out += [
        f"from {m} import {', '.join(sorted(w))}"
        for m, w in sorted(froms.items())
        if m != "app.common.db"
    ]
    if "app.common.db" in froms:
        out += ["", f"from app.common.db import {', '.join(froms['app.common.db'])}"]
    return out


# --------------------------------------------------------------------------------------------
# The project
# --------------------------------------------------------------------------------------------

DOMAINS: dict[str, tuple[str, ...]] = {
    "accounts": ("users", "organizations", "memberships", "addresses", "sessions", "api_keys"),
    "catalog": ("categories", "products", "product_images", "reviews"),
    "inventory": ("suppliers", "warehouses", "inventory", "purchase_orders", "products"),
    "orders": ("carts", "cart_items", "orders", "order_items", "coupons", "coupon_redemptions"),
    "payments": ("payments", "refunds", "orders"),
    "billing": ("plans", "subscriptions", "invoices", "organizations"),
    "shipping": ("shipments", "warehouses", "addresses", "orders"),
    "support": ("tickets", "ticket_comments", "notifications", "users"),
    "audit": ("audit_log", "webhooks", "api_keys"),
    "reports": ("orders", "order_items", "products", "payments", "invoices", "reviews"),
    "integrations": ("webhooks", "notifications", "payments", "shipments"),
    "admin": ("users", "organizations", "memberships", "plans", "coupons", "products"),
}
ROLES: dict[str, dict[str, int]] = {
    "repository": {},
    "queries": {"select": 30, "get": 20, "join": 12},
    "service": {"update": 16, "insert": 14},
    "report": {"aggregate": 25, "count": 14, "join": 16, "insert": 2, "update": 2, "delete": 1},
    "jobs": {"delete": 16, "update": 18, "insert": 18, "select": 10},
    "api": {"get": 24, "select": 24, "exists": 8},
    "export": {"select": 30, "join": 20, "subquery": 8, "insert": 4},
    "sync": {"upsert": 20, "insert": 18, "update": 14},
}
ROLE_BLURBS = {
    "repository": "Data access for {t}: one method per statement, no business rules.",
    "queries": "Read-only queries about {t} used by the web views.",
    "service": "Business operations on {t}; callers own the connection.",
    "report": "Figures about {t} for the back-office dashboards.",
    "jobs": "Periodic jobs that maintain {t} (run by the scheduler every few minutes).",
    "api": "Handlers behind the JSON API for {t}.",
    "export": "Exports of {t} for accounting and partners (CSV, UTF-8 — Excel-friendly).",
    "sync": "Keeps {t} in step with the upstream system (idempotent upserts).",
}
MODULE_SUFFIXES = ("", "_v2", "_legacy", "_batch", "_admin", "_internal", "_public", "_helpers")
DEFAULT_LOCALES = ("de-CH", "fr-FR", "es-ES", "en-GB", "pt-BR", "ja-JP", "el-GR", "pl-PL")

DB_MODULE = '''"""Connections and transactions for the application's SQLite database."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "app.db"


def connect(path: str | Path = DEFAULT_PATH, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the database with the settings every module expects."""
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = sqlite3.connect(uri, uri=True, timeout=5.0)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    logger.debug("opened %s (readonly=%s)", path, readonly)
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in a transaction: commit on success, roll back on error."""
    try:
        yield conn
    except Exception:
        conn.rollback()
        logger.exception("transaction rolled back")
        raise
    else:
        conn.commit()
'''


@dataclass
class Stats:
    """What the generator wrote."""

    files: int = 0
    lines: int = 0
    queries: list[dict[str, object]] = field(default_factory=list)


class ProjectMaker:
    """Writes the whole project."""

    def __init__(self, seed: int, files: int, lines_per_file: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.files = files
        self.lines_per_file = lines_per_file
        self.schema = build_schema()
        self.qm = QueryMaker(self.rng, self.schema)
        self.cm = CodeMaker(self.rng, self.schema)
        self.pool: list[Query] = []  # clean statements, for exact repeats
        self.stats = Stats()
        self.lines_so_far = 0
        self.modules_left = 0

    def next_query(self, table: Table, weights: dict[str, int]) -> Query:
        """Return the next statement: a repeat, a seeded problem, a safe IN list or clean."""
        rng = self.rng
        roll = rng.random()
        if roll < PROBLEM_RATE:
            kinds = list(PROBLEM_WEIGHTS)
            kind = rng.choices(kinds, [PROBLEM_WEIGHTS[k] for k in kinds])[0]
            return self.qm.problem(table, kind)
        if roll < PROBLEM_RATE + IN_LIST_RATE:
            return self.qm.in_list(table)
        same_table = [q for q in self.pool if q.table == table.name]
        if same_table and rng.random() < REPEAT_RATE:
            original = rng.choice(same_table)
            return Query(**{**original.__dict__, "clauses": list(original.clauses)})
        query = self.qm.clean(table, weights)
        if len(self.pool) < 4000:
            self.pool.append(query)
        return query

    def module_source(self, path: str, domain: str, role: str, tables: list[Table]) -> str:
        """Return the source of one module, recording its statements."""
        rng = self.rng
        fw = FileWriter(rng, path)
        weights = ROLES[role]
        method = role == "repository" or (role in ("service", "api") and rng.random() < 0.3)
        receiver = rng.choices(("plain", "cursor", "transaction"), (60, 20, 20))[0]
        queries: list[tuple[Query, Block]] = []
        for _ in range(rng.randint(3, 8)):
            table = tables[0] if rng.random() < 0.6 else rng.choice(tables)
            q = self.next_query(table, weights)
            block = self.cm.query_function(fw, q, method=method, receiver_style=receiver)
            queries.append((q, block))

        # Aim so that the whole project ends near files * lines_per_file: a module with many
        # statements runs long, and the next ones get less filler.
        left = self.files * self.lines_per_file - self.lines_so_far
        average = left / max(self.modules_left, 1)
        target = max(30, int(average * rng.uniform(0.7, 1.3)))
        fillers: list[Block] = []
        while True:
            used = sum(len(b.lines) + 2 for _, b in queries) + fw.line_count()
            used += sum(len(b.lines) + 2 for b in fillers)
            if used >= target - 4:
                break
            fillers.append(self.cm.filler(fw, rng.choice(tables)))

        imports: set[str] = {"logging"} | ({"sqlite3"} if method else set())
        for block in fillers + [b for _, b in queries]:
            imports |= block.imports
        if "Callable" in imports or "T" in imports:
            imports.add("TypeVar")

        names = ", ".join(f"``{t.name}``" for t in tables[:2])
        blurb = ROLE_BLURBS[role].format(t=names)
        lines: list[str] = [f'"""{domain.title()} {role}: {path.rsplit("/", 1)[-1][:-3]}.', ""]
        lines += [blurb, '"""', "", "from __future__ import annotations", ""]
        lines += import_block(imports)
        lines += ["", "logger = logging.getLogger(__name__)"]
        if "T" in imports:
            lines.append('T = TypeVar("T")')
        if "DEFAULT_LOCALE" in imports:
            lines.append(f'DEFAULT_LOCALE = "{rng.choice(DEFAULT_LOCALES)}"')
        lines.append(f"PAGE_SIZE = {rng.choice((25, 50, 100, 200))}")

        positions: dict[str, int] = {}  # constant name -> line number of its SQL
        for const in fw.constants:
            lines.append("")
            positions[const.lines[0].split(" =")[0]] = len(lines) + 1 + const.marks["sql"]
            lines += const.lines

        body: list[tuple[Block, Query | None]] = [(b, q) for q, b in queries]
        body += [(b, None) for b in fillers]
        head = [x for x in body if x[1] is None and x[0].lines[0].startswith(("class", "@data"))]
        rest = [x for x in body if x not in head]
        rng.shuffle(rest)
        body = head + rest

        if method:
            cls = "".join(p.title() for p in tables[0].name.split("_"))
            cls += {"repository": "Repository", "service": "Service", "api": "Handlers"}[role]
            method_blocks = [x for x in body if x[1] is not None]
            others = [x for x in body if x[1] is None]
            for block, _ in others:
                lines += ["", "", *block.lines]
            lines += ["", "", f"class {cls}:", f'    """Statements on {names}."""', ""]
            lines += [
                "    def __init__(self, conn: sqlite3.Connection) -> None:",
                "        self._conn = conn",
            ]
            for block, maybe in method_blocks:
                lines.append("")
                self.record(maybe, block, lines, path, positions)
                lines += block.lines
        else:
            for block, maybe in body:
                lines += ["", ""]
                if maybe is not None:
                    self.record(maybe, block, lines, path, positions)
                lines += block.lines
        return "\n".join(lines) + "\n"

    def record(
        self, q: Query | None, block: Block, lines: list[str], path: str, positions: dict[str, int]
    ) -> None:
        """Add `q` to the manifest, with the lines of its SQL and of its execute call."""
        assert q is not None
        start = len(lines) + 1
        sql_line = start + block.marks.get("sql", 0)
        for key in block.marks:
            if key.startswith("const:"):
                sql_line = positions[key[6:]]
        self.stats.queries.append(
            {
                "path": path,
                "line": sql_line,
                "call_line": start + block.marks.get("call", 0),
                "table": q.table,
                "kind": q.kind,
                "many": q.many,
                "problem": q.problem,
                "sql": q.sql,
                "params": len(q.params),
            }
        )

    def layout(self) -> list[tuple[str, str, str, list[Table]]]:
        """Return (path, domain, role, tables) for every generated module."""
        fixed = 2 + 1 + len(DOMAINS)  # app/, app/common/ and each domain's __init__.py, db.py
        count = self.files - fixed
        out: list[tuple[str, str, str, list[Table]]] = []
        taken: set[str] = set()
        domains = list(DOMAINS)
        roles = list(ROLES)
        for i in range(count):
            domain = domains[i % len(domains)]
            role = self.rng.choice(roles)
            names = list(DOMAINS[domain])
            self.rng.shuffle(names)
            tables = [self.schema[n] for n in names[: self.rng.randint(1, 3)]]
            for suffix in MODULE_SUFFIXES + tuple(f"_{n}" for n in range(2, 1000)):
                path = f"app/{domain}/{tables[0].name}_{role}{suffix}.py"
                if path not in taken:
                    break
            taken.add(path)
            out.append((path, domain, role, tables))
        return out

    def write(self, out: Path) -> Stats:
        """Write everything under `out` and return the statistics."""
        files: dict[str, str] = {
            "app/__init__.py": '"""The shop application."""\n',
            "app/common/__init__.py": '"""Code shared by every part of the application."""\n',
            "app/common/db.py": DB_MODULE,
        }
        for domain, names in DOMAINS.items():
            files[f"app/{domain}/__init__.py"] = (
                f'"""{domain.title()}: code around {", ".join(names[:3])}."""\n'
            )
        self.lines_so_far = sum(text.count("\n") for text in files.values())
        layout = self.layout()
        self.modules_left = len(layout)
        for path, domain, role, tables in layout:
            files[path] = self.module_source(path, domain, role, tables)
            self.lines_so_far += files[path].count("\n")
            self.modules_left -= 1
        for rel, text in sorted(files.items()):
            ast.parse(text, filename=rel)  # the generator's own check: valid Python only
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            self.stats.files += 1
            self.stats.lines += text.count("\n")

        migrations = out / "migrations"
        migrations.mkdir(parents=True, exist_ok=True)
        texts = migration_texts()
        for name, text in texts.items():
            (migrations / name).write_text(text, encoding="utf-8")
        build_database(out / "app.db", [texts[n] for n in sorted(texts)])
        (out / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        (out / "README.md").write_text(README.format(seed=self.seed), encoding="utf-8")
        return self.stats


def schema_module(database: Path) -> str:
    """Return a module that creates, one `conn.execute` per object, the schema of `database`."""
    conn = sqlite3.connect(database)
    try:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
            " ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid"
        ).fetchall()
    finally:
        conn.close()
    lines = [
        '"""The application\'s schema, created in code (there are no migrations)."""',
        "",
        "import sqlite3",
        "",
        "",
        "def create_schema(conn: sqlite3.Connection) -> None:",
        '    """Create every table and index of the application."""',
    ]
    for (sql,) in rows:
        lines.append(f"    conn.execute({sql!r})")
    return "\n".join(lines) + "\n"


def schema_from_code(out: Path) -> int:
    """Turn the project at `out` into one whose schema comes from its code; return the lines
    of the schema module."""
    text = schema_module(out / "app.db")
    ast.parse(text)
    (out / "app" / "common" / "schema.py").write_text(text, encoding="utf-8")
    (out / "app.db").unlink()
    shutil.rmtree(out / "migrations")
    (out / "pyproject.toml").write_text(PYPROJECT_CODE, encoding="utf-8")
    return text.count("\n")


PYPROJECT = """[project]
name = "benchshop"
version = "0.1.0"
description = "A generated web-shop data layer, used to benchmark dbheal check."
requires-python = ">=3.10"

[tool.dbheal]
database = "app.db"
migrations = "migrations"
"""

PYPROJECT_CODE = PYPROJECT.split("[tool.dbheal]")[0] + "[tool.dbheal]\n"

README = """# benchshop (generated)

Written by `bench/generate.py --seed {seed}` in the dbheal repository; do not edit, regenerate.
`bench-manifest.json` lists every SQL statement with its file, line and seeded problem.
"""


def build_database(path: Path, scripts: list[str]) -> None:
    """Create the SQLite database at `path` by running `scripts` in order."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        for script in scripts:
            conn.executescript(script)
        conn.commit()
    finally:
        conn.close()


def prepare_out(out: Path, force: bool) -> None:
    """Empty `out` if it holds an earlier generated project; refuse other non-empty folders."""
    if out.exists() and any(out.iterdir()):
        if not (out / MANIFEST_NAME).exists() and not force:
            raise SystemExit(
                f"{out} is not empty and was not written by this generator; use --force to "
                "replace it"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def summary(stats: Stats, seed: int, files: int, lines_per_file: int) -> dict[str, object]:
    """Return the manifest: parameters, counts and every statement."""
    problems: dict[str, int] = {k: 0 for k in PROBLEM_WEIGHTS}
    kinds: dict[str, int] = {}
    for q in stats.queries:
        if q["problem"]:
            problems[str(q["problem"])] += 1
        kinds[str(q["kind"])] = kinds.get(str(q["kind"]), 0) + 1
    return {
        "generator": "bench/generate.py",
        "seed": seed,
        "requested_files": files,
        "lines_per_file": lines_per_file,
        "files": stats.files,
        "lines": stats.lines,
        "tables": len(TABLES),
        "statements": len(stats.queries),
        "distinct_statements": len({str(q["sql"]) for q in stats.queries}),
        "seeded_problems": problems,
        "safe_in_lists": kinds.get("in_list", 0),
        "kinds": dict(sorted(kinds.items())),
        "queries": stats.queries,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/generate.py",
        description=(
            "Write a deterministic, realistic Python project with SQLite queries (and seeded "
            "problems), its migrations and app.db, for benchmarking `dbheal check`."
        ),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=(
            "folder to write (default: bench/generated/project, or bench/generated/code-schema "
            "with --schema-from code; emptied first)"
        ),
    )
    parser.add_argument(
        "--schema-from",
        choices=("database", "code"),
        default="database",
        help="where dbheal finds the schema: app.db and migrations (default), or CREATE "
        "statements in app/common/schema.py, with no database nor migrations",
    )
    parser.add_argument(
        "--files", type=int, default=1000, help="number of Python files (default: 1000)"
    )
    parser.add_argument(
        "--lines-per-file",
        type=int,
        default=100,
        help="average lines per module (default: 100, so ~100k lines for 1000 files)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument(
        "--force", action="store_true", help="replace --out even if it holds something else"
    )
    args = parser.parse_args(argv)
    minimum = 3 + len(DOMAINS) + 1
    if args.files < minimum:
        parser.error(f"--files must be at least {minimum}")
    if args.lines_per_file < 30:
        parser.error("--lines-per-file must be at least 30")

    default = DEFAULT_CODE_OUT if args.schema_from == "code" else DEFAULT_OUT
    out: Path = (args.out or default).resolve()
    prepare_out(out, args.force)
    maker = ProjectMaker(args.seed, args.files, args.lines_per_file)
    stats = maker.write(out)
    if args.schema_from == "code":
        stats.files += 1
        stats.lines += schema_from_code(out)
    manifest = summary(stats, args.seed, args.files, args.lines_per_file)
    (out / MANIFEST_NAME).write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    problems = manifest["seeded_problems"]
    assert isinstance(problems, dict)
    print(
        f"wrote {out}: {stats.files} Python files, {stats.lines:,} lines, "
        f"{manifest['statements']} statements ({manifest['distinct_statements']} distinct), "
        f"{len(TABLES)} tables; seeded problems: "
        + ", ".join(f"{k} {v}" for k, v in problems.items())
        + f"; safe IN lists: {manifest['safe_in_lists']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
