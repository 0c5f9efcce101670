-- What a key may do and where from, as JSON arrays of text (NULL: not restricted).
ALTER TABLE keyguard_keys ADD COLUMN permissions jsonb;
ALTER TABLE keyguard_keys ADD COLUMN allowed_origins jsonb;
ALTER TABLE keyguard_keys ADD COLUMN allowed_networks jsonb;
-- A refusal of a key used from the wrong place is logged once per key and kind an hour: the
-- check for an earlier one reads this index.
CREATE INDEX keyguard_audit_log_key_event ON keyguard_audit_log (key_id, event, occurred_at);
