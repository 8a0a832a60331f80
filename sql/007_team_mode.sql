-- 007: team mode (sql/SECURITY.md). Passwords are checked and sessions
-- issued, expired and revoked here, on the server; each session is a LOGIN
-- role of its own, named after and member of the collaborator's role. The
-- application role of 001-006 loses every right (init then drops it).
--
-- Errors (SQLSTATE):
--   28000 invalid_authorization_specification  session_check: the session ended
--   28P01 invalid_password                     change_password: wrong current password
--   42501 insufficient_privilege               set_password: not gestion, or one's own
--   22023 invalid_parameter_value              a malformed password hash or proof

-- Settings of the server side, changed by `init` (statement_timeout) or by
-- an administrator with SQL.
CREATE TABLE crm.settings (
    name  text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO crm.settings (name, value) VALUES
    ('statement_timeout', '30s'),
    ('export_statement_timeout', '10min'),
    ('idle_in_transaction_session_timeout', '5min'),
    ('session_connection_limit', '8'),
    ('sessions_per_collaborator', '4'),
    ('session_max_seconds', '604800');

CREATE FUNCTION crm.setting(setting_name text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
    RETURN (SELECT s.value FROM crm.settings s WHERE s.name = setting_name);

-- How long a csv or json export may stream: its pace is the reader's, so it
-- gets longer than an ordinary statement. (A guard rail for the shell's
-- users, like statement_timeout: a session may change its own settings.)
CREATE FUNCTION crm.export_timeout() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
    RETURN (SELECT s.value FROM crm.settings s WHERE s.name = 'export_statement_timeout');

-- The key that signs session tokens. It never leaves the server.
CREATE TABLE crm.server_key (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    key bytea NOT NULL CHECK (length(key) >= 32)
);
INSERT INTO crm.server_key (key)
VALUES (sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                          || clock_timestamp()::text, 'UTF8'))
        || sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')));

-- base64url without padding (JWT).
CREATE FUNCTION crm.b64url(data bytea) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, crm, pg_temp
    RETURN translate(encode(data, 'base64'), E'+/=\n', '-_');

-- Unpadded standard base64 (PHC strings) to bytes; NULL when malformed.
CREATE FUNCTION crm.unb64(data text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog, crm, pg_temp
AS $$
BEGIN
    IF data !~ '^[A-Za-z0-9+/]{4,200}$' THEN
        RETURN NULL;
    END IF;
    RETURN decode(rpad(data, (length(data) + 3) / 4 * 4, '='), 'base64');
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END;
$$;

-- HMAC-SHA256 (RFC 2104) on the built-in sha256: no extension needed.
CREATE FUNCTION crm.hmac_sha256(key bytea, message bytea) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    k bytea := CASE WHEN length(key) > 64 THEN sha256(key) ELSE key END;
    inner_pad bytea;
    outer_pad bytea;
BEGIN
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    inner_pad := k;
    outer_pad := k;
    FOR i IN 0..63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(k, i) # 54);
        outer_pad := set_byte(outer_pad, i, get_byte(k, i) # 92);
    END LOOP;
    RETURN sha256(outer_pad || sha256(inner_pad || message));
END;
$$;

-- Password material: the scrypt parameters and salt, and the verifier
-- sha256(scrypt output). The scrypt output is what a login sends (the
-- proof); the stored verifier is not, so reading it would not let anyone
-- log in. The PHC strings of 001-006 convert in place.
ALTER TABLE crm.collaborator_password
    ADD COLUMN params text,
    ADD COLUMN salt text,
    ADD COLUMN verifier bytea;
UPDATE crm.collaborator_password p
SET params = split_part(p.hash, '$', 3),
    salt = split_part(p.hash, '$', 4),
    verifier = sha256(crm.unb64(split_part(p.hash, '$', 5)));
ALTER TABLE crm.collaborator_password
    DROP COLUMN hash,
    ALTER COLUMN params SET NOT NULL,
    ALTER COLUMN salt SET NOT NULL,
    ALTER COLUMN verifier SET NOT NULL,
    ADD CONSTRAINT collaborator_password_params_check
        CHECK (params ~ '^ln=([4-9]|1[0-9]|20),r=([1-9]|[12][0-9]|3[0-2]),p=([1-9]|1[0-6])$'),
    ADD CONSTRAINT collaborator_password_salt_check CHECK (salt ~ '^[A-Za-z0-9+/]{11,64}$'),
    ADD CONSTRAINT collaborator_password_verifier_check CHECK (length(verifier) = 32);

-- Stores a PHC string `$scrypt$ln=17,r=8,p=1$<salt>$<hash>` as parameters,
-- salt and verifier. Internal: called by the functions below.
CREATE FUNCTION crm.store_password(reg text, phc text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    parts text[] := string_to_array(phc, '$');
    output bytea;
BEGIN
    IF phc IS NULL THEN
        RAISE EXCEPTION 'a password hash is required' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    output := crm.unb64(parts[5]);
    IF cardinality(parts) <> 5 OR parts[1] <> '' OR parts[2] <> 'scrypt' OR output IS NULL
       OR length(output) < 16 THEN
        RAISE EXCEPTION 'not a scrypt password hash' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO crm.collaborator_password AS p (collaborator, params, salt, verifier)
    VALUES (reg, parts[3], parts[4], sha256(output))
    ON CONFLICT (collaborator) DO UPDATE
        SET params = excluded.params, salt = excluded.salt, verifier = excluded.verifier,
            updated = now();
    DELETE FROM crm.login_failure f WHERE f.registration = reg;
END;
$$;

-- Failed logins, counted on the server.
CREATE TABLE crm.login_failure (
    registration text PRIMARY KEY,
    failures     integer NOT NULL,
    last_failure timestamptz NOT NULL
);

-- Sessions: one LOGIN role each.
CREATE TABLE crm.session (
    jti          text PRIMARY KEY,
    collaborator text NOT NULL,
    role         text NOT NULL UNIQUE,
    issued       timestamptz NOT NULL DEFAULT now(),
    expires      timestamptz NOT NULL,
    revoked      timestamptz,
    why          text,
    dropped      boolean NOT NULL DEFAULT false
);
CREATE INDEX session_collaborator_idx ON crm.session (collaborator) WHERE NOT dropped;

-- The scrypt parameters and salt a login must use for `reg`, as the start of
-- a PHC string. An unknown registration gets a salt derived from the server
-- key: the same every time, so the answer does not tell whether it exists.
CREATE FUNCTION crm.login_salt(reg text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
    SELECT coalesce(
        (SELECT '$scrypt$' || p.params || '$' || p.salt
         FROM crm.collaborator_password p WHERE p.collaborator = reg),
        '$scrypt$ln=17,r=8,p=1$'
        || rtrim(encode(substr(crm.hmac_sha256((SELECT k.key FROM crm.server_key k),
                                               convert_to('salt:' || coalesce(reg, ''), 'UTF8')),
                               1, 16), 'base64'), '='))
$$;

-- Ends sessions: the rows say when and why, the roles can no longer log in,
-- their connections are terminated, and the roles whose connections are all
-- gone are dropped. `only_role` limits it to one session, `keep_role` spares
-- one (the caller's, on a password change); `reg` NULL means every
-- collaborator (with `only_expired`, the sweep of expired sessions).
CREATE FUNCTION crm.revoke_sessions(reg text, reason text, only_role text, keep_role text,
                                    only_expired boolean)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT * FROM crm.session x
             WHERE NOT x.dropped
               AND (reg IS NULL OR x.collaborator = reg)
               AND (only_role IS NULL OR x.role = only_role)
               AND (keep_role IS NULL OR x.role <> keep_role)
               AND (NOT only_expired OR x.expires <= now() OR x.revoked IS NOT NULL)
             ORDER BY x.jti
             FOR UPDATE LOOP
        IF s.revoked IS NULL THEN
            UPDATE crm.session x
            SET revoked = now(), why = CASE WHEN s.expires <= now() THEN 'expired' ELSE reason END
            WHERE x.jti = s.jti;
        END IF;
        IF EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = s.role) THEN
            EXECUTE format('ALTER ROLE %I NOLOGIN', s.role);
            PERFORM pg_catalog.pg_terminate_backend(a.pid)
            FROM pg_catalog.pg_stat_activity a
            WHERE a.usename = s.role AND a.pid <> pg_catalog.pg_backend_pid();
            IF NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a WHERE a.usename = s.role) THEN
                BEGIN
                    EXECUTE format('DROP ROLE %I', s.role);
                    UPDATE crm.session x SET dropped = true WHERE x.jti = s.jti;
                EXCEPTION WHEN dependent_objects_still_exist OR object_in_use THEN
                    NULL;  -- NOLOGIN already; a later sweep drops it
                END;
            END IF;
        ELSE
            UPDATE crm.session x SET dropped = true WHERE x.jti = s.jti;
        END IF;
    END LOOP;
END;
$$;

-- Logs `reg` in with `proof`, the scrypt output (unpadded base64) of the
-- password under the parameters and salt of crm.login_salt. Never raises for
-- a refused login, so that the failure it counts is committed:
--   status 'ok'        token and secret are set
--   status 'wrong'     failures is the count so far
--   status 'throttled' retry_after seconds to wait (nothing was checked)
CREATE FUNCTION crm.login(reg text, proof text, ttl_seconds integer)
    RETURNS TABLE (status text, failures integer, retry_after integer, token text, secret text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    prefix text := crm.role_prefix();
    fail record;
    wait interval;
    stored record;
    dept text;
    ok boolean;
    output bytea := crm.unb64(proof);
    v_jti text;
    role_name text;
    session_secret text;
    v_issued timestamptz := clock_timestamp();
    v_expires timestamptz;
    header text;
    payload text;
    signing_key bytea;
BEGIN
    IF reg IS NULL OR reg !~ '^[a-z]{1,2}[0-9]{9}$' THEN
        RETURN QUERY SELECT 'wrong'::text, 0, 0, NULL::text, NULL::text;
        RETURN;
    END IF;
    -- One login of a registration at a time: the count cannot race.
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('oc12-login:' || reg));
    SELECT * INTO fail FROM crm.login_failure f WHERE f.registration = reg;
    IF FOUND AND fail.failures >= 5 THEN
        wait := CASE WHEN fail.failures >= 20 THEN interval '1 hour'
                     ELSE least(interval '1 second' * (2 ^ (fail.failures - 5)), interval '15 minutes') END;
        IF fail.last_failure + wait > clock_timestamp() THEN
            RETURN QUERY SELECT 'throttled'::text, fail.failures,
                ceil(extract(epoch FROM fail.last_failure + wait - clock_timestamp()))::integer,
                NULL::text, NULL::text;
            RETURN;
        END IF;
    END IF;

    SELECT p.verifier, c.department INTO stored
    FROM crm.collaborator c JOIN crm.collaborator_password p ON p.collaborator = c.id
    WHERE c.id = reg;
    ok := FOUND AND output IS NOT NULL AND sha256(output) = stored.verifier;
    IF NOT ok THEN
        INSERT INTO crm.login_failure AS f (registration, failures, last_failure)
        VALUES (reg, 1, clock_timestamp())
        ON CONFLICT (registration) DO UPDATE
            SET failures = CASE WHEN f.last_failure < clock_timestamp() - interval '1 day' THEN 1
                                ELSE f.failures + 1 END,
                last_failure = clock_timestamp()
        RETURNING f.failures INTO fail;
        -- Forget failures nobody repeated for a day.
        DELETE FROM crm.login_failure f WHERE f.last_failure < clock_timestamp() - interval '1 day';
        RETURN QUERY SELECT 'wrong'::text, fail.failures, 0, NULL::text, NULL::text;
        RETURN;
    END IF;
    dept := stored.department;
    DELETE FROM crm.login_failure f WHERE f.registration = reg;

    -- Expired sessions of anybody go; at most N sessions per collaborator.
    PERFORM crm.revoke_sessions(NULL, 'expired', NULL, NULL, true);
    PERFORM crm.revoke_sessions(reg, 'too many sessions: ended by a newer login', x.role, NULL, false)
    FROM (SELECT s.role FROM crm.session s
          WHERE s.collaborator = reg AND s.revoked IS NULL
          ORDER BY s.issued DESC, s.jti
          OFFSET greatest(crm.setting('sessions_per_collaborator')::integer - 1, 0)) x;

    v_expires := date_trunc('second', v_issued) + interval '1 second'
        * least(greatest(coalesce(ttl_seconds, 28800), 1), crm.setting('session_max_seconds')::integer);
    v_jti := encode(substr(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 1, 16), 'hex');
    -- `<prefix>_<reg>_s<hex>`: crm.me() reads the registration from it. As
    -- many hex digits as the 63 bytes of a role name leave room for.
    LOOP
        role_name := prefix || '_' || reg || '_s' || left(v_jti, least(16, 63 - length(prefix) - length(reg) - 3));
        EXIT WHEN NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = role_name);
        v_jti := encode(substr(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 1, 16), 'hex');
    END LOOP;
    session_secret := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');

    EXECUTE format('CREATE ROLE %I LOGIN INHERIT CONNECTION LIMIT %s PASSWORD %L VALID UNTIL %L',
                   role_name, crm.setting('session_connection_limit')::integer, session_secret, v_expires);
    EXECUTE format('GRANT %I TO %I', prefix || '_' || reg, role_name);
    -- The owner may then end the session's connections.
    EXECUTE format('GRANT %I TO %I', role_name, prefix || '_owner');
    EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', role_name, crm.setting('statement_timeout'));
    EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L',
                   role_name, crm.setting('idle_in_transaction_session_timeout'));
    EXECUTE format('ALTER ROLE %I SET timezone = %L', role_name, 'Europe/Paris');
    INSERT INTO crm.session (jti, collaborator, role, issued, expires)
    VALUES (v_jti, reg, role_name, v_issued, v_expires);

    SELECT k.key INTO signing_key FROM crm.server_key k;
    header := crm.b64url(convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8'));
    payload := crm.b64url(convert_to(jsonb_build_object(
        'sub', reg, 'dept', dept, 'iat', floor(extract(epoch FROM v_issued))::bigint,
        'exp', extract(epoch FROM v_expires)::bigint, 'jti', v_jti, 'role', role_name)::text, 'UTF8'));
    RETURN QUERY SELECT 'ok'::text, 0, 0,
        header || '.' || payload || '.'
            || crm.b64url(crm.hmac_sha256(signing_key, convert_to(header || '.' || payload, 'UTF8'))),
        session_secret;
END;
$$;

-- Called at the start of every statement's transaction, as the session:
-- the collaborator's department, or 28000 saying why the session is over.
CREATE FUNCTION crm.session_check() RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    s record;
    dept text;
BEGIN
    SELECT * INTO s FROM crm.session x WHERE x.role = session_user::text;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'this connection is not a session of the CRM; log in'
            USING ERRCODE = 'invalid_authorization_specification';
    ELSIF s.revoked IS NOT NULL THEN
        RAISE EXCEPTION 'your session was ended at % (%); log in again',
            to_char(s.revoked, 'YYYY-MM-DD HH24:MI:SS TZH:TZM'), s.why
            USING ERRCODE = 'invalid_authorization_specification';
    ELSIF s.expires <= now() THEN
        RAISE EXCEPTION 'your session expired at %; log in again',
            to_char(s.expires, 'YYYY-MM-DD HH24:MI:SS TZH:TZM')
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    SELECT c.department INTO dept FROM crm.collaborator c WHERE c.id = s.collaborator;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'collaborator % no longer exists; log in again', s.collaborator
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    RETURN dept;
END;
$$;

-- Why a session's role can no longer log in: for the shell's message when
-- PostgreSQL refuses a connection (the role name is the session's own, 64
-- random bits; nothing else is told). NULL for a live or unknown session.
CREATE FUNCTION crm.session_end(session_role text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
    SELECT CASE
        WHEN s.revoked IS NOT NULL AND s.why <> 'expired' THEN
            'your session was ended at ' || to_char(s.revoked, 'YYYY-MM-DD HH24:MI:SS TZH:TZM')
            || ' (' || s.why || ')'
        WHEN s.revoked IS NOT NULL OR s.expires <= now() THEN
            'your session expired at ' || to_char(s.expires, 'YYYY-MM-DD HH24:MI:SS TZH:TZM')
    END
    FROM crm.session s WHERE s.role = session_role
$$;

-- `logout`: ends the caller's own session, for every copy of its token.
CREATE FUNCTION crm.logout() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    reg text;
BEGIN
    SELECT s.collaborator INTO reg FROM crm.session s WHERE s.role = session_user::text;
    IF FOUND THEN
        PERFORM crm.revoke_sessions(reg, 'logged out', session_user::text, NULL, false);
    END IF;
END;
$$;

-- The collaborator running a statement: current_user is their role, or one
-- of their sessions' (`<prefix>_<reg>_s<hex>`, a member of it).
CREATE OR REPLACE FUNCTION crm.me() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN substring(current_user::text FROM '^@P@_([a-z]{1,2}[0-9]{9})(?:_s[0-9a-f]+)?$');

CREATE OR REPLACE FUNCTION crm.actor() RETURNS text
    LANGUAGE sql STABLE
    RETURN coalesce(substring(crm.invoker() FROM '^@P@_([a-z]{1,2}[0-9]{9})(?:_s[0-9a-f]+)?$'),
                    crm.invoker());

-- Collaborator roles are no longer entered by an application role.
CREATE OR REPLACE FUNCTION crm.sync_collaborator_role(reg text, dept text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    role_name text := crm.role_prefix() || '_' || reg;
    g text;
    group_name text;
    is_member boolean;
BEGIN
    IF reg !~ '^[a-z]{1,2}[0-9]{9}$' THEN
        RAISE EXCEPTION 'invalid registration number %', reg
            USING ERRCODE = 'check_violation', CONSTRAINT = 'collaborator_id_check',
                  TABLE = 'collaborator', COLUMN = 'id', SCHEMA = 'crm';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = role_name) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN INHERIT', role_name);
    END IF;
    FOREACH g IN ARRAY ARRAY['commercial', 'gestion', 'support'] LOOP
        group_name := crm.role_prefix() || '_' || g;
        SELECT EXISTS (SELECT FROM pg_catalog.pg_auth_members m
                       WHERE m.roleid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = group_name)
                         AND m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = role_name))
            INTO is_member;
        IF g = dept AND NOT is_member THEN
            EXECUTE format('GRANT %I TO %I', group_name, role_name);
        ELSIF g <> dept AND is_member THEN
            EXECUTE format('REVOKE %I FROM %I', group_name, role_name);
        END IF;
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION crm.add_collaborator(id text, name text, email text, department text, role text, hash text)
    RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
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
                  AND NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = crm.role_prefix() || '_' || reg);
        END LOOP;
    END IF;
    INSERT INTO crm.collaborator (id, name, email, department, role)
    VALUES (reg, add_collaborator.name, add_collaborator.email, add_collaborator.department,
            coalesce(add_collaborator.role, 'employee'));
    -- A role of that name in none of this CRM's departments was never one of
    -- its collaborators: do not adopt it.
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = crm.role_prefix() || '_' || reg)
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_auth_members m
                       JOIN pg_catalog.pg_roles r ON r.oid = m.member
                       JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                       WHERE r.rolname = crm.role_prefix() || '_' || reg
                         AND g.rolname IN (crm.role_prefix() || '_commercial', crm.role_prefix() || '_gestion',
                                           crm.role_prefix() || '_support')) THEN
        RAISE EXCEPTION 'role %_% already exists and does not belong to this CRM', crm.role_prefix(), reg
            USING ERRCODE = 'duplicate_object';
    END IF;
    -- Sessions of an earlier collaborator of that number are over.
    PERFORM crm.revoke_sessions(reg, 'the collaborator was replaced', NULL, NULL, false);
    PERFORM crm.sync_collaborator_role(reg, add_collaborator.department);
    IF add_collaborator.hash IS NOT NULL THEN
        PERFORM crm.store_password(reg, add_collaborator.hash);
    END IF;
    RETURN reg;
END;
$$;

-- 004's version, plus: a department move ends the collaborator's sessions.
CREATE OR REPLACE FUNCTION crm.set_collaborator(id text, name text, email text, department text, role text)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    reg text := set_collaborator.id;
    old_dept text;
    held_count bigint;
    held text;
BEGIN
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
        PERFORM crm.revoke_sessions(reg, 'moved to ' || set_collaborator.department, NULL, NULL, false);
    END IF;
END;
$$;

-- 004's version, plus: the collaborator's sessions end before their role goes.
CREATE OR REPLACE FUNCTION crm.delete_collaborator(id text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
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

    PERFORM crm.revoke_sessions(reg, 'the collaborator was deleted', NULL, NULL, false);
    DELETE FROM crm.collaborator_password p WHERE p.collaborator = reg;
    DELETE FROM crm.login_failure f WHERE f.registration = reg;
    DELETE FROM crm.collaborator c WHERE c.id = reg;
    EXECUTE format('DROP ROLE IF EXISTS %I', crm.role_prefix() || '_' || reg);
END;
$$;

-- A reset of another collaborator's password, by gestion (or the owner,
-- during init): every session of theirs ends, their failed logins are
-- forgotten. One's own password changes with crm.change_password.
DROP FUNCTION crm.set_password(text, text);
CREATE FUNCTION crm.set_password(reg text, hash text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF NOT pg_catalog.pg_has_role(crm.invoker(), crm.role_prefix() || '_gestion', 'USAGE')
       AND NOT pg_catalog.pg_has_role(crm.invoker(), crm.role_prefix() || '_owner', 'USAGE') THEN
        RAISE EXCEPTION 'only gestion may change the password of another collaborator'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF reg IS NOT DISTINCT FROM crm.actor() THEN
        RAISE EXCEPTION 'to change your own password, give the current one (passwd)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT FROM crm.collaborator c WHERE c.id = reg) THEN
        RAISE EXCEPTION 'collaborator % does not exist', reg USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM crm.store_password(reg, set_password.hash);
    PERFORM crm.revoke_sessions(reg, 'password reset by ' || coalesce(crm.actor(), '?'), NULL, NULL, false);
END;
$$;

-- One's own password: `current_proof` is the scrypt output of the current
-- password (salt from crm.login_salt). The other sessions of the caller end.
CREATE FUNCTION crm.change_password(current_proof text, hash text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    reg text := crm.actor();
    output bytea := crm.unb64(current_proof);
BEGIN
    IF NOT EXISTS (SELECT FROM crm.collaborator_password p
                   WHERE p.collaborator = reg AND output IS NOT NULL
                     AND p.verifier = sha256(output)) THEN
        RAISE EXCEPTION 'the current password is wrong' USING ERRCODE = 'invalid_password';
    END IF;
    PERFORM crm.store_password(reg, hash);
    PERFORM crm.revoke_sessions(reg, 'password changed', NULL, session_user::text, false);
END;
$$;

-- The gate: a login role with a public password that may call the two
-- login functions and nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '@P@_gate') THEN
        CREATE ROLE @P@_gate LOGIN NOINHERIT CONNECTION LIMIT 32 PASSWORD 'oc12-gate-is-public';
    END IF;
END;
$$;
ALTER ROLE @P@_gate SET statement_timeout = '10s';
ALTER ROLE @P@_gate SET idle_in_transaction_session_timeout = '10s';
GRANT USAGE ON SCHEMA crm TO @P@_gate;

-- The application role of 001-006 keeps nothing: no collaborator role, no
-- function, no schema (init drops the role itself).
DROP FUNCTION crm.login_lookup(text);
DO $$
DECLARE
    r text;
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '@P@_app') THEN
        FOR r IN SELECT g.rolname FROM pg_catalog.pg_auth_members m
                 JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                 JOIN pg_catalog.pg_roles u ON u.oid = m.member
                 WHERE u.rolname = '@P@_app' LOOP
            EXECUTE format('REVOKE %I FROM @P@_app', r);
        END LOOP;
        REVOKE USAGE ON SCHEMA crm FROM @P@_app;
    END IF;
END;
$$;

-- Every SECURITY DEFINER function of the schema: pg_temp last, so that a
-- caller's temporary objects can never stand in for ours.
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN SELECT p.oid FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'crm'::regnamespace AND p.prosecdef LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, crm, pg_temp', fn);
    END LOOP;
END;
$$;

REVOKE ALL ON crm.settings, crm.server_key, crm.login_failure, crm.session FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION crm.setting(text), crm.export_timeout(), crm.b64url(bytea), crm.unb64(text),
                           crm.hmac_sha256(bytea, bytea), crm.store_password(text, text),
                           crm.login_salt(text), crm.revoke_sessions(text, text, text, text, boolean),
                           crm.login(text, text, integer), crm.session_check(), crm.logout(),
                           crm.session_end(text),
                           crm.set_password(text, text), crm.change_password(text, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crm.login_salt(text), crm.login(text, text, integer), crm.session_end(text)
    TO @P@_gate;
GRANT EXECUTE ON FUNCTION crm.login_salt(text), crm.session_check(), crm.logout(),
                          crm.change_password(text, text), crm.export_timeout()
    TO @P@_commercial, @P@_gestion, @P@_support;
GRANT EXECUTE ON FUNCTION crm.set_password(text, text) TO @P@_gestion;
-- Gestion sees who is failing to log in (and resets their password).
GRANT SELECT ON crm.login_failure TO @P@_gestion;
