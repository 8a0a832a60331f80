-- 009: the shell folds crm.session_check() into each read it runs outside a
-- transaction, as a filter evaluated once before any row is read. A
-- function PostgreSQL must assume parallel unsafe (the default) makes the
-- whole statement so: a read of a million events would lose its parallel
-- plan.
-- The check only reads; its SET search_path keeps it out of parallel
-- workers, so it runs in the leader, above the Gather.
ALTER FUNCTION crm.session_check() PARALLEL RESTRICTED;
