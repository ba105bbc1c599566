-- Invitations that can be managed, and onboarding whole (issue 20).
--
-- A lost invitation is sent again: a new link, and the old
-- one ends as replaced; an invitation is withdrawn: its link ends as withdrawn. A link that ended says
-- why on its page. The users page tells pending invitations from active accounts, also to a district's
-- coordinators, who read (never change) the accounts of their district's tenants.

ALTER TABLE invitations
    ADD COLUMN ended_at timestamptz,
    ADD COLUMN ended_reason text CHECK (ended_reason IN ('replaced', 'withdrawn')),
    ADD CONSTRAINT invitations_ended_with_reason CHECK ((ended_at IS NULL) = (ended_reason IS NULL));

-- 0023 grants the request role every column but the digest, by name: the new ones too.
GRANT SELECT (ended_at, ended_reason), UPDATE (ended_at, ended_reason) ON invitations TO kreiswerk_app;

-- As the accounts themselves (0002's district_read on users).
CREATE POLICY district_read ON invitations FOR SELECT TO kreiswerk_app
    USING (tenant_id IN (SELECT id FROM tenants WHERE district_id = app_current_district()));

-- As 0002's, with why an invitation ended; the page says it.
DROP FUNCTION auth_invitation(bytea);
CREATE FUNCTION auth_invitation(hash bytea)
RETURNS TABLE (tenant_id uuid, invitation_id uuid, user_id uuid, email text, display_name text, expires_at timestamptz, used_at timestamptz,
               ended_reason text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT i.tenant_id, i.id, i.user_id, u.email, u.display_name, i.expires_at, i.used_at, i.ended_reason
    FROM public.invitations i JOIN public.users u ON u.tenant_id = i.tenant_id AND u.id = i.user_id
    WHERE i.token_hash = hash
$$;
REVOKE ALL ON FUNCTION auth_invitation(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_invitation(bytea) TO kreiswerk_app;

CREATE INDEX invitations_user_idx ON invitations (tenant_id, user_id, created_at DESC);

-- MARK: - Onboarding with what the tenant files hold

-- A tenant onboarded in the browser or the API, with what a tenant file holds (kind, district, organisational unit,
-- case_management_by, has_own flags, contact; the staff shares follow as the new tenant's own rows) and its first
-- tenant administrator (no password yet: an invitation follows). Kept as managed_by = api until a file takes it over.
-- A platform administrator onboards any tenant; a district coordinator, acting for their district, a carrier or an
-- authority of that district. Tenant and user come from the transaction, never from an argument.
CREATE FUNCTION tenant_onboard(
    new_id uuid, new_slug text, new_name text, new_kind text, district_slug text, unit text, email text, phone text,
    delegate_slug text, own_foreigners_authority boolean, own_youth_office boolean, own_integration_council boolean,
    admin_id uuid, admin_email text, admin_name text
) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    district uuid;
    delegate uuid;
BEGIN
    IF public.app_current_user() IS NULL THEN
        RAISE EXCEPTION 'tenants are onboarded only by a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT t.id INTO district FROM public.tenants t WHERE t.slug = district_slug AND t.kind = 'district' AND t.active;
    IF public.app_is_platform() AND public.app_user_holds_role(ARRAY['platform_admin']) THEN
        NULL;
    ELSIF new_kind IN ('carrier', 'authority') AND district IS NOT NULL AND district = public.app_current_tenant()
          AND public.app_user_holds_role(ARRAY['district_coordinator']) THEN
        NULL;
    ELSE
        RAISE EXCEPTION 'only a platform administrator, or a coordinator for a carrier or authority of their own district, onboards a tenant'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF delegate_slug IS NOT NULL THEN
        SELECT t.id INTO delegate FROM public.tenants t WHERE t.slug = delegate_slug AND t.kind = 'carrier' AND t.district_id = district;
        IF delegate IS NULL THEN
            RAISE EXCEPTION 'case_management_by must name a carrier of the same district' USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    INSERT INTO public.tenants (id, slug, name, kind, district_id, case_management_by, organisational_unit,
                                has_own_foreigners_authority, has_youth_office, has_integration_council, contact_email, contact_phone, managed_by)
    VALUES (new_id, new_slug, new_name, new_kind, district, delegate, unit,
            own_foreigners_authority, own_youth_office, own_integration_council, email, phone, 'api');
    -- The first administrator: the role rule's kind check holds (this runs as the owner, as the operator's path does).
    INSERT INTO public.users (tenant_id, id, email, display_name, roles) VALUES (new_id, admin_id, admin_email, admin_name, ARRAY['tenant_admin']);
END
$$;
REVOKE ALL ON FUNCTION tenant_onboard(uuid, text, text, text, text, text, text, text, text, boolean, boolean, boolean, uuid, text, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_onboard(uuid, text, text, text, text, text, text, text, text, boolean, boolean, boolean, uuid, text, text)
    TO kreiswerk_app;
