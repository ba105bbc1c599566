-- The service directory, maintained where it lives, and a town's own offices reporting to its team (issue 20): a carrier's administrators and counsellors, and the
-- district's coordinators for any service of the district, create, change and retire services in the browser and
-- the API. Until now services.yaml was the only writer (as the owner, through `tenants apply`).
--
-- A service gains what people need to find and reach it (a description for the full-text search, address, opening
-- hours, whether it takes new clients and the expected waiting time), a version (changes carry it: If-Match), who
-- maintains it (`files`: services.yaml; `api`: the browser and the API, which `tenants apply` leaves alone) and
-- when and by whom it was last changed. A retired service (active = false) keeps its past referrals.

ALTER TABLE services
    ADD COLUMN description text CHECK (length(description) <= 4000),
    ADD COLUMN address text CHECK (length(address) <= 500),
    ADD COLUMN opening_hours text CHECK (length(opening_hours) <= 1000),
    ADD COLUMN takes_new_clients boolean NOT NULL DEFAULT true,
    -- Expected waiting time for a first appointment, in weeks (absent: not stated).
    ADD COLUMN waiting_weeks integer CHECK (waiting_weeks BETWEEN 0 AND 104),
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN managed_by text NOT NULL DEFAULT 'files' CHECK (managed_by IN ('files', 'api')),
    ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN changed_by uuid;

CREATE INDEX services_search_idx ON services
    USING gin (to_tsvector('german', name || ' ' || coalesce(description, '')));

-- Directory data (no personal data): everyone reads it, as before. Writes below the application as well:
-- the carrier's administrators and counsellors for their own tenant's services in their district, the
-- district's coordinators for every service of the district. The owner (tenants apply) is not restricted.
ALTER TABLE services ENABLE ROW LEVEL SECURITY;
ALTER TABLE services FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_read ON services FOR SELECT TO kreiswerk_app USING (true);
CREATE POLICY maintainers_insert ON services FOR INSERT TO kreiswerk_app WITH CHECK (
    (carrier_id = app_current_tenant() AND district_id = app_tenant_district()
        AND app_user_holds_role(ARRAY['tenant_admin', 'counsellor']))
    OR (district_id = app_current_tenant() AND app_user_holds_role(ARRAY['district_coordinator'])));
CREATE POLICY maintainers_update ON services FOR UPDATE TO kreiswerk_app
    USING ((carrier_id = app_current_tenant() AND app_user_holds_role(ARRAY['tenant_admin', 'counsellor']))
        OR (district_id = app_current_tenant() AND app_user_holds_role(ARRAY['district_coordinator'])))
    WITH CHECK (
    (carrier_id = app_current_tenant() AND district_id = app_tenant_district()
        AND app_user_holds_role(ARRAY['tenant_admin', 'counsellor']))
    OR (district_id = app_current_tenant() AND app_user_holds_role(ARRAY['district_coordinator'])));
CREATE POLICY owner_all ON services TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT INSERT, UPDATE ON services TO kreiswerk_app;

-- How a service answered its referrals, counts only (the service's page): received, answered at all, and answered
-- within the district's referral_feedback_reminder_days (14 unless the district's file says otherwise) of being sent.
-- Referrals are the senders' rows: only this function counts across them, and it returns no row of them.
CREATE FUNCTION service_answer_counts(service uuid)
RETURNS TABLE (received integer, answered integer, answered_in_time integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH rule AS (
        SELECT coalesce((d.reminder_rules ->> 'referral_feedback_reminder_days')::integer, 14) AS days
        FROM services s JOIN tenants d ON d.id = s.district_id
        WHERE s.id = service AND s.district_id = public.app_tenant_district()
    ), first_answers AS (
        SELECT r.id, r.sent_at, (SELECT min(a.responded_at) FROM referral_responses a WHERE a.referral_id = r.id) AS first_at
        FROM referrals r WHERE r.service_id = service AND EXISTS (SELECT 1 FROM rule)
    )
    SELECT count(*)::integer,
           count(first_at)::integer,
           count(*) FILTER (WHERE first_at <= sent_at + make_interval(days => (SELECT days FROM rule)))::integer
    FROM first_answers
$$;
REVOKE ALL ON FUNCTION service_answer_counts(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION service_answer_counts(uuid) TO kreiswerk_app;

-- The referring case manager hears back: an answer of the receiver (accepted, declined, feedback) notifies the
-- referral's sender in their inbox (and by e-mail by their preference). notify() reaches only the acting tenant's
-- staff; the sender is another tenant's, so this derives the recipient from the answer itself: the acting tenant
-- must have written `response` to a referral it received; the recipient is whoever sent that referral, and the
-- notification leads to the sender's case (the title may name the case number and the service, never the client).
CREATE FUNCTION notify_referral_sender(response uuid, notification_title text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    recipient uuid;
    home uuid;
    preference text;
    case_link text;
    created uuid;
BEGIN
    SELECT r.sent_by, r.tenant_id, '/faelle/' || r.case_id::text INTO recipient, home, case_link
    FROM public.referral_responses a JOIN public.referrals r ON r.id = a.referral_id
    WHERE a.id = response AND a.tenant_id = public.app_current_tenant() AND r.receiver_tenant_id = public.app_current_tenant();
    IF recipient IS NULL THEN
        RETURN false;
    END IF;
    SELECT u.email_notifications INTO preference FROM public.users u WHERE u.id = recipient AND u.tenant_id = home AND u.active;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO public.notifications (tenant_id, user_id, kind, title, link, dedupe_key)
    VALUES (home, recipient, 'referral_answered', notification_title, case_link, 'referral-response:' || response::text)
    ON CONFLICT (user_id, dedupe_key) DO NOTHING
    RETURNING id INTO created;
    IF created IS NULL THEN
        RETURN false;
    END IF;
    IF preference = 'immediate' THEN
        INSERT INTO public.jobs (tenant_id, queue, kind, payload, unique_key)
        VALUES (home, 'mail', 'mail.notification', jsonb_build_object('notification', created), created::text);
    END IF;
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION notify_referral_sender(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION notify_referral_sender(uuid, text) TO kreiswerk_app;

-- A town's own offices report to its case-management team (seed 004, section 6): a level-2 report whose reporter and
-- recipient are the same tenant carries no grant (a tenant grants nothing to itself), so the team decides it as the
-- recipient of its own tenant's report.
DROP POLICY granted_team_decides ON case_report_decisions;
CREATE POLICY granted_team_decides ON case_report_decisions FOR INSERT TO kreiswerk_app
    WITH CHECK (tenant_id = app_current_tenant()
        AND (app_holds_grant('report', report_id)
             OR EXISTS (SELECT 1 FROM case_reports r
                        WHERE r.id = report_id AND r.tenant_id = app_current_tenant() AND r.recipient_tenant_id = app_current_tenant())));
