-- Identity and access: the platform tenant, accounts with roles, web sessions,
-- bearer tokens, invitations, sign-in throttling, per-tenant security settings,
-- and the append-only, hash-chained audit log.
--
-- Sign-in happens before the tenant is known. The few lookups that need to find
-- an account, session, token or invitation across tenants are SECURITY DEFINER
-- functions owned by the owner role; policies `TO kreiswerk_owner` let exactly
-- those functions (and the owner, who could switch RLS off anyway) see across
-- tenants. The runtime role kreiswerk_app only ever gets the tenant policies.

-- MARK: - The platform tenant

ALTER TABLE tenants DROP CONSTRAINT tenants_kind_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_kind_check CHECK (kind IN ('platform', 'district', 'municipality', 'carrier', 'authority'));
ALTER TABLE tenants DROP CONSTRAINT district_has_no_district;
ALTER TABLE tenants ADD CONSTRAINT district_has_no_district CHECK ((kind IN ('platform', 'district')) = (district_id IS NULL));
-- Who keeps the row: tenants/ (files), onboarding through the API (api), or the platform itself.
-- A file that names an API-onboarded tenant takes it over.
ALTER TABLE tenants ADD COLUMN managed_by text NOT NULL DEFAULT 'files' CHECK (managed_by IN ('files', 'api', 'platform'));

-- The home tenant of the platform administrators (Betrieb). Not part of any district.
INSERT INTO tenants (id, slug, name, kind, managed_by)
VALUES ('00000000-0000-0000-0000-000000000001', 'betrieb', 'Kreiswerk-Betrieb', 'platform', 'platform');

-- The district whose tenants the acting user may see aggregated or read-only
-- (district coordinators); set per transaction like app.tenant_id.
CREATE FUNCTION app_current_district() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.district_id', true), '')::uuid $$;

CREATE FUNCTION app_is_platform() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT app_current_tenant() IS NOT DISTINCT FROM '00000000-0000-0000-0000-000000000001'::uuid $$;

GRANT EXECUTE ON FUNCTION app_current_district(), app_is_platform() TO kreiswerk_app;

-- Puts a tenant-owned table under forced row-level security: the runtime role sees and
-- writes only the acting tenant's rows; the owner's SECURITY DEFINER lookups see all.
-- Every table with a tenant_id goes through this (a test walks the catalogue to make sure).
CREATE FUNCTION app_isolate_tenant_table(target regclass) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s TO kreiswerk_app
        USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())', target);
    EXECUTE format('CREATE POLICY definer_lookup ON %s TO kreiswerk_owner USING (true) WITH CHECK (true)', target);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %s TO kreiswerk_app', target);
END
$$;

-- MARK: - Accounts

CREATE TABLE users (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    email text NOT NULL CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    display_name text NOT NULL CHECK (length(trim(display_name)) > 0),
    roles text[] NOT NULL CHECK (
        cardinality(roles) > 0
        AND roles <@ ARRAY['platform_admin', 'district_coordinator', 'district_assistant', 'tenant_admin', 'team_lead',
                           'case_manager', 'abh_officer', 'partner', 'steering_member']),
    -- NULL until the invitation is accepted.
    password_hash text,
    totp_secret text,
    totp_enabled_at timestamptz,
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
-- The e-mail address names the account at sign-in, so it is unique across the platform.
CREATE UNIQUE INDEX users_email_key ON users (email);

SELECT app_isolate_tenant_table('users');
-- District coordinators read (never change) the accounts of their district's tenants.
CREATE POLICY district_read ON users FOR SELECT TO kreiswerk_app
    USING (tenant_id IN (SELECT id FROM tenants WHERE district_id = app_current_district()));

CREATE TABLE tenant_settings (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    second_factor_required boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT app_isolate_tenant_table('tenant_settings');

-- MARK: - Sessions, tokens, invitations (only hashes of secrets are stored)

CREATE TABLE sessions (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    csrf_token text NOT NULL,
    -- The password was right, the TOTP code is still to come.
    second_factor_pending boolean NOT NULL DEFAULT false,
    client_address text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
SELECT app_isolate_tenant_table('sessions');

CREATE TABLE api_tokens (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    -- login: from POST /api/v1/auth/login; personal: a personal access token for an integration.
    kind text NOT NULL CHECK (kind IN ('login', 'personal')),
    name text NOT NULL CHECK (length(trim(name)) > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
SELECT app_isolate_tenant_table('api_tokens');

CREATE TABLE invitations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
SELECT app_isolate_tenant_table('invitations');

-- Failed sign-ins per account and per client address. A platform table: its keys
-- are SHA-256 digests, so it holds no e-mail address and no IP address.
CREATE TABLE sign_in_failures (
    key bytea PRIMARY KEY,
    failures integer NOT NULL,
    first_failure_at timestamptz NOT NULL,
    last_failure_at timestamptz NOT NULL,
    locked_until timestamptz
);
GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_failures TO kreiswerk_app;

-- MARK: - Cross-tenant lookups for sign-in

-- The account behind an e-mail address, whatever its tenant.
CREATE FUNCTION auth_account(address text)
RETURNS TABLE (tenant_id uuid, user_id uuid, password_hash text, totp_secret text, totp_enabled boolean, active boolean, tenant_active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT u.tenant_id, u.id, u.password_hash, u.totp_secret, u.totp_enabled_at IS NOT NULL, u.active, t.active
    FROM users u JOIN tenants t ON t.id = u.tenant_id
    WHERE u.email = lower(address)
$$;

-- What a request needs to know about the signed-in user, in one row.
CREATE TYPE auth_identity AS (
    tenant_id uuid, credential_id uuid, user_id uuid, csrf_token text, second_factor_pending boolean, token_kind text,
    email text, display_name text, roles text[], totp_enabled boolean,
    tenant_slug text, tenant_name text, tenant_kind text, district_id uuid, district_slug text, second_factor_required boolean
);

-- A live web session by the hash of its cookie, with its user and tenant. Idle and
-- absolute expiry are decided here. last_seen_at is bumped at most once a minute, so
-- that requests in quick succession do not all wait for one row's lock. PL/pgSQL,
-- so that the plans are kept per connection (an SQL function would be planned anew
-- on every request).
CREATE FUNCTION auth_session(hash bytea, idle interval) RETURNS SETOF auth_identity
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT s.tenant_id, s.id, s.user_id, s.csrf_token, s.second_factor_pending, NULL::text,
           u.email, u.display_name, u.roles, u.totp_enabled_at IS NOT NULL, t.slug, t.name, t.kind, t.district_id, d.slug,
           coalesce(ts.second_factor_required, false)
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

-- A live bearer token by its hash, with its user and tenant (last_used_at at most once a minute).
CREATE FUNCTION auth_token(hash bytea) RETURNS SETOF auth_identity
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT a.tenant_id, a.id, a.user_id, NULL::text, false, a.kind,
           u.email, u.display_name, u.roles, u.totp_enabled_at IS NOT NULL, t.slug, t.name, t.kind, t.district_id, d.slug,
           coalesce(ts.second_factor_required, false)
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

-- An invitation by the hash of its link, whether used or expired (the page says which).
CREATE FUNCTION auth_invitation(hash bytea)
RETURNS TABLE (tenant_id uuid, invitation_id uuid, user_id uuid, email text, display_name text, expires_at timestamptz, used_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT i.tenant_id, i.id, i.user_id, u.email, u.display_name, i.expires_at, i.used_at
    FROM invitations i JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.user_id
    WHERE i.token_hash = hash
$$;

-- Onboarding through the API: only a transaction acting for the platform may add a tenant.
CREATE FUNCTION platform_onboard_tenant(
    new_id uuid, new_slug text, new_name text, new_kind text, district_slug text, unit text, email text
) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    IF NOT app_is_platform() THEN
        RAISE EXCEPTION 'only the platform may onboard tenants' USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO tenants (id, slug, name, kind, district_id, organisational_unit, contact_email, managed_by)
    VALUES (new_id, new_slug, new_name, new_kind,
            (SELECT id FROM tenants WHERE slug = district_slug AND kind = 'district'), unit, email, 'api');
END
$$;

-- The tenant of an account, for a transaction acting for the platform (platform administrators open any account).
CREATE FUNCTION platform_user_tenant(account uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$ SELECT tenant_id FROM users WHERE id = account AND app_is_platform() $$;

GRANT EXECUTE ON FUNCTION platform_user_tenant(uuid) TO kreiswerk_app;
GRANT EXECUTE ON FUNCTION auth_account(text), auth_session(bytea, interval), auth_token(bytea), auth_invitation(bytea),
    platform_onboard_tenant(uuid, text, text, text, text, text, text) TO kreiswerk_app;

-- MARK: - The audit trail

-- Append-only. Each request appends its entry independently (entry_hash is the
-- digest of the entry's own content); audit_seal() later puts unsealed entries
-- into one chain (seq, prev_hash, chain_hash) in batches, so no request waits
-- for another one's entry.
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- NULL: an event of the platform itself (a sign-in attempt for an unknown address).
    tenant_id uuid REFERENCES tenants (id),
    actor_id uuid,
    action text NOT NULL CHECK (action ~ '^[a-z][a-z_.]*$'),
    object_type text,
    object_id text,
    purpose text,
    detail jsonb NOT NULL DEFAULT '{}',
    client_address text,
    entry_hash bytea NOT NULL,
    seq bigint UNIQUE,
    prev_hash bytea,
    chain_hash bytea,
    sealed_at timestamptz
);
CREATE INDEX audit_log_unsealed_idx ON audit_log (id) WHERE seq IS NULL;
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_append ON audit_log FOR INSERT TO kreiswerk_app
    WITH CHECK (tenant_id = app_current_tenant() OR tenant_id IS NULL);
-- Tenant admins read their tenant, district coordinators their district's tenants,
-- platform administrators everything.
CREATE POLICY scoped_read ON audit_log FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant()
        OR tenant_id IN (SELECT id FROM tenants WHERE district_id = app_current_district())
        OR app_is_platform());
CREATE POLICY definer_seal ON audit_log TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON audit_log TO kreiswerk_app;

-- The canonical text of an entry's content, digested into entry_hash; verify recomputes it.
CREATE FUNCTION audit_entry_digest(a audit_log) RETURNS bytea
LANGUAGE sql STABLE
AS $$
    SELECT sha256(convert_to(concat_ws('|',
        a.id::text,
        to_char(a.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        coalesce(a.tenant_id::text, '-'), coalesce(a.actor_id::text, '-'), a.action,
        coalesce(a.object_type, '-'), coalesce(a.object_id, '-'), coalesce(a.purpose, '-'),
        a.detail::text, coalesce(a.client_address, '-')), 'UTF8'))
$$;
GRANT EXECUTE ON FUNCTION audit_entry_digest(audit_log) TO kreiswerk_app;

CREATE FUNCTION audit_log_before_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.seq := NULL;
    NEW.prev_hash := NULL;
    NEW.chain_hash := NULL;
    NEW.sealed_at := NULL;
    NEW.entry_hash := audit_entry_digest(NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_digest BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_before_insert();

-- Entries never change; sealing only fills the chain columns of an unsealed entry, once.
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND (NEW.id, NEW.occurred_at, NEW.tenant_id, NEW.actor_id, NEW.action, NEW.object_type, NEW.object_id,
            NEW.purpose, NEW.detail, NEW.client_address, NEW.entry_hash)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.occurred_at, OLD.tenant_id, OLD.actor_id, OLD.action, OLD.object_type, OLD.object_id,
            OLD.purpose, OLD.detail, OLD.client_address, OLD.entry_hash) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % of entry % refused', TG_OP, OLD.id USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE FUNCTION audit_log_no_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log EXECUTE FUNCTION audit_log_no_truncate();

-- Seals up to `batch` committed, unsealed entries in id order onto the chain and returns how many.
-- chain_hash = sha256(prev_hash || entry_hash); the first entry's prev_hash is 32 zero bytes.
CREATE FUNCTION audit_seal(batch integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    last_seq bigint;
    last_hash bytea;
    entry record;
    sealed integer := 0;
BEGIN
    -- One sealer at a time; requests appending entries never take this lock.
    PERFORM pg_advisory_xact_lock(4851245534854110529);
    SELECT a.seq, a.chain_hash INTO last_seq, last_hash FROM audit_log a WHERE a.seq IS NOT NULL ORDER BY a.seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        last_seq := 0;
        last_hash := decode(repeat('00', 32), 'hex');
    END IF;
    FOR entry IN SELECT a.id, a.entry_hash FROM audit_log a WHERE a.seq IS NULL ORDER BY a.id LIMIT batch LOOP
        last_seq := last_seq + 1;
        UPDATE audit_log SET seq = last_seq, prev_hash = last_hash, chain_hash = sha256(last_hash || entry.entry_hash), sealed_at = now()
        WHERE id = entry.id;
        last_hash := sha256(last_hash || entry.entry_hash);
        sealed := sealed + 1;
    END LOOP;
    RETURN sealed;
END
$$;
GRANT EXECUTE ON FUNCTION audit_seal(integer) TO kreiswerk_app;
