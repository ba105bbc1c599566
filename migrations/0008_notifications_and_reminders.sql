-- Notifications (an inbox per user, e-mail by preference) and what the reminder rules of the
-- scheduler need: the district's rule periods, consent expiry, and anonymising referrals.

-- Each district's reminder periods from its tenant file (NULL: the defaults in code).
ALTER TABLE tenants ADD COLUMN reminder_rules jsonb;

-- How a user wants to hear of notifications by e-mail.
ALTER TABLE users ADD COLUMN email_notifications text NOT NULL DEFAULT 'daily'
    CHECK (email_notifications IN ('immediate', 'daily', 'none'));

-- A consent may be given until a date; the scheduler revokes what rests on it afterwards.
ALTER TABLE consents ADD COLUMN expires_on date CHECK (expires_on IS NULL OR expires_on >= given_on);

-- Retention anonymises the sender's copy of the hand-over data set too.
CREATE POLICY sender_updates ON referrals FOR UPDATE TO kreiswerk_app
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT UPDATE ON referrals TO kreiswerk_app;

CREATE TABLE notifications (
    -- The recipient's home tenant.
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]*$'),
    -- German, in-app only; may name a case number, never a client. E-mails carry only a link.
    title text NOT NULL CHECK (length(trim(title)) > 0),
    -- A path inside Kreiswerk (never //host: the inbox redirects to it).
    link text NOT NULL CHECK (link ~ '^/[^/\\]'),
    -- One notification per user and occasion (e.g. goal-review:ID:2027-03-01:before).
    dedupe_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    emailed_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    UNIQUE (user_id, dedupe_key),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX notifications_inbox_idx ON notifications (tenant_id, user_id, created_at DESC);
-- ENABLE and FORCE ROW LEVEL SECURITY with the tenant policy (0002's helper).
SELECT app_isolate_tenant_table('notifications');
-- Written only through notify() below.
REVOKE INSERT ON notifications FROM kreiswerk_app;
-- A signed-in user reads only their own inbox; jobs (no user set) handle the tenant's.
CREATE POLICY own_inbox ON notifications AS RESTRICTIVE TO kreiswerk_app
    USING (app_current_user() IS NULL OR user_id = app_current_user())
    WITH CHECK (app_current_user() IS NULL OR user_id = app_current_user());

-- Notifies a user of the acting tenant, or a district coordinator of its district, once per
-- `occasion` (its dedupe_key); queues the e-mail when the recipient wants it at once. True if it was new.
-- The one place notifications are written (it may cross into the district's tenant, so it is
-- SECURITY DEFINER and checks the recipient itself).
CREATE FUNCTION notify(recipient uuid, notification_kind text, notification_title text, notification_link text, occasion text) RETURNS boolean
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
               AND u.tenant_id = (SELECT t.district_id FROM tenants t WHERE t.id = app_current_tenant())));
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
REVOKE ALL ON FUNCTION notify(uuid, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION notify(uuid, text, text, text, text) TO kreiswerk_app;

-- The district coordinators of the acting tenant's district (whom escalations go to).
CREATE FUNCTION district_coordinators() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT u.id FROM users u
    WHERE u.active AND 'district_coordinator' = ANY (u.roles)
      AND u.tenant_id = (SELECT t.district_id FROM tenants t WHERE t.id = app_current_tenant())
$$;
REVOKE ALL ON FUNCTION district_coordinators() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_coordinators() TO kreiswerk_app;
