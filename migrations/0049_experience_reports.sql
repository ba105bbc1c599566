-- The experience report (Erfahrungsbericht, issue 21; seed 004: "Erstellen von Erfahrungsberichten", section 11): per
-- district and half-year, the coordinators' narrative sections beside the period's figures, drafted and then released
-- for the state. A released report is final: its text and its figures (a suppressed snapshot, frozen as JSON when it
-- is released) never change again — the database refuses any update of a released row, and nobody may delete one. A
-- correction is written into the next half-year's report.

CREATE TABLE experience_reports (
    -- The district that owns the report (its coordinators write it).
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    -- The half-year, "2026-1" (January to June) or "2026-2".
    period text NOT NULL CHECK (period ~ '^[0-9]{4}-[12]$'),
    state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'released')),
    -- The narrative sections by key ({"ausgangslage": "…", …}); a section not written yet is absent.
    sections jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(sections) = 'object'),
    -- The figures as released (already suppressed: counts below the threshold as "<5"); NULL while a draft.
    figures jsonb CHECK (figures IS NULL OR jsonb_typeof(figures) = 'object'),
    -- Bumped by every change: a save made against an older one is refused, never silently overwrites.
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    drafted_by uuid NOT NULL,
    drafted_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    released_by uuid,
    released_at timestamptz,
    PRIMARY KEY (tenant_id, period),
    CHECK ((state = 'released') = (figures IS NOT NULL AND released_by IS NOT NULL AND released_at IS NOT NULL))
);
SELECT app_isolate_tenant_table('experience_reports');

-- Only a district owns experience reports; a released one is final.
CREATE FUNCTION experience_report_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.state = 'released' THEN
        RAISE EXCEPTION 'a released experience report is final' USING ERRCODE = 'check_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.tenants t WHERE t.id = NEW.tenant_id AND t.kind = 'district') THEN
        RAISE EXCEPTION 'experience reports belong to a district' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION experience_report_guard() FROM PUBLIC;
CREATE TRIGGER experience_report_guard BEFORE INSERT OR UPDATE ON experience_reports
    FOR EACH ROW EXECUTE FUNCTION experience_report_guard();

-- The reports of the reader's district (district_figures_reader_district(): its coordinators, assistants and steering
-- members; nobody else reads anything): drafts only for the district's own coordinators and assistants, released ones
-- for every reader (a steering member may act in a town's tenant). Names of the author and releaser come along, as
-- the steering members cannot read the district's accounts.
CREATE FUNCTION experience_reports_of_district()
RETURNS TABLE (period text, state text, sections text, figures text, version integer, drafted_by text, drafted_at timestamptz,
               updated_by text, updated_at timestamptz, released_by text, released_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT r.period, r.state, r.sections::text, r.figures::text, r.version, d.display_name, r.drafted_at, u.display_name, r.updated_at,
           l.display_name, r.released_at
    FROM experience_reports r
    LEFT JOIN users d ON d.id = r.drafted_by
    LEFT JOIN users u ON u.id = r.updated_by
    LEFT JOIN users l ON l.id = r.released_by
    WHERE r.tenant_id = district_figures_reader_district()
      AND (r.state = 'released'
           OR (r.tenant_id = app_current_tenant()
               AND EXISTS (SELECT 1 FROM users me WHERE me.id = app_current_user() AND me.tenant_id = app_current_tenant() AND me.active
                           AND me.roles && ARRAY['district_coordinator', 'district_assistant'])))
$$;
REVOKE ALL ON FUNCTION experience_reports_of_district() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION experience_reports_of_district() TO kreiswerk_app;
