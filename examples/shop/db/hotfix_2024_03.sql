-- Hotfix 2024-03, applied by hand in production and never turned into a migration.
--
-- The EUR price import wrote fractional cents (e.g. 349.5) and the INTEGER column made the
-- checkout round them differently from the invoice service. Someone rebuilt `products` with
-- price_cents as REAL to "keep the decimals". migrations/003_catalog_orders.sql still says
-- INTEGER, so every fresh environment built from the migrations differs from production.
--
-- The rebuild follows SQLite's recommended procedure (create, copy, drop, rename) and recreates
-- the table's index, so the only difference is the declared type of price_cents.
BEGIN;

CREATE TABLE products_new (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price_cents REAL NOT NULL,
    stock INTEGER NOT NULL DEFAULT 0
);

INSERT INTO products_new (id, sku, name, category, price_cents, stock)
SELECT id, sku, name, category, price_cents, stock FROM products;

DROP TABLE products;
ALTER TABLE products_new RENAME TO products;

CREATE INDEX idx_products_category ON products (category);

COMMIT;
