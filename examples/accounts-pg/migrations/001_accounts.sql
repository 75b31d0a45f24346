-- Accounts: who holds money here.
CREATE TABLE accounts (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    owner varchar(80) NOT NULL,
    balance_cents bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
