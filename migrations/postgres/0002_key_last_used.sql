-- When each key was last used, for `smashsend keys list`. Servers write it at most once a
-- minute per key (src/server/key-cache.ts), off the request path.
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
