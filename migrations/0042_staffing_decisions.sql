-- Staffing as the district decides it (issue 19, seed 004 section 5): the funded posts per tenant, programme and year
-- come from the tenant files (tenant_staff_shares); the allocation key only proposes; the district's coordinators
-- record their decision per tenant, programme and year, with the proposal it was based on and a reason. A tenant
-- may waive a programme it is entitled to (Witten's own coordination post), recorded with the reason in its file.

-- Baustein I has two kinds of post: 3.5 coordination posts and a 0.5 assistance post per district.
ALTER TABLE tenant_staff_shares DROP CONSTRAINT tenant_staff_shares_programme_check;
ALTER TABLE tenant_staff_shares ADD CONSTRAINT tenant_staff_shares_programme_check
    CHECK (programme IN ('case_management', 'coordination', 'assistance', 'immigration_office'));

-- From the tenant files: {"coordination": "reason"} for a programme the tenant is entitled to and does not take.
ALTER TABLE tenants ADD COLUMN staff_waivers jsonb CHECK (staff_waivers IS NULL OR jsonb_typeof(staff_waivers) = 'object');

-- The district's decision on one tenant's posts in one programme and year: owned by the district tenant.
CREATE TABLE staffing_decisions (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    -- The tenant the posts go to (a town, a carrier, an authority, or the district itself for its coordination).
    subject_id uuid NOT NULL REFERENCES tenants (id),
    programme text NOT NULL CHECK (programme IN ('case_management', 'coordination', 'assistance', 'immigration_office')),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    -- The allocation key's proposal, if there was one; the decision may differ from it.
    proposed_fte numeric(5, 2) CHECK (proposed_fte >= 0),
    decided_fte numeric(5, 2) NOT NULL CHECK (decided_fte >= 0),
    reason text NOT NULL CHECK (length(trim(reason)) BETWEEN 1 AND 2000),
    -- Bumped by every change: an edit made against an older one is refused (412).
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    decided_by uuid NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subject_id, programme, year)
);
SELECT app_isolate_tenant_table('staffing_decisions');

-- The posts a district decides go to itself or to one of its own tenants, never to another district's.
CREATE FUNCTION staffing_decision_subject_in_district() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.tenants t
                   WHERE t.id = NEW.subject_id AND (t.id = NEW.tenant_id OR t.district_id = NEW.tenant_id)) THEN
        RAISE EXCEPTION 'a staffing decision is for the district itself or one of its tenants' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION staffing_decision_subject_in_district() FROM PUBLIC;
CREATE TRIGGER subject_in_district BEFORE INSERT OR UPDATE OF subject_id, tenant_id ON staffing_decisions
    FOR EACH ROW EXECUTE FUNCTION staffing_decision_subject_in_district();

-- Staffing is read by whoever reads the district figures (district_figures_reader_district(): the coordinators,
-- assistants and steering members of the acting tenant; nobody else reads anything).
-- Every tenant of that district (the district itself included), with its entitlement and waivers.
CREATE FUNCTION staffing_tenants()
RETURNS TABLE (id uuid, slug text, name text, kind text, entitled_to_coordination boolean, staff_waivers text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT t.id, t.slug, t.name, t.kind,
           CASE WHEN t.kind <> 'municipality' THEN NULL
                WHEN false IN (t.has_own_foreigners_authority, t.has_youth_office, t.has_integration_council) THEN false
                WHEN t.has_own_foreigners_authority AND t.has_youth_office AND t.has_integration_council THEN true END,
           t.staff_waivers::text
    FROM tenants t
    WHERE t.active AND (t.id = district_figures_reader_district() OR t.district_id = district_figures_reader_district())
$$;
REVOKE ALL ON FUNCTION staffing_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION staffing_tenants() TO kreiswerk_app;

-- Every funded share (all programmes, all years) of the tenants of the reader's district.
CREATE FUNCTION staffing_shares() RETURNS TABLE (tenant_id uuid, programme text, year integer, hundredths integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT s.tenant_id, s.programme, s.year, (s.fte * 100)::integer
    FROM tenant_staff_shares s JOIN tenants t ON t.id = s.tenant_id
    WHERE t.id = district_figures_reader_district() OR t.district_id = district_figures_reader_district()
$$;
REVOKE ALL ON FUNCTION staffing_shares() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION staffing_shares() TO kreiswerk_app;

-- The district's decisions, for every reader of its staffing (a steering member acts in a town's tenant).
CREATE FUNCTION staffing_decisions_of_district()
RETURNS TABLE (subject_id uuid, programme text, year integer, proposed integer, decided integer, reason text, version integer,
               decided_by text, decided_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT d.subject_id, d.programme, d.year, (d.proposed_fte * 100)::integer, (d.decided_fte * 100)::integer, d.reason, d.version,
           u.display_name, d.decided_at
    FROM staffing_decisions d LEFT JOIN users u ON u.id = d.decided_by
    WHERE d.tenant_id = district_figures_reader_district() AND app_current_user() IS NOT NULL
$$;
REVOKE ALL ON FUNCTION staffing_decisions_of_district() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION staffing_decisions_of_district() TO kreiswerk_app;
