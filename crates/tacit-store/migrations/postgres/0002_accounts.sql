-- The team server's accounts and API tokens. A token is stored only as the
-- SHA-256 digest of its secret; its scope is the highest role it may act
-- with (never above its user's).
CREATE TABLE users (
    name           TEXT PRIMARY KEY,
    role           TEXT NOT NULL,
    password_hash  TEXT,
    created_at_ms  BIGINT NOT NULL,
    disabled       BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE api_tokens (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    label          TEXT NOT NULL,
    digest         TEXT NOT NULL UNIQUE,
    scope          TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT,
    revoked_at_ms  BIGINT,
    last_used_ms   BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (username);
