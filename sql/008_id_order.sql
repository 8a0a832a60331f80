-- 008: `list` sorts ids (and other words) without regard to case: `axs40`
-- before `VDINPR25`, as a reader expects, where the cluster's byte-wise
-- collation put every capital first. The planner orders by `lower(id), id`
-- (the second key keeps the order total); these indexes hand the rows over
-- in that order, so `limit 50` still reads 50 index entries instead of
-- sorting every match (PERFORMANCE.md P1, P3, P4).

-- The filtered lists of 006, with the new order inside the key.
CREATE INDEX event_support_lower_id_idx ON crm.event (support, lower(id), id, start_at);
DROP INDEX crm.event_support_id_idx;
CREATE INDEX client_commercial_lower_id_idx ON crm.client (commercial, lower(id), id);
DROP INDEX crm.client_commercial_id_idx;
CREATE INDEX contract_status_lower_id_idx ON crm.contract (status, lower(id), id);
DROP INDEX crm.contract_status_id_idx;

-- Unfiltered lists, and exports, of every listed entity.
CREATE INDEX collaborator_lower_id_idx ON crm.collaborator (lower(id), id);
CREATE INDEX location_lower_id_idx ON crm.location (lower(id), id);
CREATE INDEX company_lower_id_idx ON crm.company (lower(id), id);
CREATE INDEX client_lower_id_idx ON crm.client (lower(id), id);
CREATE INDEX contract_lower_id_idx ON crm.contract (lower(id), id);
CREATE INDEX event_lower_id_idx ON crm.event (lower(id), id);
