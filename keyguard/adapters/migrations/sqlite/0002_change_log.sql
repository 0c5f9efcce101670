-- AUTOINCREMENT: a `seq` is never reused, even after pruning took the newest rows.
CREATE TABLE keyguard_changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id       TEXT NOT NULL,
    digest       BLOB NOT NULL,
    event        TEXT NOT NULL,
    occurred_at  TEXT NOT NULL
);
CREATE INDEX keyguard_changes_occurred_at ON keyguard_changes (occurred_at);
ALTER TABLE keyguard_keys ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
