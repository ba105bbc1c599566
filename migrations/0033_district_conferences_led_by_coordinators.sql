-- District case conferences are the Koordinierungsstelle's (issue 19, seed 004: "Alle involvierten Akteure
-- werden durch die KS eingeladen … Die KS leitet und moderiert die Treffen").
--
-- A town asks for one from the case (or shares the case with the coordinators, who then may call one on their
-- own initiative): the conference stays the town's row, on the town's case, and the client's hand-over consent
-- recorded with the request is what every later invitation rests on. The district's coordinators lead it:
-- they plan it (time, title, agenda), invite tenants, colleagues by name and people without an account, write
-- the minutes and action items, move it or call it off. The town's case manager keeps the case; the
-- coordinators read the summary only (no grant on the case). Of the town's own staff only the person who asked,
-- the case's owner, the team leads and colleagues named read a conference the district leads.
--
-- A municipal conference that asks for a moderator: the coordinator who takes it on gets a grant by name (the
-- grant to all coordinators ends) and may write its minutes.

ALTER TABLE case_conferences
    -- The district whose coordinators lead the conference (a district conference).
    ADD COLUMN lead_tenant_id uuid REFERENCES tenants (id),
    -- The client's hand-over consent the town recorded with the request: every invitation by the lead rests on it.
    ADD COLUMN handover_consent_id uuid,
    -- Who called it: the town asked ('town'), or the coordinators called it for a case the town shared ('coordination').
    ADD COLUMN initiative text CHECK (initiative IN ('town', 'coordination')),
    -- When time, title and agenda were settled; NULL while the town's request waits for the coordinators.
    ADD COLUMN planned_at timestamptz,
    ADD COLUMN planned_by_name text,
    -- The coordinator who took on the moderation of a municipal conference (granted by name).
    ADD COLUMN moderator_user_id uuid REFERENCES users (id),
    ADD COLUMN moderator_user_name text,
    ADD FOREIGN KEY (tenant_id, handover_consent_id) REFERENCES consents (tenant_id, id),
    ADD CHECK ((moderator_user_id IS NULL) = (moderator_user_name IS NULL)),
    ADD CHECK (moderator_user_id IS NULL OR kind = 'municipal'),
    ADD CHECK (lead_tenant_id IS NULL
               OR (kind = 'district' AND lead_tenant_id = moderator_tenant_id AND handover_consent_id IS NOT NULL AND initiative IS NOT NULL)),
    ADD CHECK (planned_at IS NOT NULL OR lead_tenant_id IS NOT NULL),
    ADD CHECK ((planned_at IS NULL) = (planned_by_name IS NULL));

-- Conferences so far were planned by their town. District conferences: the district leads them from now on,
-- resting on the consent their first grant rests on.
UPDATE case_conferences SET planned_at = created_at, planned_by_name = organiser_name;
UPDATE case_conferences f
SET lead_tenant_id = f.moderator_tenant_id, initiative = 'town',
    handover_consent_id = (SELECT g.consent_id FROM access_grants g
                           WHERE g.object_type = 'conference' AND g.object_id = f.id AND g.tenant_id = f.tenant_id
                           ORDER BY g.granted_at LIMIT 1)
WHERE f.kind = 'district'
  AND EXISTS (SELECT 1 FROM access_grants g WHERE g.object_type = 'conference' AND g.object_id = f.id AND g.tenant_id = f.tenant_id);
CREATE INDEX case_conferences_lead_idx ON case_conferences (lead_tenant_id, scheduled_at) WHERE lead_tenant_id IS NOT NULL;
CREATE INDEX case_conferences_moderator_idx ON case_conferences (moderator_tenant_id, scheduled_at) WHERE moderator_tenant_id IS NOT NULL;

-- Whether the acting person leads the conference: a coordinator of the district that leads it.
CREATE FUNCTION app_leads_conference(conference uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM public.case_conferences f WHERE f.id = conference AND f.lead_tenant_id = public.app_current_tenant())
           AND public.app_user_holds_role(ARRAY['district_coordinator'])
$$;
REVOKE ALL ON FUNCTION app_leads_conference(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_leads_conference(uuid) TO kreiswerk_app;

-- Whether the acting person of the owning town reads a conference: any of the town's attendees for its own
-- municipal conferences; for one the district leads, only the person who asked, the case's owner, the team
-- leads and colleagues named in it. The scheduler (no user: reminders, consent expiry, retention) reads them all.
CREATE FUNCTION app_town_reads_conference(conference uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT public.app_current_user() IS NULL OR EXISTS (
        SELECT 1 FROM public.case_conferences f JOIN public.cases k ON k.tenant_id = f.tenant_id AND k.id = f.case_id
        WHERE f.id = conference
          AND (f.lead_tenant_id IS NULL OR f.created_by = public.app_current_user() OR k.owner_id = public.app_current_user()
               OR public.app_user_holds_role(ARRAY['team_lead'])
               OR EXISTS (SELECT 1 FROM public.conference_participants p
                          WHERE p.conference_id = f.id AND p.participant_user_id = public.app_current_user())))
$$;
REVOKE ALL ON FUNCTION app_town_reads_conference(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_town_reads_conference(uuid) TO kreiswerk_app;

CREATE POLICY led_by_district_town_reads ON case_conferences AS RESTRICTIVE FOR SELECT TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR app_town_reads_conference(id));
CREATE POLICY led_by_district_town_reads ON conference_participants AS RESTRICTIVE FOR SELECT TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR app_town_reads_conference(conference_id));
CREATE POLICY led_by_district_town_reads ON conference_action_items AS RESTRICTIVE FOR SELECT TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR app_town_reads_conference(conference_id));

-- Withdrawing the consent to case management ends every share of the client's data: also the grants on conferences
-- the district leads, which the colleague withdrawing it may not see (the policy above hides them from the query that
-- revokes the others).
CREATE FUNCTION led_conference_grants_end_with_consent() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE public.access_grants g SET revoked_at = now(), revoked_by = public.app_current_user(), revoke_reason = 'consent withdrawn'
    FROM public.case_conferences f JOIN public.cases k ON k.tenant_id = f.tenant_id AND k.id = f.case_id
    WHERE g.tenant_id = NEW.tenant_id AND g.object_type = 'conference' AND g.object_id = f.id AND g.revoked_at IS NULL
      AND f.tenant_id = NEW.tenant_id AND f.lead_tenant_id IS NOT NULL AND k.client_id = NEW.client_id;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION led_conference_grants_end_with_consent() FROM PUBLIC;
CREATE TRIGGER led_conference_grants_end_with_consent AFTER UPDATE OF withdrawn_on ON consents
    FOR EACH ROW WHEN (OLD.withdrawn_on IS NULL AND NEW.withdrawn_on IS NOT NULL AND NEW.scope = 'case_management')
    EXECUTE FUNCTION led_conference_grants_end_with_consent();

-- The lead reads and runs the conference in the town's rows (also once it is called off and its grants ended).
CREATE POLICY district_leads ON case_conferences FOR SELECT TO kreiswerk_app
    USING (lead_tenant_id = app_current_tenant() AND app_user_holds_role(ARRAY['district_coordinator']));
CREATE POLICY district_leads_updates ON case_conferences FOR UPDATE TO kreiswerk_app
    USING (lead_tenant_id = app_current_tenant() AND app_user_holds_role(ARRAY['district_coordinator']))
    WITH CHECK (lead_tenant_id = app_current_tenant() AND app_user_holds_role(ARRAY['district_coordinator']));
-- The coordinator who took on a municipal conference's moderation writes its minutes (the service changes nothing else).
CREATE POLICY moderator_updates ON case_conferences FOR UPDATE TO kreiswerk_app
    USING (moderator_user_id = app_current_user() AND moderator_tenant_id = app_current_tenant() AND app_holds_grant('conference', id))
    WITH CHECK (moderator_user_id = app_current_user() AND moderator_tenant_id = app_current_tenant());

CREATE POLICY district_leads ON conference_participants FOR SELECT TO kreiswerk_app USING (app_leads_conference(conference_id));
CREATE POLICY district_leads_writes ON conference_participants FOR INSERT TO kreiswerk_app
    WITH CHECK (app_leads_conference(conference_id)
                AND tenant_id = (SELECT f.tenant_id FROM case_conferences f WHERE f.id = conference_id));
CREATE POLICY district_leads ON conference_action_items FOR SELECT TO kreiswerk_app USING (app_leads_conference(conference_id));
CREATE POLICY district_leads_writes ON conference_action_items FOR INSERT TO kreiswerk_app
    WITH CHECK (app_leads_conference(conference_id)
                AND tenant_id = (SELECT f.tenant_id FROM case_conferences f WHERE f.id = conference_id));
CREATE POLICY district_leads_updates ON conference_action_items FOR UPDATE TO kreiswerk_app
    USING (app_leads_conference(conference_id))
    WITH CHECK (app_leads_conference(conference_id)
                AND tenant_id = (SELECT f.tenant_id FROM case_conferences f WHERE f.id = conference_id));
-- The lead's grants are the town's rows (they rest on the town's consent) and end with the conference.
CREATE POLICY district_leads ON access_grants FOR SELECT TO kreiswerk_app
    USING (object_type = 'conference' AND app_leads_conference(object_id));
CREATE POLICY district_leads_writes ON access_grants FOR INSERT TO kreiswerk_app
    WITH CHECK (object_type = 'conference' AND app_leads_conference(object_id)
                AND tenant_id = (SELECT f.tenant_id FROM case_conferences f WHERE f.id = object_id));
CREATE POLICY district_leads_updates ON access_grants FOR UPDATE TO kreiswerk_app
    USING (object_type = 'conference' AND app_leads_conference(object_id))
    WITH CHECK (object_type = 'conference' AND app_leads_conference(object_id));

-- A coordinator takes on the moderation of a municipal conference its town asked the district to moderate:
-- the grant to all coordinators becomes a grant to this coordinator by name, resting on the same consent.
-- Returns the moderator's name afterwards (another coordinator's if one was quicker), NULL if there is no
-- such conference for the acting coordinator.
CREATE FUNCTION conference_take_on(conference uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    asked public.case_conferences%ROWTYPE;
    shared public.access_grants%ROWTYPE;
    me text;
BEGIN
    IF NOT public.app_user_holds_role(ARRAY['district_coordinator']) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO asked FROM public.case_conferences f
    WHERE f.id = conference AND f.kind = 'municipal' AND f.moderator_tenant_id = public.app_current_tenant() AND f.cancelled_at IS NULL
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF asked.moderator_user_id IS NOT NULL THEN
        RETURN asked.moderator_user_name;
    END IF;
    SELECT * INTO shared FROM public.access_grants g
    WHERE g.tenant_id = asked.tenant_id AND g.object_type = 'conference' AND g.object_id = conference
      AND g.grantee_tenant_id = public.app_current_tenant() AND g.grantee_role = 'district_coordinator' AND g.revoked_at IS NULL
    LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT u.display_name INTO me FROM public.users u WHERE u.id = public.app_current_user();
    UPDATE public.case_conferences SET moderator_user_id = public.app_current_user(), moderator_user_name = me, version = version + 1
    WHERE tenant_id = asked.tenant_id AND id = conference;
    INSERT INTO public.access_grants (tenant_id, id, grantee_tenant_id, grantee_user_id, object_type, object_id, consent_id, granted_by)
    VALUES (asked.tenant_id, gen_random_uuid(), public.app_current_tenant(), public.app_current_user(), 'conference', conference,
            shared.consent_id, public.app_current_user());
    UPDATE public.access_grants SET revoked_at = now(), revoked_by = public.app_current_user(), revoke_reason = 'moderation taken on by name'
    WHERE tenant_id = shared.tenant_id AND id = shared.id;
    RETURN me;
END
$$;
REVOKE ALL ON FUNCTION conference_take_on(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION conference_take_on(uuid) TO kreiswerk_app;

-- MARK: - The coordinators' work queue

-- The referrals of the acting coordinator's district that have waited longer than `days` for the service's feedback
-- (no feedback, not declined, case open, grant live), counted per town: numbers only, nothing of a client or case.
CREATE FUNCTION district_referrals_waiting(days integer)
RETURNS TABLE (tenant_slug text, tenant_name text, waiting integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT t.slug, t.name, count(*)::integer
    FROM public.referrals r
    JOIN public.tenants t ON t.id = r.tenant_id
    JOIN public.cases k ON k.tenant_id = r.tenant_id AND k.id = r.case_id
    WHERE t.district_id = public.app_current_tenant()
      AND public.app_user_holds_role(ARRAY['district_coordinator'])
      AND k.closed_on IS NULL
      AND r.sent_at < now() - make_interval(days => days)
      AND EXISTS (SELECT 1 FROM public.access_grants g
                  WHERE g.tenant_id = r.tenant_id AND g.object_type = 'referral' AND g.object_id = r.id AND g.revoked_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM public.referral_responses x WHERE x.referral_id = r.id AND x.kind IN ('feedback', 'declined'))
    GROUP BY t.slug, t.name
    ORDER BY t.name
$$;
REVOKE ALL ON FUNCTION district_referrals_waiting(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_referrals_waiting(integer) TO kreiswerk_app;

-- MARK: - The steering group: papers for information, papers from the coordinators, advisory members

-- A paper is put to the steering group for a decision or for information ("zur Kenntnisnahme": good practice, a
-- situation report), by a district project group or by the coordinators themselves. An information paper is taken
-- note of ('noted'), without a vote.
ALTER TABLE decision_papers
    ALTER COLUMN group_id DROP NOT NULL,
    ADD COLUMN purpose text NOT NULL DEFAULT 'decision' CHECK (purpose IN ('decision', 'information')),
    ADD COLUMN source text NOT NULL DEFAULT 'group' CHECK (source IN ('group', 'coordination')),
    ADD COLUMN submitted_by_name text,
    ADD CHECK ((source = 'group') = (group_id IS NOT NULL));
ALTER TABLE decision_papers DROP CONSTRAINT decision_papers_status_check;
ALTER TABLE decision_papers ADD CONSTRAINT decision_papers_status_check
    CHECK (status IN ('submitted', 'accepted', 'rejected', 'deferred', 'noted'));
ALTER TABLE decision_papers ADD CHECK (status <> 'noted' OR purpose = 'information');
ALTER TABLE decision_papers ADD CHECK (purpose = 'decision' OR status IN ('submitted', 'noted'));
ALTER TABLE paper_decisions DROP CONSTRAINT paper_decisions_decision_check;
ALTER TABLE paper_decisions ADD CONSTRAINT paper_decisions_decision_check
    CHECK (decision IN ('accepted', 'rejected', 'deferred', 'noted'));
ALTER TABLE paper_decisions ADD CHECK (decision <> 'noted' OR (votes_for = 0 AND votes_against = 0 AND abstentions = 0));

-- Advisory members (seed 001: "punktuell beratend") advise the group and do not vote.
ALTER TABLE steering_members ADD COLUMN advisory boolean NOT NULL DEFAULT false;
