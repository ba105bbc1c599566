-- Pre-checks between case managers and the Ausländerbehörde (issue 21, Baustein III of seed 004): a case manager asks an
-- ABH of the district whether the client may meet the requirements of § 25a, § 25b, § 104c AufenthG or of naturalisation
-- (§ 10 StAG). Only with the client's hand-over consent, as a referral: the question is a row of the asking tenant with the
-- minimal data the ABH needs, and the ABH sees it only through a grant that rests on that consent (revoked the moment it
-- is withdrawn). The ABH's answers are rows of the ABH's tenant that the asking tenant reads; an application that follows
-- is linked to its pre-check in the ABH's register.

-- MARK: - The question (rows of the asking tenant)

CREATE TABLE abh_prechecks (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    client_id uuid NOT NULL,
    consent_id uuid NOT NULL,
    abh_tenant_id uuid NOT NULL REFERENCES tenants (id),
    kind text NOT NULL CHECK (kind IN ('section_25a', 'section_25b', 'section_104c', 'naturalisation')),
    -- The minimal data set the ABH needs to answer: who (to find its own file) and what the client brings.
    first_name text NOT NULL,
    last_name text NOT NULL,
    date_of_birth date NOT NULL,
    residence_title text,
    residence_paragraph text,
    residence_valid_until date,
    years_of_residence integer CHECK (years_of_residence BETWEEN 0 AND 99),
    language_level text CHECK (language_level IN ('none', 'A1', 'A2', 'B1', 'B2', 'C1', 'C2')),
    livelihood text CHECK (livelihood IN ('secured', 'partly', 'not_secured')),
    school_or_work text CHECK (length(school_or_work) BETWEEN 1 AND 500),
    missing text CHECK (length(missing) BETWEEN 1 AND 2000),
    question text CHECK (length(question) BETWEEN 1 AND 2000),
    sender_name text NOT NULL,
    sent_by uuid NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, consent_id) REFERENCES consents (tenant_id, id),
    CHECK (abh_tenant_id <> tenant_id)
);
CREATE INDEX abh_prechecks_case_idx ON abh_prechecks (tenant_id, case_id, sent_at);
CREATE INDEX abh_prechecks_abh_idx ON abh_prechecks (abh_tenant_id, sent_at);
ALTER TABLE abh_prechecks ENABLE ROW LEVEL SECURITY;
ALTER TABLE abh_prechecks FORCE ROW LEVEL SECURITY;
CREATE POLICY asker_or_granted_abh ON abh_prechecks FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR (abh_tenant_id = app_current_tenant() AND app_holds_grant('precheck', id)));
CREATE POLICY asker_writes ON abh_prechecks FOR INSERT TO kreiswerk_app WITH CHECK (tenant_id = app_current_tenant());
-- Only retention changes a pre-check (the trigger below anonymises it with its client).
CREATE POLICY asker_anonymises ON abh_prechecks FOR UPDATE TO kreiswerk_app
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY definer_lookup ON abh_prechecks TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON abh_prechecks TO kreiswerk_app;

-- MARK: - The answers (rows of the ABH's tenant)

-- The ABH's answers, numbered per pre-check: a second officer answering on a stale page meets the unique number.
-- 'application_received' is written when the ABH records an application that follows the pre-check.
CREATE TABLE abh_precheck_answers (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    precheck_id uuid NOT NULL REFERENCES abh_prechecks (id),
    sender_tenant_id uuid NOT NULL REFERENCES tenants (id),
    number integer NOT NULL CHECK (number >= 1),
    verdict text NOT NULL CHECK (verdict IN ('likely_eligible', 'missing', 'not_eligible', 'application_received')),
    note text CHECK (length(note) BETWEEN 1 AND 2000),
    answerer_name text NOT NULL,
    answered_by uuid NOT NULL,
    answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (precheck_id, number),
    CHECK (verdict NOT IN ('missing', 'not_eligible') OR note IS NOT NULL)
);
ALTER TABLE abh_precheck_answers ENABLE ROW LEVEL SECURITY;
ALTER TABLE abh_precheck_answers FORCE ROW LEVEL SECURITY;
CREATE POLICY abh_or_asker ON abh_precheck_answers FOR SELECT TO kreiswerk_app
    USING (tenant_id = app_current_tenant() OR sender_tenant_id = app_current_tenant());
-- The ABH answers only while it holds the grant (the client's consent stands).
CREATE POLICY granted_abh_writes ON abh_precheck_answers FOR INSERT TO kreiswerk_app
    WITH CHECK (tenant_id = app_current_tenant() AND app_holds_grant('precheck', precheck_id));
CREATE POLICY definer_lookup ON abh_precheck_answers TO kreiswerk_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON abh_precheck_answers TO kreiswerk_app;

-- An application that follows a pre-check.
ALTER TABLE abh_applications ADD COLUMN precheck_id uuid REFERENCES abh_prechecks (id);

-- MARK: - The grant

ALTER TABLE access_grants DROP CONSTRAINT access_grants_object_type_check;
ALTER TABLE access_grants ADD CONSTRAINT access_grants_object_type_check
    CHECK (object_type IN ('referral', 'report', 'conference', 'precheck'));
ALTER TABLE access_grants DROP CONSTRAINT access_grants_check1;
ALTER TABLE access_grants ADD CONSTRAINT access_grants_consent_check
    CHECK ((object_type IN ('referral', 'conference', 'precheck')) = (consent_id IS NOT NULL));

-- As 0017's, and a pre-check the tenant asked.
CREATE OR REPLACE FUNCTION app_owns_grantable(kind text, object uuid) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT CASE kind
        WHEN 'referral' THEN EXISTS (SELECT 1 FROM public.referrals r WHERE r.id = object AND r.tenant_id = public.app_current_tenant())
        WHEN 'report' THEN EXISTS (SELECT 1 FROM public.case_reports r WHERE r.id = object AND r.tenant_id = public.app_current_tenant())
        WHEN 'conference' THEN EXISTS (SELECT 1 FROM public.case_conferences f WHERE f.id = object AND f.tenant_id = public.app_current_tenant())
        WHEN 'precheck' THEN EXISTS (SELECT 1 FROM public.abh_prechecks p WHERE p.id = object AND p.tenant_id = public.app_current_tenant())
        ELSE false
    END
$$;

-- MARK: - Whom a case manager may ask

-- The Ausländerbehörden of the acting tenant's district: its authorities with an active officer (abh_officer). The
-- accounts of other tenants are not the asking tenant's to read, so a definer function answers with names only.
CREATE FUNCTION abh_offices() RETURNS TABLE (id uuid, slug text, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT t.id, t.slug, t.name FROM tenants t
    WHERE t.kind = 'authority' AND t.active
      AND t.district_id = (SELECT coalesce(a.district_id, a.id) FROM tenants a WHERE a.id = app_current_tenant())
      AND EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = t.id AND u.active AND 'abh_officer' = ANY (u.roles))
    ORDER BY t.name
$$;
REVOKE ALL ON FUNCTION abh_offices() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION abh_offices() TO kreiswerk_app;

-- MARK: - Notices both ways

-- A pre-check asked (the acting tenant asked it: the ABH's officers are told) or answered (the acting tenant is the ABH
-- holding the grant: the case manager who asked is told). Recipients and links are derived from the pre-check and the acting
-- tenant, never from an argument; like notify(), one notification per occasion and the e-mail queued when wanted at once.
CREATE FUNCTION abh_precheck_notify(precheck uuid, notification_kind text, notification_title text, occasion text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    recipient record;
    created uuid;
    told integer := 0;
BEGIN
    IF notification_kind NOT IN ('precheck_asked', 'precheck_answered') THEN
        RETURN 0;
    END IF;
    FOR recipient IN
        SELECT u.id, u.tenant_id, u.email_notifications,
               CASE WHEN notification_kind = 'precheck_asked' THEN '/abh/vorpruefungen/' || p.id ELSE '/faelle/' || p.case_id || '/vorpruefungen' END AS link
        FROM abh_prechecks p JOIN users u ON u.active
        WHERE p.id = precheck
          AND ((notification_kind = 'precheck_asked' AND p.tenant_id = app_current_tenant()
                AND u.tenant_id = p.abh_tenant_id AND 'abh_officer' = ANY (u.roles))
            OR (notification_kind = 'precheck_answered' AND p.abh_tenant_id = app_current_tenant() AND app_holds_grant('precheck', p.id)
                AND u.tenant_id = p.tenant_id AND u.id = p.sent_by))
    LOOP
        INSERT INTO notifications (tenant_id, user_id, kind, title, link, dedupe_key)
        VALUES (recipient.tenant_id, recipient.id, notification_kind, notification_title, recipient.link, occasion)
        ON CONFLICT (user_id, dedupe_key) DO NOTHING
        RETURNING id INTO created;
        IF created IS NOT NULL THEN
            told := told + 1;
            IF recipient.email_notifications = 'immediate' THEN
                INSERT INTO jobs (tenant_id, queue, kind, payload, unique_key)
                VALUES (recipient.tenant_id, 'mail', 'mail.notification', jsonb_build_object('notification', created), created::text);
            END IF;
        END IF;
    END LOOP;
    RETURN told;
END
$$;
REVOKE ALL ON FUNCTION abh_precheck_notify(uuid, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION abh_precheck_notify(uuid, text, text, text) TO kreiswerk_app;

-- MARK: - Retention

-- When retention anonymises a client, the pre-checks asked for them lose the name as referrals do.
CREATE FUNCTION abh_prechecks_anonymise() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE abh_prechecks SET first_name = '(anonymisiert)', last_name = '(anonymisiert)',
        date_of_birth = date_trunc('year', date_of_birth)::date, residence_paragraph = NULL, residence_valid_until = NULL,
        school_or_work = NULL, missing = NULL, question = NULL
    WHERE tenant_id = NEW.tenant_id AND client_id = NEW.id;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION abh_prechecks_anonymise() FROM PUBLIC;
CREATE TRIGGER abh_prechecks_anonymise AFTER UPDATE OF anonymised_at ON clients
    FOR EACH ROW WHEN (OLD.anonymised_at IS NULL AND NEW.anonymised_at IS NOT NULL) EXECUTE FUNCTION abh_prechecks_anonymise();
