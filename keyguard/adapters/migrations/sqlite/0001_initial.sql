-- Times are fixed-width ISO 8601 text in UTC, so text order is time order.
CREATE TABLE keyguard_keys (
    id            TEXT PRIMARY KEY,
    account       TEXT NOT NULL,
    owner         TEXT,
    name          TEXT NOT NULL,
    environment   TEXT NOT NULL,
    access        TEXT NOT NULL CHECK (access IN ('secret', 'publishable')),
    prefix        TEXT NOT NULL,
    last4         TEXT NOT NULL,
    digest        BLOB NOT NULL,
    hash_version  TEXT NOT NULL,
    metadata      TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT,
    expires_at    TEXT,
    replaced_by   TEXT
);
CREATE UNIQUE INDEX keyguard_keys_digest ON keyguard_keys (digest);
CREATE INDEX keyguard_keys_account_created ON keyguard_keys (account, created_at, id);

CREATE TABLE keyguard_audit_log (
    id           TEXT PRIMARY KEY,
    account      TEXT NOT NULL,
    event        TEXT NOT NULL,
    key_id       TEXT,
    actor        TEXT NOT NULL,
    request_id   TEXT,
    occurred_at  TEXT NOT NULL,
    data         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX keyguard_audit_log_account_id ON keyguard_audit_log (account, id);

CREATE TABLE keyguard_accounts (
    account                   TEXT PRIMARY KEY,
    one_secret_key_per_owner  INTEGER NOT NULL DEFAULT 0
);
