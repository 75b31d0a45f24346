-- 004: per-user display preferences, with a default row for every new account.
-- (Not applied to shop.db yet: the deploy that should have run it was rolled back.)
-- dbheal: planted SCHEMA_DRIFT
CREATE TABLE IF NOT EXISTS user_preferences (user_id INTEGER PRIMARY KEY, theme TEXT DEFAULT 'light', notifications BOOLEAN DEFAULT 1);

-- dbheal: planted SCHEMA_DRIFT
CREATE TRIGGER IF NOT EXISTS trg_users_default_preferences
AFTER INSERT ON users
BEGIN
    INSERT INTO user_preferences (user_id) VALUES (NEW.id);
END;
