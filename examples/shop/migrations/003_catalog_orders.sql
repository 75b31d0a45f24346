-- 003: catalog, orders and the daily sales roll-up.
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    -- dbheal: planted SCHEMA_DRIFT (db/hotfix_2024_03.sql made this REAL in the database)
    price_cents INTEGER NOT NULL,
    stock INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX idx_products_category ON products (category);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users (id),
    customer_email TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    total_cents INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE INDEX idx_orders_user_id ON orders (user_id);
CREATE INDEX idx_orders_status ON orders (status);
CREATE INDEX idx_orders_created_at ON orders (created_at);

CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL
);

CREATE INDEX idx_order_items_order_id ON order_items (order_id);

CREATE TABLE daily_sales (
    day TEXT PRIMARY KEY,
    order_count INTEGER NOT NULL,
    revenue_cents INTEGER NOT NULL
);
