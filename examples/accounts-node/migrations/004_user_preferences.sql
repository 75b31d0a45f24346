-- 004: per-user display preferences.
-- (Not applied to accounts.db yet: the deploy that should have run it was rolled back.)
CREATE TABLE IF NOT EXISTS user_preferences (
    user_id INTEGER PRIMARY KEY,
    theme TEXT DEFAULT 'light',
    notifications BOOLEAN DEFAULT 1
);
