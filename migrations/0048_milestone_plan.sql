-- The KIM milestone plan as data (issue 21, "Evaluation beyond counts"; seed 004 section 10, "Zeitliche Planung bis
-- Ende 2022"): per district the tasks by building block (Baustein I, II, III), grouped under the plan's headings, each
-- planned for one or more half-years, with its status, who is responsible and a short note. The district tenant owns its
-- plan; its coordinators keep it (directly, under row-level security); everyone of the district reads it through
-- milestone_plan_tasks(), which takes the district from the acting tenant and user, never from an argument.
-- The tenant files seed the tasks (tenants/DISTRICT/milestones.yaml, by `key`); status, responsible and note are the
-- coordinators' and never written by the files.

CREATE TABLE milestone_tasks (
    -- The district.
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    -- The stable key of a task from milestones.yaml; NULL for a task added in the browser or the API.
    key text CHECK (key ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    building_block text NOT NULL CHECK (building_block IN ('I', 'II', 'III')),
    heading text CHECK (length(trim(heading)) BETWEEN 1 AND 300),
    title text NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 500),
    -- "2021-1" (January to June) … "2022-2"; at least one, in order.
    half_years text[] NOT NULL CHECK (
        cardinality(half_years) >= 1 AND array_to_string(half_years, ',') ~ '^[0-9]{4}-[12](,[0-9]{4}-[12])*$'),
    position integer NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'in_progress', 'done', 'postponed', 'dropped')),
    -- Who: a free text ("KS", "CM Witten") and/or a tenant of the district.
    responsible text CHECK (length(trim(responsible)) BETWEEN 1 AND 200),
    responsible_tenant_id uuid REFERENCES tenants (id),
    note text CHECK (length(trim(note)) BETWEEN 1 AND 1000),
    -- Bumped by every change in the browser or the API: an edit made against an older one is refused.
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    changed_by uuid,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    UNIQUE (tenant_id, key)
);
SELECT app_isolate_tenant_table('milestone_tasks');

-- The responsible tenant is the district itself or one of its own tenants, never another district's.
CREATE FUNCTION milestone_task_responsible_in_district() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF NEW.responsible_tenant_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM public.tenants t
        WHERE t.id = NEW.responsible_tenant_id AND (t.id = NEW.tenant_id OR t.district_id = NEW.tenant_id)
    ) THEN
        RAISE EXCEPTION 'the responsible tenant of a milestone task is the district or one of its tenants' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION milestone_task_responsible_in_district() FROM PUBLIC;
CREATE TRIGGER responsible_in_district BEFORE INSERT OR UPDATE OF responsible_tenant_id, tenant_id ON milestone_tasks
    FOR EACH ROW EXECUTE FUNCTION milestone_task_responsible_in_district();

-- The reader's district's plan: every active account of the district or one of its tenants (the steering group's
-- members, the towns' and carriers' staff, the coordinators) reads it; nobody reads another district's.
CREATE FUNCTION milestone_plan_tasks()
RETURNS TABLE (id uuid, key text, building_block text, heading text, title text, half_years text[], "position" integer, status text,
               responsible text, responsible_tenant text, responsible_tenant_name text, note text, version integer,
               changed_by text, changed_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT m.id, m.key, m.building_block, m.heading, m.title, m.half_years, m.position, m.status,
           m.responsible, r.slug, r.name, m.note, m.version, u.display_name, m.changed_at
    FROM milestone_tasks m
    LEFT JOIN tenants r ON r.id = m.responsible_tenant_id
    LEFT JOIN users u ON u.id = m.changed_by
    WHERE m.tenant_id = (
        SELECT coalesce(t.district_id, t.id)
        FROM users me JOIN tenants t ON t.id = me.tenant_id
        WHERE me.id = app_current_user() AND me.tenant_id = app_current_tenant() AND me.active AND t.active
          AND (t.kind = 'district' OR t.district_id IS NOT NULL)
    )
    ORDER BY m.building_block, m.position, m.title, m.id
$$;
REVOKE ALL ON FUNCTION milestone_plan_tasks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION milestone_plan_tasks() TO kreiswerk_app;
