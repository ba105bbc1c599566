-- Platform core: the tenant catalogue, the tenant context that row-level security
-- reads, and funded staff shares as the first tenant-owned table.
--
-- Roles (created by ops/ before the first migration, see ops/lib/bootstrap.sql):
--   the owner role runs these migrations and owns every object;
--   kreiswerk_app is what the service connects as: it owns nothing, is no
--   superuser, has no BYPASSRLS, and is granted only what it needs.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kreiswerk_app') THEN
        RAISE EXCEPTION 'role kreiswerk_app is missing: create it first (ops/lib/bootstrap.sql shows how)';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kreiswerk_app' AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION 'role kreiswerk_app must be neither superuser nor BYPASSRLS: row-level security would not hold';
    END IF;
END
$$;

GRANT SELECT ON schema_migrations TO kreiswerk_app;

-- The acting tenant and user of the current transaction, set by the service with
-- set_config('app.tenant_id', …, true). Unset (or reset to '') means NULL, and a
-- comparison with NULL matches no row: no tenant, no rows.
CREATE FUNCTION app_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION app_current_user() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

GRANT EXECUTE ON FUNCTION app_current_tenant(), app_current_user() TO kreiswerk_app;

-- The catalogue of hosted organisations. Not tenant-owned data: every tenant may
-- know the names of the organisations it works with. tenants/ is its source.
CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name text NOT NULL CHECK (name <> ''),
    kind text NOT NULL CHECK (kind IN ('district', 'municipality', 'carrier', 'authority')),
    district_id uuid REFERENCES tenants (id) DEFERRABLE INITIALLY DEFERRED,
    -- The carrier that carries out this municipality's case management (Breckerfeld: VHS EN Süd).
    case_management_by uuid REFERENCES tenants (id) DEFERRABLE INITIALLY DEFERRED,
    organisational_unit text,
    -- NULL: not recorded. The coordination-post entitlement needs all three to be true.
    has_own_foreigners_authority boolean,
    has_youth_office boolean,
    has_integration_council boolean,
    contact_email text,
    contact_phone text,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT district_has_no_district CHECK ((kind = 'district') = (district_id IS NULL)),
    CONSTRAINT only_municipalities_delegate CHECK (case_management_by IS NULL OR kind = 'municipality')
);

CREATE INDEX tenants_district_idx ON tenants (district_id);

GRANT SELECT ON tenants TO kreiswerk_app;

-- Funded staff shares (Stellenanteile) per tenant, programme and year, in
-- full-time equivalents with two decimals: numeric, so sums never drift.
CREATE TABLE tenant_staff_shares (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    programme text NOT NULL CHECK (programme IN ('case_management', 'coordination', 'immigration_office')),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    fte numeric(5, 2) NOT NULL CHECK (fte >= 0),
    PRIMARY KEY (tenant_id, programme, year)
);

ALTER TABLE tenant_staff_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_staff_shares FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_staff_shares
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_staff_shares TO kreiswerk_app;
