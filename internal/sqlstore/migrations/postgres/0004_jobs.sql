-- Durable provisioning jobs (internal/provisioning). Times are epoch ms.
CREATE TABLE jobs (
    seq           BIGSERIAL PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    app_id        TEXT NOT NULL DEFAULT '',
    user_id       TEXT NOT NULL DEFAULT '',
    dedupe_key    TEXT,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    run_after     BIGINT NOT NULL,
    lease_owner   TEXT NOT NULL DEFAULT '',
    lease_expires BIGINT,
    last_error    TEXT NOT NULL DEFAULT '',
    created       BIGINT NOT NULL,
    updated       BIGINT NOT NULL,
    result        TEXT
);
-- At most one pending job per dedupe key; the enqueue upsert targets it.
CREATE UNIQUE INDEX jobs_pending_key ON jobs (dedupe_key) WHERE state = 'pending';
CREATE INDEX jobs_key ON jobs (dedupe_key, state);
CREATE INDEX jobs_due ON jobs (run_after, seq) WHERE state = 'pending';
CREATE INDEX jobs_leases ON jobs (lease_expires) WHERE state = 'running';
CREATE INDEX jobs_app_state ON jobs (app_id, state, seq);
CREATE INDEX jobs_user ON jobs (user_id, seq);
CREATE INDEX jobs_failed ON jobs (updated) WHERE state = 'failed';
CREATE INDEX jobs_finished ON jobs (updated) WHERE state IN ('succeeded', 'canceled');
