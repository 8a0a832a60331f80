-- 002: the rules that need other rows (triggers) and the audit trail.
--
-- Trigger functions are SECURITY DEFINER (owner) with a fixed search_path:
-- they read and lock rows the caller may not lock (FOR SHARE needs UPDATE
-- privilege) and write the audit table nobody else may write. Errors carry an
-- ERRCODE and CONSTRAINT = '<table>_<column>_<rule>' like a plain constraint.

-- The role on whose behalf the current statement runs, also from inside a
-- SECURITY DEFINER function (where current_user is the owner): the role chosen
-- by SET [LOCAL] ROLE, or the session user when none was chosen. The `role`
-- setting can only name a role the session may become, so it cannot be forged.
CREATE FUNCTION crm.invoker() RETURNS text
    LANGUAGE sql STABLE
    RETURN CASE
        WHEN current_setting('role') = 'none' THEN session_user::text
        ELSE current_setting('role')
    END;

-- Who is written in the audit trail: the registration number of a
-- collaborator, or the role name otherwise (e.g. @P@_owner during init).
CREATE FUNCTION crm.actor() RETURNS text
    LANGUAGE sql STABLE
    RETURN CASE
        WHEN crm.invoker() ~ '^@P@_[a-z]{1,2}[0-9]{9}$' THEN substr(crm.invoker(), length('@P@') + 2)
        ELSE crm.invoker()
    END;

-- client: `updated` follows every change; the commercial must belong to the
-- commercial department.
CREATE FUNCTION crm.client_rules() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm
AS $$
DECLARE
    dept text;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.updated := now();
    END IF;
    IF NEW.commercial IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.commercial IS DISTINCT FROM OLD.commercial) THEN
        -- FOR SHARE: a concurrent department move waits for us, and we see its result.
        SELECT c.department INTO dept FROM crm.collaborator c WHERE c.id = NEW.commercial FOR SHARE;
        IF FOUND AND dept <> 'commercial' THEN
            RAISE EXCEPTION 'collaborator % is not in the commercial department (department %)',
                NEW.commercial, dept
                USING ERRCODE = 'check_violation', CONSTRAINT = 'client_commercial_department',
                      TABLE = 'client', COLUMN = 'commercial', SCHEMA = 'crm';
        END IF;
        -- Not found: the foreign key client_commercial_fkey reports it.
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER client_rules BEFORE INSERT OR UPDATE ON crm.client
    FOR EACH ROW EXECUTE FUNCTION crm.client_rules();

-- contract: remain defaults to total; signed_at is set when the status becomes
-- signed (and cleared when it stops being signed); a contract with events
-- stays signed.
CREATE FUNCTION crm.contract_rules() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm
AS $$
DECLARE
    ev text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.remain IS NULL THEN
            NEW.remain := NEW.total;
        END IF;
        IF NEW.status = 'signed' THEN
            NEW.signed_at := coalesce(NEW.signed_at, now());
        ELSE
            NEW.signed_at := NULL;
        END IF;
        RETURN NEW;
    END IF;

    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NEW.status IS DISTINCT FROM 'signed' THEN
            SELECT e.id INTO ev FROM crm.event e WHERE e.contract = OLD.id ORDER BY e.id LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'contract % has events (e.g. %); it cannot become %', OLD.id, ev, NEW.status
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'contract_status_events',
                          TABLE = 'contract', COLUMN = 'status', SCHEMA = 'crm',
                          HINT = 'delete or move its events first';
            END IF;
            NEW.signed_at := NULL;
        ELSE
            NEW.signed_at := now();
        END IF;
    ELSE
        NEW.signed_at := OLD.signed_at;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER contract_rules BEFORE INSERT OR UPDATE ON crm.contract
    FOR EACH ROW EXECUTE FUNCTION crm.contract_rules();

-- event: its contract must be signed; its support must be in the support
-- department. Checked when the row is added or that field changes.
CREATE FUNCTION crm.event_rules() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm
AS $$
DECLARE
    found_value text;
BEGIN
    IF TG_OP = 'INSERT' OR NEW.contract IS DISTINCT FROM OLD.contract THEN
        -- FOR SHARE: a concurrent status change waits for us and then sees this event.
        SELECT c.status INTO found_value FROM crm.contract c WHERE c.id = NEW.contract FOR SHARE;
        IF FOUND AND found_value <> 'signed' THEN
            RAISE EXCEPTION 'contract % is not signed (status %)', NEW.contract, found_value
                USING ERRCODE = 'check_violation', CONSTRAINT = 'event_contract_signed',
                      TABLE = 'event', COLUMN = 'contract', SCHEMA = 'crm';
        END IF;
    END IF;
    IF NEW.support IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.support IS DISTINCT FROM OLD.support) THEN
        SELECT c.department INTO found_value FROM crm.collaborator c WHERE c.id = NEW.support FOR SHARE;
        IF FOUND AND found_value <> 'support' THEN
            RAISE EXCEPTION 'collaborator % is not in the support department (department %)',
                NEW.support, found_value
                USING ERRCODE = 'check_violation', CONSTRAINT = 'event_support_department',
                      TABLE = 'event', COLUMN = 'support', SCHEMA = 'crm';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER event_rules BEFORE INSERT OR UPDATE ON crm.event
    FOR EACH ROW EXECUTE FUNCTION crm.event_rules();

-- The audit trail: one row per inserted, updated or deleted record.
-- Readable by the three departments (003), written only by crm.audit_rows().
CREATE TABLE crm.audit (
    pk      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    tbl     text NOT NULL,
    record  text NOT NULL,
    op      text NOT NULL CONSTRAINT audit_op_check CHECK (op IN ('insert', 'update', 'delete')),
    changes jsonb NOT NULL
);
-- `history ENTITY ID`, in order.
CREATE INDEX audit_tbl_record_idx ON crm.audit (tbl, record, pk);

-- {"field": {"old": .., "new": ..}} for the fields whose value differs between
-- two rows given as jsonb (NULL for the missing side of an insert or delete).
-- Field names are those of the language (start_at -> start, ...); the
-- surrogate key and client.updated (it changes on every update) are left out.
CREATE FUNCTION crm.audit_changes(old_row jsonb, new_row jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (
        SELECT coalesce(jsonb_object_agg(
                   CASE k
                       WHEN 'start_at' THEN 'start'
                       WHEN 'end_at' THEN 'end'
                       WHEN 'signed_at' THEN 'signed'
                       ELSE k
                   END,
                   jsonb_build_object('old', coalesce(old_row -> k, 'null'),
                                      'new', coalesce(new_row -> k, 'null'))),
               '{}')
        FROM jsonb_object_keys(coalesce(new_row, old_row)) AS k
        WHERE k NOT IN ('pk', 'updated')
          AND coalesce(old_row -> k, 'null') IS DISTINCT FROM coalesce(new_row -> k, 'null')
    );

-- Statement-level, with transition tables: one INSERT ... SELECT per
-- statement, so bulk loads stay fast. Updates that change nothing but
-- `updated` are not recorded.
CREATE FUNCTION crm.audit_rows() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm
AS $$
DECLARE
    who text := crm.actor();
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO crm.audit (actor, tbl, record, op, changes)
        SELECT who, TG_TABLE_NAME, n.id, 'insert', crm.audit_changes(NULL, to_jsonb(n))
        FROM new_rows n
        ORDER BY n.pk;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO crm.audit (actor, tbl, record, op, changes)
        SELECT who, TG_TABLE_NAME, n.id, 'update', d.changes
        FROM new_rows n
        JOIN old_rows o ON o.pk = n.pk
        CROSS JOIN LATERAL (SELECT crm.audit_changes(to_jsonb(o), to_jsonb(n)) AS changes) d
        WHERE d.changes <> '{}'
        ORDER BY n.pk;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO crm.audit (actor, tbl, record, op, changes)
        SELECT who, TG_TABLE_NAME, o.id, 'delete', crm.audit_changes(to_jsonb(o), NULL)
        FROM old_rows o
        ORDER BY o.pk;
    END IF;
    RETURN NULL;
END;
$$;

-- A trigger with transition tables handles one event, hence three per table.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['department', 'collaborator', 'location', 'company', 'client', 'contract', 'event'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON crm.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION crm.audit_rows()', t || '_audit_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON crm.%I REFERENCING OLD TABLE AS old_rows '
                       'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION crm.audit_rows()',
                       t || '_audit_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON crm.%I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION crm.audit_rows()', t || '_audit_delete', t);
    END LOOP;
END;
$$;
