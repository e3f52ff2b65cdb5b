-- System Log polling follows commit order, so that a poller never passes
-- over an event that commits after its read (docs/systemlog.md). Sequence
-- numbers are taken at insert, and transactions commit in another order;
-- each event therefore records the id of the transaction that wrote it
-- (pg_current_xact_id, 64 bits, never wraps; every row of one transaction
-- has the same), and a polling page lists only events of transactions
-- older than every transaction still running (the xmin of its snapshot),
-- in (xid, seq) order: a transaction that commits later has a larger id
-- than any such event. Events written before this migration have xid 0
-- (all committed; they come first, in seq order). A constant default and
-- then the real one: no table rewrite.
ALTER TABLE events ADD COLUMN xid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ALTER COLUMN xid SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX events_commit ON events (xid, seq);
CREATE INDEX events_type_commit ON events (event_type, xid, seq);
CREATE INDEX events_actor_commit ON events (actor_id, xid, seq);
CREATE INDEX events_outcome_commit ON events (outcome, xid, seq);

ALTER TABLE event_targets ADD COLUMN t_xid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE event_targets ALTER COLUMN t_xid SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX event_targets_commit ON event_targets (target_id, t_xid, t_seq);
