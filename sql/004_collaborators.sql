-- 004: login and collaborator management, through SECURITY DEFINER functions
-- (run as the owner, fixed search_path). No department role holds CREATEROLE
-- nor any privilege on crm.collaborator_password: these functions are the only
-- way to create, move or drop a collaborator's role and to store a hash.
--
-- Errors (SQLSTATE, constraint):
--   P0002 no_data_found          the collaborator does not exist
--   42501 insufficient_privilege  deleting oneself; another's password without gestion
--   23503 foreign_key_violation   client_commercial_fkey / event_support_fkey (delete while
--                                 holding clients / events), collaborator_department_clients /
--                                 collaborator_department_events (department move, same reason)
--   23514, 23505, 23503 from the collaborator table's own constraints
--                                 (collaborator_id_check, collaborator_email_check,
--                                 collaborator_email_key, collaborator_department_fkey, ...)
--   22004 null_value_not_allowed  a NULL password hash
--   42710 duplicate_object        a role of that name already exists and is not ours to adopt

-- Password hash and department of a registration number, for the login of the
-- application role (which can do nothing else). No row when unknown.
CREATE FUNCTION crm.login_lookup(reg text) RETURNS TABLE (hash text, department text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, crm
AS $$
    SELECT p.hash, c.department
    FROM crm.collaborator c
    JOIN crm.collaborator_password p ON p.collaborator = c.id
    WHERE c.id = reg
$$;

-- Lower-case ASCII initials (first and last word) of a name, for generated
-- registration numbers: 'Aliénor Vichum' -> 'av'.
CREATE FUNCTION crm.initials(full_name text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, crm
AS $$
DECLARE
    words text[];
BEGIN
    words := regexp_split_to_array(
        btrim(regexp_replace(
            lower(translate(coalesce(full_name, ''),
                            'àâäáãåçéèêëíìîïñóòôöõøúùûüýÿÀÂÄÁÃÅÇÉÈÊËÍÌÎÏÑÓÒÔÖÕØÚÙÛÜÝŸ',
                            'aaaaaaceeeeiiiinoooooouuuuyyaaaaaaceeeeiiiinoooooouuuuyy')),
            '[^a-z]+', ' ', 'g')),
        ' ');
    IF words IS NULL OR words[1] = '' THEN
        RETURN 'x';
    ELSIF cardinality(words) = 1 THEN
        RETURN left(words[1], 1);
    END IF;
    RETURN left(words[1], 1) || left(words[cardinality(words)], 1);
END;
$$;

-- Makes the PostgreSQL side of a collaborator right: role @P@_<reg> exists,
-- is a direct member of its department's group and of no other group, and is
-- granted to the application role (so that it can SET ROLE into it).
CREATE FUNCTION crm.sync_collaborator_role(reg text, dept text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm
AS $$
DECLARE
    role_name text := crm.role_prefix() || '_' || reg;
    app_name text := crm.role_prefix() || '_app';
    g text;
    group_name text;
    is_member boolean;
BEGIN
    IF reg !~ '^[a-z]{1,2}[0-9]{9}$' THEN
        RAISE EXCEPTION 'invalid registration number %', reg
            USING ERRCODE = 'check_violation', CONSTRAINT = 'collaborator_id_check',
                  TABLE = 'collaborator', COLUMN = 'id', SCHEMA = 'crm';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN INHERIT', role_name);
    END IF;
    FOREACH g IN ARRAY ARRAY['commercial', 'gestion', 'support'] LOOP
        group_name := crm.role_prefix() || '_' || g;
        SELECT EXISTS (SELECT FROM pg_auth_members m
                       WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = group_name)
                         AND m.member = (SELECT oid FROM pg_roles WHERE rolname = role_name))
            INTO is_member;
        IF g = dept AND NOT is_member THEN
            EXECUTE format('GRANT %I TO %I', group_name, role_name);
        ELSIF g <> dept AND is_member THEN
            EXECUTE format('REVOKE %I FROM %I', group_name, role_name);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_auth_members m
                   WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = role_name)
                     AND m.member = (SELECT oid FROM pg_roles WHERE rolname = app_name)) THEN
        EXECUTE format('GRANT %I TO %I', role_name, app_name);
    END IF;
END;
$$;

-- Adds a collaborator: the row, its role, its password hash (if given).
-- id NULL: generated from the name's initials and 9 random digits.
-- role NULL: employee. Returns the registration number.
CREATE FUNCTION crm.add_collaborator(id text, name text, email text, department text, role text, hash text)
    RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm
AS $$
#variable_conflict use_column
DECLARE
    reg text := add_collaborator.id;
    prefix_letters text;
BEGIN
    IF reg IS NULL THEN
        prefix_letters := crm.initials(add_collaborator.name);
        LOOP
            reg := prefix_letters || lpad(floor(random() * 1000000000)::bigint::text, 9, '0');
            EXIT WHEN NOT EXISTS (SELECT FROM crm.collaborator c WHERE c.id = reg)
                  AND NOT EXISTS (SELECT FROM pg_roles WHERE rolname = crm.role_prefix() || '_' || reg);
        END LOOP;
    END IF;
    -- The row first: its constraints report bad values by name (id format,
    -- name, email shape and uniqueness, department, role).
    INSERT INTO crm.collaborator (id, name, email, department, role)
    VALUES (reg, add_collaborator.name, add_collaborator.email, add_collaborator.department,
            coalesce(add_collaborator.role, 'employee'));
    -- A role of that name that the application role cannot enter was never one
    -- of this CRM's collaborators: do not adopt it.
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = crm.role_prefix() || '_' || reg)
       AND NOT EXISTS (SELECT FROM pg_auth_members m
                       JOIN pg_roles r ON r.oid = m.roleid
                       JOIN pg_roles u ON u.oid = m.member
                       WHERE r.rolname = crm.role_prefix() || '_' || reg
                         AND u.rolname = crm.role_prefix() || '_app') THEN
        RAISE EXCEPTION 'role %_% already exists and does not belong to this CRM', crm.role_prefix(), reg
            USING ERRCODE = 'duplicate_object';
    END IF;
    PERFORM crm.sync_collaborator_role(reg, add_collaborator.department);
    IF add_collaborator.hash IS NOT NULL THEN
        INSERT INTO crm.collaborator_password (collaborator, hash) VALUES (reg, add_collaborator.hash);
    END IF;
    RETURN reg;
END;
$$;

-- Changes a collaborator; NULL keeps a field. A department change moves the
-- role from the old group to the new one, and is refused while the
-- collaborator still holds what only their department may hold: clients for a
-- commercial, events for a support person (reassign them first).
CREATE FUNCTION crm.set_collaborator(id text, name text, email text, department text, role text)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm
AS $$
#variable_conflict use_column
DECLARE
    reg text := set_collaborator.id;
    old_dept text;
    held_count bigint;
    held text;
BEGIN
    -- FOR UPDATE: client and event triggers lock the collaborator FOR SHARE
    -- when assigning them, so a move and an assignment cannot cross.
    SELECT c.department INTO old_dept FROM crm.collaborator c WHERE c.id = reg FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'collaborator % does not exist', reg USING ERRCODE = 'no_data_found';
    END IF;

    IF set_collaborator.department IS NOT NULL AND set_collaborator.department <> old_dept THEN
        IF old_dept = 'commercial' THEN
            SELECT count(*), string_agg(x.id, ', ' ORDER BY x.id) FILTER (WHERE x.n <= 5)
                INTO held_count, held
                FROM (SELECT cl.id, row_number() OVER (ORDER BY cl.id) AS n
                      FROM crm.client cl WHERE cl.commercial = reg) x;
            IF held_count > 0 THEN
                RAISE EXCEPTION 'collaborator % still holds % client(s) (%); reassign them before changing department',
                    reg, held_count, held || CASE WHEN held_count > 5 THEN ', ...' ELSE '' END
                    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'collaborator_department_clients',
                          TABLE = 'collaborator', COLUMN = 'department', SCHEMA = 'crm';
            END IF;
        ELSIF old_dept = 'support' THEN
            SELECT count(*), string_agg(x.id, ', ' ORDER BY x.id) FILTER (WHERE x.n <= 5)
                INTO held_count, held
                FROM (SELECT e.id, row_number() OVER (ORDER BY e.id) AS n
                      FROM crm.event e WHERE e.support = reg) x;
            IF held_count > 0 THEN
                RAISE EXCEPTION 'collaborator % still supports % event(s) (%); reassign them before changing department',
                    reg, held_count, held || CASE WHEN held_count > 5 THEN ', ...' ELSE '' END
                    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'collaborator_department_events',
                          TABLE = 'collaborator', COLUMN = 'department', SCHEMA = 'crm';
            END IF;
        END IF;
    END IF;

    UPDATE crm.collaborator c
    SET name = coalesce(set_collaborator.name, c.name),
        email = coalesce(set_collaborator.email, c.email),
        department = coalesce(set_collaborator.department, c.department),
        role = coalesce(set_collaborator.role, c.role)
    WHERE c.id = reg;

    IF set_collaborator.department IS NOT NULL AND set_collaborator.department <> old_dept THEN
        PERFORM crm.sync_collaborator_role(reg, set_collaborator.department);
    END IF;
END;
$$;

-- Deletes a collaborator and drops their role. Refused for oneself, and while
-- they still hold clients or events (the foreign keys would refuse too; this
-- says which).
CREATE FUNCTION crm.delete_collaborator(id text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm
AS $$
#variable_conflict use_column
DECLARE
    reg text := delete_collaborator.id;
    held_count bigint;
    held text;
BEGIN
    IF reg = crm.actor() THEN
        RAISE EXCEPTION 'you cannot delete yourself' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM crm.collaborator c WHERE c.id = reg FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'collaborator % does not exist', reg USING ERRCODE = 'no_data_found';
    END IF;

    SELECT count(*), string_agg(x.id, ', ' ORDER BY x.id) FILTER (WHERE x.n <= 5)
        INTO held_count, held
        FROM (SELECT cl.id, row_number() OVER (ORDER BY cl.id) AS n
              FROM crm.client cl WHERE cl.commercial = reg) x;
    IF held_count > 0 THEN
        RAISE EXCEPTION 'collaborator % still holds % client(s) (%); reassign them first',
            reg, held_count, held || CASE WHEN held_count > 5 THEN ', ...' ELSE '' END
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'client_commercial_fkey',
                  TABLE = 'client', COLUMN = 'commercial', SCHEMA = 'crm';
    END IF;
    SELECT count(*), string_agg(x.id, ', ' ORDER BY x.id) FILTER (WHERE x.n <= 5)
        INTO held_count, held
        FROM (SELECT e.id, row_number() OVER (ORDER BY e.id) AS n
              FROM crm.event e WHERE e.support = reg) x;
    IF held_count > 0 THEN
        RAISE EXCEPTION 'collaborator % still supports % event(s) (%); reassign them first',
            reg, held_count, held || CASE WHEN held_count > 5 THEN ', ...' ELSE '' END
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'event_support_fkey',
                  TABLE = 'event', COLUMN = 'support', SCHEMA = 'crm';
    END IF;

    DELETE FROM crm.collaborator_password p WHERE p.collaborator = reg;
    DELETE FROM crm.collaborator c WHERE c.id = reg;
    EXECUTE format('DROP ROLE IF EXISTS %I', crm.role_prefix() || '_' || reg);
END;
$$;

-- Stores a new password hash: one's own for everyone, anybody's for gestion
-- (and for the owner, e.g. during init).
CREATE FUNCTION crm.set_password(reg text, hash text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm
AS $$
#variable_conflict use_column
BEGIN
    IF set_password.hash IS NULL THEN
        RAISE EXCEPTION 'a password hash is required' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF reg IS DISTINCT FROM crm.actor()
       AND NOT pg_has_role(crm.invoker(), crm.role_prefix() || '_gestion', 'USAGE')
       AND NOT pg_has_role(crm.invoker(), crm.role_prefix() || '_owner', 'USAGE') THEN
        RAISE EXCEPTION 'only gestion may change the password of another collaborator'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT FROM crm.collaborator c WHERE c.id = reg) THEN
        RAISE EXCEPTION 'collaborator % does not exist', reg USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO crm.collaborator_password AS p (collaborator, hash) VALUES (reg, set_password.hash)
    ON CONFLICT (collaborator) DO UPDATE SET hash = excluded.hash, updated = now();
END;
$$;

-- (Default privileges of 001 already keep PUBLIC out; say it once more.)
REVOKE EXECUTE ON FUNCTION crm.login_lookup(text), crm.initials(text), crm.sync_collaborator_role(text, text),
                           crm.add_collaborator(text, text, text, text, text, text),
                           crm.set_collaborator(text, text, text, text, text),
                           crm.delete_collaborator(text), crm.set_password(text, text)
    FROM PUBLIC;
-- (Before 007, crm.login_lookup was granted to the shared application role,
-- which no longer exists on a new CRM.)
GRANT EXECUTE ON FUNCTION crm.add_collaborator(text, text, text, text, text, text),
                          crm.set_collaborator(text, text, text, text, text),
                          crm.delete_collaborator(text)
    TO @P@_gestion;
GRANT EXECUTE ON FUNCTION crm.set_password(text, text) TO @P@_commercial, @P@_gestion, @P@_support;
