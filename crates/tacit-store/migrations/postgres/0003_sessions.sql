-- Browser sessions of the team server, in the database so any instance
-- behind a load balancer can serve any request. Only the digest of the
-- cookie's secret is stored; `csrf` is the token every form must carry.
CREATE TABLE sessions (
    digest         TEXT PRIMARY KEY,
    username       TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    csrf           TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (username);
