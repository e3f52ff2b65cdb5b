-- External identity providers (Google, LinkedIn, OpenID Connect) and the
-- links between a provider's subject and a person. The provider's settings
-- are one JSON document; the client secret is sealed by keys.Sealer.
CREATE TABLE idps (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    type          TEXT NOT NULL,
    status        TEXT NOT NULL,
    body          TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    created       BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL
);

CREATE TABLE idp_links (
    idp_id       TEXT NOT NULL REFERENCES idps(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,
    profile      TEXT NOT NULL,
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (idp_id, user_id),
    UNIQUE (idp_id, external_id)
);
CREATE INDEX idp_links_user ON idp_links (user_id);
