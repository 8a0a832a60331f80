-- 001: tables, constraints, indexes and the fixed department rows.
--
-- Applied by `init` as @P@_owner inside one transaction, after @P@ has been
-- replaced by the validated role prefix. Every rule of DATA.md that a plain
-- constraint can express lives here; the rules that need other rows are
-- triggers in 002. Constraint names follow <table>_<column>_<rule> so that the
-- shell can name the field an error is about.

-- Functions created by the owner must not be executable by PUBLIC by default:
-- each grant is explicit (003, 004).
ALTER DEFAULT PRIVILEGES FOR ROLE @P@_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE ALL ON SCHEMA crm FROM PUBLIC;

-- The role prefix this CRM was created with.
CREATE FUNCTION crm.role_prefix() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN '@P@';

-- The registration number of the collaborator running the statement
-- (current_user minus the prefix), NULL when current_user is not a
-- collaborator role. Inlined by the planner, so policies using it stay cheap.
CREATE FUNCTION crm.me() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE
        WHEN current_user::text ~ '^@P@_[a-z]{1,2}[0-9]{9}$'
        THEN substr(current_user::text, length('@P@') + 2)
    END;

-- Luhn checksum over a string of digits (SIREN numbers use it).
-- NULL or anything but digits is not valid.
CREATE FUNCTION crm.luhn_ok(digits text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE
        WHEN digits !~ '^[0-9]+$' THEN false
        ELSE (SELECT sum(CASE
                             WHEN (length(digits) - pos) % 2 = 1 THEN
                                 CASE WHEN d > 4 THEN d * 2 - 9 ELSE d * 2 END
                             ELSE d
                         END) % 10 = 0
              FROM (SELECT pos, ascii(substr(digits, pos, 1)) - 48 AS d
                    FROM generate_series(1, length(digits)) AS pos) s)
    END;

-- Readable ids generated when `add` gives none (cl1000, co1000, ...).
CREATE SEQUENCE crm.location_id_seq START 1000;
CREATE SEQUENCE crm.company_id_seq START 1000;
CREATE SEQUENCE crm.client_id_seq START 1000;
CREATE SEQUENCE crm.contract_id_seq START 1000;
CREATE SEQUENCE crm.event_id_seq START 1000;

-- Human ids of the CRM's own records: a bare word a user can type.
-- (Collaborator ids have their stricter registration-number rule.)

CREATE TABLE crm.department (
    pk      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id      text NOT NULL CONSTRAINT department_id_key UNIQUE
            CONSTRAINT department_id_check CHECK (id IN ('commercial', 'gestion', 'support')),
    name    text NOT NULL CONSTRAINT department_name_check CHECK (name ~ '[^[:space:]]'),
    created timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crm.collaborator (
    pk         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL CONSTRAINT collaborator_id_key UNIQUE
               CONSTRAINT collaborator_id_check CHECK (id ~ '^[a-z]{1,2}[0-9]{9}$'),
    name       text NOT NULL
               CONSTRAINT collaborator_name_check CHECK (name ~ '[^[:space:]]' AND char_length(name) <= 200),
    email      text NOT NULL
               CONSTRAINT collaborator_email_check
               CHECK (email ~ '^[^@[:space:]]+@[^@[:space:].]+(\.[^@[:space:].]+)+$' AND char_length(email) <= 254),
    department text NOT NULL
               CONSTRAINT collaborator_department_fkey REFERENCES crm.department (id) ON DELETE RESTRICT,
    role       text NOT NULL DEFAULT 'employee'
               CONSTRAINT collaborator_role_check CHECK (role IN ('manager', 'employee')),
    created    timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique whatever their case.
CREATE UNIQUE INDEX collaborator_email_key ON crm.collaborator (lower(email));
CREATE INDEX collaborator_department_idx ON crm.collaborator (department);

-- Password hashes (scrypt PHC strings): no grant to anybody; read and written
-- only by the SECURITY DEFINER functions of 004.
CREATE TABLE crm.collaborator_password (
    collaborator text PRIMARY KEY
                 CONSTRAINT collaborator_password_collaborator_fkey
                 REFERENCES crm.collaborator (id) ON DELETE RESTRICT,
    hash         text NOT NULL CONSTRAINT collaborator_password_hash_check CHECK (hash <> ''),
    updated      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crm.location (
    pk         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL DEFAULT 'lo' || nextval('crm.location_id_seq')
               CONSTRAINT location_id_key UNIQUE
               CONSTRAINT location_id_check CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    address    text NOT NULL CONSTRAINT location_address_check CHECK (address ~ '[^[:space:]]'),
    complement text,
    postcode   text NOT NULL CONSTRAINT location_postcode_check CHECK (postcode ~ '[^[:space:]]'),
    city       text NOT NULL CONSTRAINT location_city_check CHECK (city ~ '[^[:space:]]'),
    region     text,
    country    text NOT NULL DEFAULT 'France'
               CONSTRAINT location_country_check CHECK (country ~ '[^[:space:]]'),
    created    timestamptz NOT NULL DEFAULT now(),
    -- Table constraint because it reads two columns; named after the field it
    -- is about.
    CONSTRAINT location_postcode_france
        CHECK (lower(btrim(country)) <> 'france' OR postcode ~ '^[0-9]{5}$')
);
ALTER SEQUENCE crm.location_id_seq OWNED BY crm.location.id;

CREATE TABLE crm.company (
    pk       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id       text NOT NULL DEFAULT 'co' || nextval('crm.company_id_seq')
             CONSTRAINT company_id_key UNIQUE
             CONSTRAINT company_id_check CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    name     text NOT NULL CONSTRAINT company_name_check CHECK (name ~ '[^[:space:]]'),
    siren    text NOT NULL CONSTRAINT company_siren_key UNIQUE
             CONSTRAINT company_siren_check CHECK (siren ~ '^[0-9]{9}$' AND crm.luhn_ok(siren)),
    activity text CONSTRAINT company_activity_check
             CHECK (activity = '' OR activity ~ '^[0-9]{2}\.[0-9]{2}[A-Z]$'),
    location text NOT NULL
             CONSTRAINT company_location_fkey REFERENCES crm.location (id) ON DELETE RESTRICT,
    created  timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE crm.company_id_seq OWNED BY crm.company.id;
CREATE INDEX company_location_idx ON crm.company (location);

CREATE TABLE crm.client (
    pk         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL DEFAULT 'cl' || nextval('crm.client_id_seq')
               CONSTRAINT client_id_key UNIQUE
               CONSTRAINT client_id_check CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    name       text NOT NULL CONSTRAINT client_name_check CHECK (name ~ '[^[:space:]]'),
    email      text NOT NULL
               CONSTRAINT client_email_check
               CHECK (email ~ '^[^@[:space:]]+@[^@[:space:].]+(\.[^@[:space:].]+)+$' AND char_length(email) <= 254),
    phone      text CONSTRAINT client_phone_check
               CHECK (phone ~ '^[0-9 +.-]+$'
                      AND char_length(regexp_replace(phone, '[^0-9]', '', 'g')) BETWEEN 8 AND 15),
    company    text CONSTRAINT client_company_fkey REFERENCES crm.company (id) ON DELETE RESTRICT,
    job        text,
    -- A commercial adding a client becomes its commercial: they hold no
    -- INSERT privilege on this column, the default fills it in.
    commercial text DEFAULT crm.me()
               CONSTRAINT client_commercial_fkey REFERENCES crm.collaborator (id) ON DELETE RESTRICT,
    created    timestamptz NOT NULL DEFAULT now(),
    updated    timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE crm.client_id_seq OWNED BY crm.client.id;
CREATE INDEX client_company_idx ON crm.client (company);
CREATE INDEX client_commercial_idx ON crm.client (commercial);

CREATE TABLE crm.contract (
    pk        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id        text NOT NULL DEFAULT 'ct' || nextval('crm.contract_id_seq')
              CONSTRAINT contract_id_key UNIQUE
              CONSTRAINT contract_id_check CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    client    text NOT NULL
              CONSTRAINT contract_client_fkey REFERENCES crm.client (id) ON DELETE RESTRICT,
    total     numeric(12, 2) NOT NULL CONSTRAINT contract_total_check CHECK (total > 0),
    -- NULL on insert means "all of it" (trigger contract_defaults).
    remain    numeric(12, 2) NOT NULL,
    status    text NOT NULL DEFAULT 'unsigned'
              CONSTRAINT contract_status_check CHECK (status IN ('unsigned', 'signed', 'canceled')),
    created   timestamptz NOT NULL DEFAULT now(),
    signed_at timestamptz,
    CONSTRAINT contract_remain_check CHECK (remain >= 0 AND remain <= total)
);
ALTER SEQUENCE crm.contract_id_seq OWNED BY crm.contract.id;
CREATE INDEX contract_client_idx ON crm.contract (client);
CREATE INDEX contract_status_idx ON crm.contract (status);
CREATE INDEX contract_remain_idx ON crm.contract (remain);

CREATE TABLE crm.event (
    pk        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id        text NOT NULL DEFAULT 'ev' || nextval('crm.event_id_seq')
              CONSTRAINT event_id_key UNIQUE
              CONSTRAINT event_id_check CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    title     text NOT NULL CONSTRAINT event_title_check CHECK (title ~ '[^[:space:]]'),
    contract  text NOT NULL
              CONSTRAINT event_contract_fkey REFERENCES crm.contract (id) ON DELETE RESTRICT,
    support   text CONSTRAINT event_support_fkey REFERENCES crm.collaborator (id) ON DELETE RESTRICT,
    start_at  timestamptz NOT NULL,
    end_at    timestamptz NOT NULL,
    location  text CONSTRAINT event_location_fkey REFERENCES crm.location (id) ON DELETE RESTRICT,
    attendees integer NOT NULL DEFAULT 0 CONSTRAINT event_attendees_check CHECK (attendees >= 0),
    notes     text CONSTRAINT event_notes_check CHECK (char_length(notes) <= 2500),
    created   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_end_check CHECK (end_at >= start_at)
);
ALTER SEQUENCE crm.event_id_seq OWNED BY crm.event.id;
CREATE INDEX event_contract_idx ON crm.event (contract);
CREATE INDEX event_location_idx ON crm.event (location);
CREATE INDEX event_start_at_idx ON crm.event (start_at);
-- Serves "events of a support person" (its leading column also covers the
-- foreign key) and "... from a date on" (P4 of PERFORMANCE.md).
CREATE INDEX event_support_start_at_idx ON crm.event (support, start_at);

-- Prefix searches on ids (Tab completion: id LIKE 'ge%', or id ~>=~ $1 AND
-- id ~<~ $2 with bound values) whatever the database collation.
CREATE INDEX department_id_prefix_idx ON crm.department (id text_pattern_ops);
CREATE INDEX collaborator_id_prefix_idx ON crm.collaborator (id text_pattern_ops);
CREATE INDEX location_id_prefix_idx ON crm.location (id text_pattern_ops);
CREATE INDEX company_id_prefix_idx ON crm.company (id text_pattern_ops);
CREATE INDEX client_id_prefix_idx ON crm.client (id text_pattern_ops);
CREATE INDEX contract_id_prefix_idx ON crm.contract (id text_pattern_ops);
CREATE INDEX event_id_prefix_idx ON crm.event (id text_pattern_ops);

INSERT INTO crm.department (id, name) VALUES
    ('commercial', 'Commercial'),
    ('gestion', 'Gestion'),
    ('support', 'Support');
