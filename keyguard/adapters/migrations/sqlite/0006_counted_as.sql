-- Whose usage counts a key spends (NULL: its own). A rolled key's successor spends its
-- predecessor's, so that a roll never hands out a second quota or a second rate limit.
ALTER TABLE keyguard_keys ADD COLUMN counted_as TEXT;
