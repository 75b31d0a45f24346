-- Sign-in sessions; the token is an opaque string.
CREATE TABLE sessions (
    token text PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts (id),
    expires_at timestamptz NOT NULL
);
