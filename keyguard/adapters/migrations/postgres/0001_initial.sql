CREATE TABLE keyguard_keys (
    id            text PRIMARY KEY,
    account       text NOT NULL,
    owner         text,
    name          text NOT NULL,
    environment   text NOT NULL,
    access        text NOT NULL CHECK (access IN ('secret', 'publishable')),
    prefix        text NOT NULL,
    last4         text NOT NULL,
    digest        bytea NOT NULL,
    hash_version  text NOT NULL,
    metadata      jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    expires_at    timestamptz,
    replaced_by   text
);
-- The verifier's one lookup per uncached request goes through this index.
CREATE UNIQUE INDEX keyguard_keys_digest ON keyguard_keys (digest);
CREATE INDEX keyguard_keys_account_created ON keyguard_keys (account, created_at, id);
CREATE INDEX keyguard_keys_account_owner ON keyguard_keys (account, owner) WHERE revoked_at IS NULL;

-- No foreign key to keyguard_keys: the audit trail outlives a deleted key.
CREATE TABLE keyguard_audit_log (
    id           text PRIMARY KEY,
    account      text NOT NULL,
    event        text NOT NULL,
    key_id       text,
    actor        text NOT NULL,
    request_id   text,
    occurred_at  timestamptz NOT NULL,
    data         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX keyguard_audit_log_account_id ON keyguard_audit_log (account, id);
CREATE INDEX keyguard_audit_log_key_id ON keyguard_audit_log (key_id, id);

CREATE TABLE keyguard_accounts (
    account                   text PRIMARY KEY,
    one_secret_key_per_owner  boolean NOT NULL DEFAULT false
);
