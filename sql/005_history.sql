-- 005: the audit trail as people read it: each changed field as
-- `field: old → new`, fields in name order, `none` for no value.

CREATE FUNCTION crm.describe_changes(changes jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT string_agg(format('%s: %s → %s', k,
                                     coalesce(v ->> 'old', 'none'),
                                     coalesce(v ->> 'new', 'none')), '; ' ORDER BY k)
            FROM jsonb_each(changes) AS e(k, v));

GRANT EXECUTE ON FUNCTION crm.describe_changes(jsonb)
    TO @P@_commercial, @P@_gestion, @P@_support;
