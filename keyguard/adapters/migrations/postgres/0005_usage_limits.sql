-- How much a key may be used, as JSON: its rate limits (NULL: the settings' default for its
-- access and environment) and its quota (NULL: none). The quota's live count is kept by the
-- rate limiter (Redis, or each process), and written back here now and then.
ALTER TABLE keyguard_keys ADD COLUMN rate_limits jsonb;
ALTER TABLE keyguard_keys ADD COLUMN quota jsonb;
