-- 003: failed and successful sign-ins, for rate limiting.
CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    attempted_at INTEGER NOT NULL
);

CREATE INDEX idx_login_attempts_email ON login_attempts (email, attempted_at);
