-- Every change that can end or narrow a signed-in identity is announced on the channel
-- `kreiswerk_identity`, at commit: a session ended or its second factor completed, a token revoked,
-- a user deactivated or given other roles, a tenant renamed, moved or deactivated, the second factor
-- made mandatory. Each server keeps the identities it resolved in memory only while it listens here,
-- and forgets them all on each notice, so such a change takes effect with the next request.
CREATE FUNCTION identity_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('kreiswerk_identity', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION identity_changed() FROM PUBLIC;

CREATE TRIGGER identity_changed AFTER UPDATE OF ended_at, second_factor_pending, csrf_token, expires_at, user_id, tenant_id
    OR DELETE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION identity_changed();
CREATE TRIGGER identity_changed AFTER UPDATE OF revoked_at, expires_at, kind, user_id, tenant_id
    OR DELETE ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION identity_changed();
CREATE TRIGGER identity_changed AFTER UPDATE OF email, display_name, roles, totp_enabled_at, active, tenant_id
    OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION identity_changed();
CREATE TRIGGER identity_changed AFTER UPDATE OF slug, name, kind, district_id, active
    OR DELETE ON tenants FOR EACH STATEMENT EXECUTE FUNCTION identity_changed();
CREATE TRIGGER identity_changed AFTER INSERT OR UPDATE OR DELETE ON tenant_settings
    FOR EACH STATEMENT EXECUTE FUNCTION identity_changed();

-- Until when an identity may be taken as resolved without asking again: the session's absolute end or the moment
-- it falls idle, the token's end. A server that keeps identities in memory never keeps one past it.
ALTER TYPE auth_identity ADD ATTRIBUTE valid_until timestamptz;

CREATE OR REPLACE FUNCTION auth_session(hash bytea, idle interval) RETURNS SETOF auth_identity
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT s.tenant_id, s.id, s.user_id, s.csrf_token, s.second_factor_pending, NULL::text,
           u.email, u.display_name, u.roles, u.totp_enabled_at IS NOT NULL, t.slug, t.name, t.kind, t.district_id, d.slug,
           coalesce(ts.second_factor_required, false),
           least(s.expires_at, greatest(s.last_seen_at, now() - interval '1 minute') + idle)
    FROM sessions s
    JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id AND u.active
    JOIN tenants t ON t.id = s.tenant_id AND t.active
    LEFT JOIN tenants d ON d.id = t.district_id
    LEFT JOIN tenant_settings ts ON ts.tenant_id = s.tenant_id
    WHERE s.token_hash = hash AND s.ended_at IS NULL AND s.expires_at > now() AND s.last_seen_at > now() - idle;
    IF FOUND THEN
        UPDATE sessions SET last_seen_at = now() WHERE token_hash = hash AND last_seen_at < now() - interval '1 minute';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION auth_token(hash bytea) RETURNS SETOF auth_identity
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT a.tenant_id, a.id, a.user_id, NULL::text, false, a.kind,
           u.email, u.display_name, u.roles, u.totp_enabled_at IS NOT NULL, t.slug, t.name, t.kind, t.district_id, d.slug,
           coalesce(ts.second_factor_required, false), a.expires_at
    FROM api_tokens a
    JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.user_id AND u.active
    JOIN tenants t ON t.id = a.tenant_id AND t.active
    LEFT JOIN tenants d ON d.id = t.district_id
    LEFT JOIN tenant_settings ts ON ts.tenant_id = a.tenant_id
    WHERE a.token_hash = hash AND a.revoked_at IS NULL AND (a.expires_at IS NULL OR a.expires_at > now());
    IF FOUND THEN
        UPDATE api_tokens SET last_used_at = now()
        WHERE token_hash = hash AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
    END IF;
END
$$;
