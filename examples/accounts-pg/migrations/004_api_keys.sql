-- API keys for the partners' integration (not deployed yet).
CREATE TABLE api_keys (
    id serial PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts (id),
    key_hash text NOT NULL
);
