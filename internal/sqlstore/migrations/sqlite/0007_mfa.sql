-- Second factors: authenticator apps (TOTP, the seed sealed by keys.Sealer)
-- and WebAuthn credentials (public keys, as JSON), recovery codes (hashes
-- only), and each person's count of consecutive failed verifications.
CREATE TABLE factors (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    provider      TEXT NOT NULL,
    status        TEXT NOT NULL,
    name          TEXT NOT NULL,
    secret        TEXT NOT NULL,
    last_step     BIGINT NOT NULL,
    credential_id TEXT,
    credential    TEXT NOT NULL,
    created       BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL,
    last_used     BIGINT,
    expires       BIGINT
);
CREATE INDEX factors_user ON factors (user_id);
CREATE UNIQUE INDEX factors_credential ON factors (credential_id);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash    TEXT NOT NULL,
    created BIGINT NOT NULL,
    used    BIGINT,
    PRIMARY KEY (user_id, hash)
);

CREATE TABLE factor_failures (
    user_id  TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    failures INTEGER NOT NULL
);

-- When the session last verified a second factor, and its idle timeout
-- (0: the configured one), so sign-on rules can ask for a factor again and
-- the session policy can shorten sessions.
ALTER TABLE sessions ADD COLUMN mfa_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN idle_ms BIGINT NOT NULL DEFAULT 0;
