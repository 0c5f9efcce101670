-- The environment of the key each event concerns, so a key reads its own environment's history
-- only. Existing rows take it from the key, or, for a deleted key, from its creation event.
ALTER TABLE keyguard_audit_log ADD COLUMN environment text;
UPDATE keyguard_audit_log a SET environment = k.environment
    FROM keyguard_keys k WHERE k.id = a.key_id;
UPDATE keyguard_audit_log a SET environment = c.data->>'environment'
    FROM keyguard_audit_log c
    WHERE a.environment IS NULL AND c.key_id = a.key_id AND c.event = 'api_key.created';
CREATE INDEX keyguard_audit_log_account_environment_id
    ON keyguard_audit_log (account, environment, id);
