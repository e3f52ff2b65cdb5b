-- System Log polling follows commit order, so that a poller never passes
-- over an event that commits after its read (docs/systemlog.md). On SQLite
-- one write transaction runs at a time and an event's seq is taken inside
-- it (AUTOINCREMENT, or Tx.takeEventSeqs past the largest ever used), so
-- seq order is commit order: a polling page is read by seq, the rowid for
-- the whole log and these indexes for the filters that have one.
CREATE INDEX events_type_seq ON events (event_type, seq);
CREATE INDEX events_actor_seq ON events (actor_id, seq);
CREATE INDEX events_outcome_seq ON events (outcome, seq);
CREATE INDEX event_targets_seq ON event_targets (target_id, t_seq);
