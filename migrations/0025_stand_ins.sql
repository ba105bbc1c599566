-- Stand-ins (Vertretung, issue 17): a case worker names a colleague of the same tenant who stands in for them for a
-- period (leave, illness); a team lead may name one for someone who is absent. Every case worker of a tenant already
-- reads every case of it (the tenant policy of 0003), so a stand-in grants no new access: it decides whose work queue
-- ("Meine Fälle") lists the absent person's open cases and whom their reminders go to, and it marks what the stand-in
-- does on those cases (the case timeline, the audit trail) as done in stand-in. It ends by itself: every check is by
-- date, nothing has to run when the period is over. Ended early, a stand-in is kept (ended_at), never deleted.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- The acting day as the people see it (the service's `Day.today` is Berlin's, too).
CREATE FUNCTION app_today() RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT (now() AT TIME ZONE 'Europe/Berlin')::date $$;
REVOKE ALL ON FUNCTION app_today() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_today() TO kreiswerk_app;

CREATE TABLE stand_ins (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    absent_id uuid NOT NULL,
    stand_in_id uuid NOT NULL,
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Ended before its last day (the absent person is back, or the stand-in cannot go on).
    ended_at timestamptz,
    ended_by uuid,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    FOREIGN KEY (tenant_id, absent_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, stand_in_id) REFERENCES users (tenant_id, id),
    CHECK (absent_id <> stand_in_id),
    CHECK (ends_on >= starts_on),
    CHECK ((ended_at IS NULL) = (ended_by IS NULL)),
    -- One stand-in per absent person and day.
    EXCLUDE USING gist (tenant_id WITH =, absent_id WITH =, daterange(starts_on, ends_on, '[]') WITH &&) WHERE (ended_at IS NULL)
);
CREATE INDEX stand_ins_stand_in_idx ON stand_ins (tenant_id, stand_in_id, ends_on) WHERE ended_at IS NULL;
SELECT app_isolate_tenant_table('stand_ins');
-- Only ending changes a stand-in: the period, the people and who named them stay as recorded.
REVOKE UPDATE ON stand_ins FROM kreiswerk_app;
GRANT UPDATE (ended_at, ended_by) ON stand_ins TO kreiswerk_app;

-- Who stands in for `person` on `day` in the acting tenant (NULL: nobody). Invoker rights: row-level security holds.
CREATE FUNCTION app_stand_in_of(person uuid, day date) RETURNS uuid
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT s.stand_in_id FROM stand_ins s
    WHERE s.tenant_id = app_current_tenant() AND s.absent_id = person AND s.ended_at IS NULL AND day BETWEEN s.starts_on AND s.ends_on
    LIMIT 1
$$;
REVOKE ALL ON FUNCTION app_stand_in_of(uuid, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_stand_in_of(uuid, date) TO kreiswerk_app;

-- For whom `actor` stands in today when acting on the case `subject` of `tenant`: its owner, if absent and represented
-- by `actor` (NULL otherwise). The first probe (is the actor anyone's stand-in today?) is all most calls cost.
CREATE FUNCTION app_standing_in_for(tenant uuid, subject uuid, actor uuid) RETURNS uuid
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT s.absent_id FROM stand_ins s JOIN cases k ON k.tenant_id = s.tenant_id AND k.owner_id = s.absent_id
    WHERE s.tenant_id = tenant AND s.stand_in_id = actor AND s.ended_at IS NULL AND app_today() BETWEEN s.starts_on AND s.ends_on
      AND k.id = subject
    LIMIT 1
$$;
REVOKE ALL ON FUNCTION app_standing_in_for(uuid, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_standing_in_for(uuid, uuid, uuid) TO kreiswerk_app;

-- MARK: - What the stand-in does is recorded as done in stand-in

-- The case timeline: whatever capability writes the entry (notes, goals, referrals, conferences).
ALTER TABLE case_events ADD COLUMN stand_in_for uuid;

CREATE FUNCTION case_events_mark_stand_in() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF NEW.actor_id IS NOT NULL AND NEW.stand_in_for IS NULL THEN
        NEW.stand_in_for := app_standing_in_for(NEW.tenant_id, NEW.case_id, NEW.actor_id);
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION case_events_mark_stand_in() FROM PUBLIC;
CREATE TRIGGER case_events_mark_stand_in BEFORE INSERT ON case_events FOR EACH ROW EXECUTE FUNCTION case_events_mark_stand_in();

-- The audit trail: an entry about a case (the case itself, or an object whose detail names it, a referral, a
-- conference) by a stand-in of its absent owner gets `stand_in_for` (the absent person's id) in its detail. PostgreSQL
-- fires BEFORE triggers in the order of their names: `audit_log_a_stand_in` runs before `audit_log_digest` (0002), so
-- the digest and the chain cover the mark.
CREATE FUNCTION audit_log_mark_stand_in() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    subject text;
    found_case uuid;
    absent uuid;
BEGIN
    IF NEW.tenant_id IS NULL OR NEW.actor_id IS NULL OR NEW.detail ? 'stand_in_for' THEN
        RETURN NEW;
    END IF;
    -- Is the actor anyone's stand-in today? (Nearly always not: one index probe.)
    IF NOT EXISTS (SELECT 1 FROM stand_ins s WHERE s.tenant_id = NEW.tenant_id AND s.stand_in_id = NEW.actor_id AND s.ended_at IS NULL
                   AND app_today() BETWEEN s.starts_on AND s.ends_on) THEN
        RETURN NEW;
    END IF;
    subject := CASE WHEN NEW.object_type = 'case' THEN NEW.object_id ELSE NEW.detail ->> 'case' END;
    IF subject IS NULL AND NEW.object_type IN ('referral', 'conference') AND NEW.object_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        IF NEW.object_type = 'referral' THEN
            SELECT r.case_id INTO found_case FROM referrals r WHERE r.tenant_id = NEW.tenant_id AND r.id = NEW.object_id::uuid;
        ELSE
            SELECT f.case_id INTO found_case FROM case_conferences f WHERE f.tenant_id = NEW.tenant_id AND f.id = NEW.object_id::uuid;
        END IF;
        subject := found_case::text;
    END IF;
    IF subject IS NULL OR subject !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RETURN NEW;
    END IF;
    absent := app_standing_in_for(NEW.tenant_id, subject::uuid, NEW.actor_id);
    IF absent IS NOT NULL THEN
        NEW.detail := NEW.detail || jsonb_build_object('stand_in_for', absent::text);
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION audit_log_mark_stand_in() FROM PUBLIC;
CREATE TRIGGER audit_log_a_stand_in BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_mark_stand_in();
