-- 005: carrier tracking numbers for shipped orders.
-- (Not applied to shop.db yet.)
-- dbheal: planted SCHEMA_DRIFT
ALTER TABLE orders ADD COLUMN tracking_number TEXT;

-- dbheal: planted SCHEMA_DRIFT
CREATE INDEX idx_orders_tracking_number ON orders (tracking_number);
