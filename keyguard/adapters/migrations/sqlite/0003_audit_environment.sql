-- The environment of the key each event concerns, so a key reads its own environment's history
-- only. Existing rows take it from the key, or, for a deleted key, from its creation event.
ALTER TABLE keyguard_audit_log ADD COLUMN environment TEXT;
UPDATE keyguard_audit_log SET environment = (
    SELECT k.environment FROM keyguard_keys k WHERE k.id = keyguard_audit_log.key_id
) WHERE key_id IS NOT NULL;
UPDATE keyguard_audit_log SET environment = (
    SELECT json_extract(c.data, '$.environment') FROM keyguard_audit_log c
    WHERE c.key_id = keyguard_audit_log.key_id AND c.event = 'api_key.created'
) WHERE environment IS NULL AND key_id IS NOT NULL;
CREATE INDEX keyguard_audit_log_account_environment_id
    ON keyguard_audit_log (account, environment, id);
