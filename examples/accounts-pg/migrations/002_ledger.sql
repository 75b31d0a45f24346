-- Every movement of money, and the account's updated_at kept by a trigger.
CREATE TABLE ledger (
    id bigserial PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts (id),
    amount_cents bigint NOT NULL,
    memo text,
    booked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_account ON ledger (account_id);

ALTER TABLE accounts ADD COLUMN updated_at timestamptz;

CREATE FUNCTION touch_account() RETURNS trigger AS $$
BEGIN
    UPDATE accounts SET updated_at = now() WHERE id = NEW.account_id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_touch AFTER INSERT ON ledger
    FOR EACH ROW EXECUTE FUNCTION touch_account();
