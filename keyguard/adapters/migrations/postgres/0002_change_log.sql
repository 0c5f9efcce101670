-- The change log: one row per committed change that makes cached copies of a key stale, written
-- in the changing transaction. `seq` order is commit order (writers take a lock just before they
-- insert), so a reader that remembers the last `seq` it saw misses nothing.
CREATE TABLE keyguard_changes (
    seq          bigserial PRIMARY KEY,
    key_id       text NOT NULL,
    digest       bytea NOT NULL,
    event        text NOT NULL,
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX keyguard_changes_occurred_at ON keyguard_changes (occurred_at);
-- One value at a time: a session caching a block of values could hand out a `seq` lower than
-- one another session already committed, and readers would pass over it.
ALTER SEQUENCE keyguard_changes_seq_seq CACHE 1;

-- The `seq` of the key's last change: a shared-cache entry older than a change a process has
-- heard of is never used.
ALTER TABLE keyguard_keys ADD COLUMN version bigint NOT NULL DEFAULT 0;
