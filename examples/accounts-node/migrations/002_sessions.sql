-- 002: login sessions.
-- user_id is TEXT: the first login service kept ids as strings, and nobody changed it since.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_at INTEGER
);

CREATE INDEX idx_sessions_user_id ON sessions (user_id);
