-- Named people in a case conference. Besides whole tenants and people without an account, the
-- organiser can invite colleagues of the district by their account (e-mail address): their tenant
-- is invited as before (its grant rests on the client's consent), the participant row names the
-- person, and the person is notified.

ALTER TABLE conference_participants
    ADD COLUMN participant_user_id uuid REFERENCES users (id),
    -- The name as it was when invited: the invited tenant's readers cannot read the organiser's users.
    ADD COLUMN participant_user_name text,
    ADD CHECK ((participant_user_id IS NULL) = (participant_user_name IS NULL)),
    ADD CHECK (participant_user_id IS NULL OR participant_tenant_id IS NOT NULL);
CREATE UNIQUE INDEX conference_participants_person_idx ON conference_participants (conference_id, participant_user_id)
    WHERE participant_user_id IS NOT NULL;

-- An active account of the acting tenant's district (its towns, carriers and the district itself)
-- by e-mail address, for an invitation. Returns its roles so the caller can tell whether the person
-- may attend conferences; nothing else of the account.
CREATE FUNCTION district_account(address text)
RETURNS TABLE (user_id uuid, tenant_id uuid, display_name text, roles text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT u.id, u.tenant_id, u.display_name, u.roles
    FROM users u JOIN tenants t ON t.id = u.tenant_id
    WHERE lower(u.email) = lower(address) AND u.active AND t.active
      AND coalesce(t.district_id, t.id) = (SELECT coalesce(a.district_id, a.id) FROM tenants a WHERE a.id = app_current_tenant())
$$;
REVOKE ALL ON FUNCTION district_account(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_account(text) TO kreiswerk_app;

-- As 0009's notify(), and a tenant may also notify the people it named in one of its conferences.
CREATE OR REPLACE FUNCTION notify(recipient uuid, notification_kind text, notification_title text, notification_link text, occasion text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE
    home uuid;
    preference text;
    created uuid;
BEGIN
    SELECT u.tenant_id, u.email_notifications INTO home, preference FROM users u
    WHERE u.id = recipient AND u.active
      AND (u.tenant_id = app_current_tenant()
           OR ('district_coordinator' = ANY (u.roles)
               AND u.tenant_id = (SELECT t.district_id FROM tenants t WHERE t.id = app_current_tenant()))
           OR u.tenant_id IN (SELECT t.id FROM tenants t
                              WHERE t.district_id = app_current_tenant()
                                AND (SELECT d.kind FROM tenants d WHERE d.id = app_current_tenant()) = 'district')
           OR EXISTS (SELECT 1 FROM conference_participants p
                      WHERE p.tenant_id = app_current_tenant() AND p.participant_user_id = u.id));
    IF home IS NULL THEN
        RETURN false;
    END IF;
    INSERT INTO notifications (tenant_id, user_id, kind, title, link, dedupe_key)
    VALUES (home, recipient, notification_kind, notification_title, notification_link, occasion)
    ON CONFLICT (user_id, dedupe_key) DO NOTHING
    RETURNING id INTO created;
    IF created IS NULL THEN
        RETURN false;
    END IF;
    IF preference = 'immediate' THEN
        INSERT INTO jobs (tenant_id, queue, kind, payload, unique_key)
        VALUES (home, 'mail', 'mail.notification', jsonb_build_object('notification', created), created::text);
    END IF;
    RETURN true;
END
$$;
