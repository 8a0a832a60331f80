-- 003: department group roles, privileges (SECURITY.md's matrix) and the
-- row-level security policies that decide "own".
--
-- Each collaborator's role (@P@_<registration>, 004) is a member of exactly one
-- group below and inherits its privileges. "Own" is decided from current_user
-- through crm.me(), never from a value the client sends.

-- The owner creates the groups, so it holds ADMIN OPTION on them (PostgreSQL
-- 16+ requires it to grant them; 15 lets CREATEROLE grant any role).
DO $$
DECLARE
    g text;
BEGIN
    FOREACH g IN ARRAY ARRAY['@P@_commercial', '@P@_gestion', '@P@_support'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = g) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', g);
        END IF;
    END LOOP;
END;
$$;

-- Schema: no rights for PUBLIC; the groups may look up names in it (and, from
-- 007 on, the login gate). A CRM made before 007 also granted it to the
-- shared application role, which 007 takes back.
REVOKE ALL ON SCHEMA crm FROM PUBLIC;
GRANT USAGE ON SCHEMA crm TO @P@_commercial, @P@_gestion, @P@_support;

-- Nobody but the owner touches anything unless granted below. (Only the
-- owner's objects: init's own bookkeeping table is not ours to change.)
DO $$
DECLARE
    rel regclass;
    fn regprocedure;
BEGIN
    FOR rel IN SELECT c.oid FROM pg_catalog.pg_class c
               WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'S', 'v', 'm')
                 AND c.relowner = current_user::regrole LOOP
        EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', rel);
    END LOOP;
    FOR fn IN SELECT p.oid FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'crm'::regnamespace AND p.proowner = current_user::regrole LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
END;
$$;

-- Reading: every department reads every table but the password hashes.
GRANT SELECT ON crm.department, crm.collaborator, crm.location, crm.company,
                crm.client, crm.contract, crm.event, crm.audit
    TO @P@_commercial, @P@_gestion, @P@_support;

-- Functions that defaults, constraints and policies call run as the user
-- running the statement, who needs EXECUTE on them.
GRANT EXECUTE ON FUNCTION crm.role_prefix(), crm.me(), crm.luhn_ok(text)
    TO @P@_commercial, @P@_gestion, @P@_support;

-- Collaborators and departments: read only (collaborator writes go through the
-- functions of 004).

-- Locations and companies: commercial and gestion add and change; gestion deletes.
-- The surrogate key, `id` and `created` are not changeable.
GRANT INSERT (id, address, complement, postcode, city, region, country),
      UPDATE (address, complement, postcode, city, region, country)
    ON crm.location TO @P@_commercial, @P@_gestion;
GRANT INSERT (id, name, siren, activity, location),
      UPDATE (name, siren, activity, location)
    ON crm.company TO @P@_commercial, @P@_gestion;
GRANT DELETE ON crm.location, crm.company TO @P@_gestion;
GRANT USAGE ON SEQUENCE crm.location_id_seq, crm.company_id_seq TO @P@_commercial, @P@_gestion;

-- Clients: commercial adds (never naming the commercial: the default crm.me()
-- fills it in) and changes their own, every field but `commercial`; gestion
-- changes any client, any field (reassigns, unassigns), and deletes.
GRANT INSERT (id, name, email, phone, company, job),
      UPDATE (name, email, phone, company, job)
    ON crm.client TO @P@_commercial;
GRANT USAGE ON SEQUENCE crm.client_id_seq TO @P@_commercial;
GRANT UPDATE (name, email, phone, company, job, commercial), DELETE
    ON crm.client TO @P@_gestion;

-- Contracts: gestion adds, changes (any field) and deletes; commercial changes
-- total, remain and status (signing, paying) of their own clients' contracts.
GRANT INSERT (id, client, total, remain, status),
      UPDATE (client, total, remain, status), DELETE
    ON crm.contract TO @P@_gestion;
GRANT USAGE ON SEQUENCE crm.contract_id_seq TO @P@_gestion;
GRANT UPDATE (total, remain, status) ON crm.contract TO @P@_commercial;

-- Events: commercial adds them (for a contract of an own client; gestion then
-- assigns the support); support changes their own events, every field but
-- support and contract; gestion changes any event, any field, and deletes.
GRANT INSERT (id, title, contract, start_at, end_at, location, attendees, notes)
    ON crm.event TO @P@_commercial;
GRANT USAGE ON SEQUENCE crm.event_id_seq TO @P@_commercial;
GRANT UPDATE (title, start_at, end_at, location, attendees, notes)
    ON crm.event TO @P@_support;
GRANT UPDATE (title, contract, support, start_at, end_at, location, attendees, notes), DELETE
    ON crm.event TO @P@_gestion;

-- Row-level security: "own". The owner is not subject to it (no FORCE): it
-- only runs migrations and the SECURITY DEFINER functions.
ALTER TABLE crm.client ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.contract ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.event ENABLE ROW LEVEL SECURITY;

CREATE POLICY client_select ON crm.client FOR SELECT
    TO @P@_commercial, @P@_gestion, @P@_support USING (true);
CREATE POLICY client_insert_commercial ON crm.client FOR INSERT
    TO @P@_commercial WITH CHECK (commercial = crm.me());
CREATE POLICY client_update_commercial ON crm.client FOR UPDATE
    TO @P@_commercial USING (commercial = crm.me()) WITH CHECK (commercial = crm.me());
CREATE POLICY client_update_gestion ON crm.client FOR UPDATE
    TO @P@_gestion USING (true) WITH CHECK (true);
CREATE POLICY client_delete_gestion ON crm.client FOR DELETE
    TO @P@_gestion USING (true);

CREATE POLICY contract_select ON crm.contract FOR SELECT
    TO @P@_commercial, @P@_gestion, @P@_support USING (true);
CREATE POLICY contract_insert_gestion ON crm.contract FOR INSERT
    TO @P@_gestion WITH CHECK (true);
CREATE POLICY contract_update_commercial ON crm.contract FOR UPDATE
    TO @P@_commercial
    USING (EXISTS (SELECT FROM crm.client c WHERE c.id = contract.client AND c.commercial = crm.me()))
    WITH CHECK (EXISTS (SELECT FROM crm.client c WHERE c.id = contract.client AND c.commercial = crm.me()));
CREATE POLICY contract_update_gestion ON crm.contract FOR UPDATE
    TO @P@_gestion USING (true) WITH CHECK (true);
CREATE POLICY contract_delete_gestion ON crm.contract FOR DELETE
    TO @P@_gestion USING (true);

CREATE POLICY event_select ON crm.event FOR SELECT
    TO @P@_commercial, @P@_gestion, @P@_support USING (true);
CREATE POLICY event_insert_commercial ON crm.event FOR INSERT
    TO @P@_commercial
    WITH CHECK (EXISTS (SELECT FROM crm.contract ct JOIN crm.client c ON c.id = ct.client
                        WHERE ct.id = event.contract AND c.commercial = crm.me()));
CREATE POLICY event_update_support ON crm.event FOR UPDATE
    TO @P@_support USING (support = crm.me()) WITH CHECK (support = crm.me());
CREATE POLICY event_update_gestion ON crm.event FOR UPDATE
    TO @P@_gestion USING (true) WITH CHECK (true);
CREATE POLICY event_delete_gestion ON crm.event FOR DELETE
    TO @P@_gestion USING (true);
