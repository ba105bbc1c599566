-- Problems from outside the case work (issue 19; concept section 8): an Integrationsrat, a migrant
-- organisation (MSO), a carrier or another outside actor brings a problem to the coordinators, who record
-- it with its source (kind and name) and no case link. It climbs the same ladder: at the municipal level
-- of the town it concerns (raised_by_tenant_id: that town, whose municipal project group takes it and whose
-- case workers read it as their town's), or, concerning no single town, at district level
-- (raised_by_tenant_id: the district itself). raised_by and raised_by_name are the coordinator who recorded it.

ALTER TABLE structural_problems
    ADD COLUMN source_kind text NOT NULL DEFAULT 'case_work'
        CHECK (source_kind IN ('case_work', 'integration_council', 'migrant_organisation', 'carrier', 'outside_actor')),
    ADD COLUMN source_name text CHECK (length(trim(source_name)) BETWEEN 1 AND 200),
    ADD CHECK ((source_kind = 'case_work') = (source_name IS NULL));

-- A problem from the case work shows in at least one case; one from outside in none.
ALTER TABLE structural_problems DROP CONSTRAINT structural_problems_case_count_check;
ALTER TABLE structural_problems ADD CHECK (case_count >= 0 AND (source_kind = 'case_work') = (case_count > 0));

-- A town raises from its case work only.
DROP POLICY raiser_raises ON structural_problems;
CREATE POLICY raiser_raises ON structural_problems FOR INSERT TO kreiswerk_app
    WITH CHECK (raised_by_tenant_id = app_current_tenant() AND raised_by = app_current_user() AND tenant_id = app_tenant_district()
                AND status = 'open' AND source_kind = 'case_work');

-- A problem the district holds itself (raised_by_tenant_id = tenant_id) is not "the raiser's" for the
-- district tenant's other accounts: as every coordination object there, it is the coordinators' and
-- assistants' (0022), or anyone's of the district once its solution is published.
DROP POLICY district_staff_by_role ON structural_problems;
CREATE POLICY district_staff_by_role ON structural_problems AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates())
           OR (raised_by_tenant_id = app_current_tenant() AND raised_by_tenant_id <> tenant_id) OR published_at IS NOT NULL)
    WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates())
                OR (raised_by_tenant_id = app_current_tenant() AND raised_by_tenant_id <> tenant_id));
DROP POLICY district_staff_by_role ON problem_events;
CREATE POLICY district_staff_by_role ON problem_events AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates())
           OR (raised_by_tenant_id = app_current_tenant() AND raised_by_tenant_id <> tenant_id))
    WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates())
                OR (raised_by_tenant_id = app_current_tenant() AND raised_by_tenant_id <> tenant_id));
