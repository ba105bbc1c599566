-- The district's figures (Kennzahlen): a snapshot of counts per district, computed by the
-- scheduler (job figures.refresh, every 15 minutes and on demand) so that a coordinator's
-- dashboard reads a few hundred prepared rows instead of aggregating a million cases.
--
-- No client-level data ever reaches this layer: the snapshot holds counts only, per unit
-- (a town, the carrier folded into the town whose case management it carries out, or the
-- district itself for district-level items), measure, key and month. Small counts are
-- suppressed when the figures are shown (Figures/Suppression.swift), not here, so that
-- district totals are summed from exact counts first.
--
-- Isolation: the rows belong to the district (tenant_id) under the ordinary tenant policy;
-- the service reads them only through district_figures_read(), which derives the district
-- from the acting tenant and checks the signed-in user's roles. Only the SECURITY DEFINER
-- refresh writes them.
-- Both tables go through app_isolate_tenant_table (0002): FORCE ROW LEVEL SECURITY, tenant policy.

CREATE TABLE district_figures (
    -- The district.
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    -- The town (or the district for district-level items) the count belongs to.
    unit_id uuid NOT NULL REFERENCES tenants (id),
    measure text NOT NULL CHECK (measure ~ '^[a-z_]+$'),
    key text NOT NULL DEFAULT '',
    -- First day of the month for monthly series; NULL for the state at the time of the snapshot.
    month date CHECK (month IS NULL OR extract(day FROM month) = 1),
    value integer NOT NULL CHECK (value >= 0),
    UNIQUE NULLS NOT DISTINCT (tenant_id, unit_id, measure, key, month)
);
CREATE INDEX district_figures_month_idx ON district_figures (tenant_id, month);
SELECT app_isolate_tenant_table('district_figures');
REVOKE INSERT, UPDATE ON district_figures FROM kreiswerk_app;

-- When the district's snapshot was computed ("Stand: …") and how long it took.
CREATE TABLE district_figures_runs (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    computed_at timestamptz NOT NULL,
    duration_ms integer NOT NULL,
    row_count integer NOT NULL
);
SELECT app_isolate_tenant_table('district_figures_runs');
REVOKE INSERT, UPDATE ON district_figures_runs FROM kreiswerk_app;

-- The refresh reads every tenant's funded shares of the district (the owner's lookups only).
CREATE POLICY definer_lookup ON tenant_staff_shares FOR SELECT TO kreiswerk_owner USING (true);

-- Recomputes the acting district's snapshot in one transaction (readers see the old one
-- until it commits). Acting as anything but a district is refused.
CREATE FUNCTION district_figures_refresh() RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp SET work_mem = '64MB'
AS $$
DECLARE
    district uuid := app_current_tenant();
    today date := (now() AT TIME ZONE 'Europe/Berlin')::date;
    feedback_days integer;
    started timestamptz := clock_timestamp();
    written integer;
    -- The district and its tenants: every scan below is limited to them, so a district's refresh reads
    -- its own rows however many other districts the database hosts (a parameter the planner sees).
    members uuid[];
BEGIN
    IF district IS NULL OR NOT EXISTS (SELECT 1 FROM tenants WHERE id = district AND kind = 'district') THEN
        RAISE EXCEPTION 'the district figures are computed acting as a district' USING ERRCODE = '42501';
    END IF;
    -- Two refreshes of one district run one after the other.
    PERFORM pg_advisory_xact_lock(hashtextextended('district_figures:' || district, 0));
    SELECT coalesce((reminder_rules ->> 'referral_feedback_reminder_days')::integer, 14) INTO feedback_days
    FROM tenants WHERE id = district;
    DELETE FROM district_figures WHERE tenant_id = district;
    SELECT array_agg(id) INTO members FROM tenants WHERE district_id = district OR id = district;

    INSERT INTO district_figures (tenant_id, unit_id, measure, key, month, value)
    WITH units AS (
        -- Every tenant of the district and the unit it counts for: a carrier that carries out a
        -- town's case management (Breckerfeld: VHS EN Süd) counts for that town.
        SELECT t.id AS tenant_id,
               coalesce((SELECT m.id FROM tenants m WHERE m.case_management_by = t.id AND m.district_id = district ORDER BY m.slug LIMIT 1),
                        t.id) AS unit_id
        FROM tenants t WHERE t.district_id = district OR t.id = district
    ),
    facts AS MATERIALIZED (
        SELECT u.unit_id, k.phase, k.channel, k.closed_on IS NULL AS open,
               date_trunc('month', k.opened_on)::date AS opened_month, date_trunc('month', k.closed_on)::date AS closed_month,
               k.closed_on IS NULL AND k.next_review_on < today AS reassessment_overdue,
               CASE WHEN k.closed_on IS NULL THEN
                   coalesce(nullif(array_remove(ARRAY[
                       CASE WHEN c.single_parent THEN 'single_parent' END,
                       CASE WHEN c.unaccompanied_minor THEN 'unaccompanied_minor' END,
                       CASE WHEN c.family_with_barriers THEN 'family_with_barriers' END], NULL), '{}'), ARRAY['none'])
               END AS target_groups
        FROM cases k JOIN units u ON u.tenant_id = k.tenant_id
        LEFT JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id AND k.closed_on IS NULL
        WHERE k.tenant_id = ANY (members)
    ),
    referral_facts AS (
        SELECT u.unit_id, s.key AS service, date_trunc('month', r.sent_at AT TIME ZONE 'Europe/Berlin')::date AS month,
               EXISTS (SELECT 1 FROM referral_responses x WHERE x.referral_id = r.id AND x.kind = 'feedback') AS answered
        FROM referrals r JOIN units u ON u.tenant_id = r.tenant_id JOIN services s ON s.id = r.service_id
        WHERE r.tenant_id = ANY (members)
    ),
    problem_facts AS (
        SELECT coalesce(u.unit_id, district) AS unit_id, p.level, p.category, p.status,
               date_trunc('month', p.created_at AT TIME ZONE 'Europe/Berlin')::date AS month,
               CASE WHEN p.created_at > now() - interval '3 months' THEN 'under_3_months'
                    WHEN p.created_at > now() - interval '6 months' THEN '3_to_6_months'
                    WHEN p.created_at > now() - interval '12 months' THEN '6_to_12_months'
                    ELSE 'over_12_months' END AS age
        FROM structural_problems p LEFT JOIN units u ON u.tenant_id = p.raised_by_tenant_id
        WHERE p.tenant_id = district
    )
    SELECT district, unit_id, measure, key, month, value FROM (
        SELECT unit_id, 'open_by_phase' AS measure, phase AS key, NULL::date AS month, count(*)::integer AS value
        FROM facts WHERE open GROUP BY unit_id, phase
        UNION ALL
        SELECT unit_id, 'open_by_channel', channel, NULL, count(*) FROM facts WHERE open GROUP BY unit_id, channel
        UNION ALL
        SELECT unit_id, 'open_by_target_group', g, NULL, count(*) FROM facts, unnest(target_groups) g WHERE open GROUP BY unit_id, g
        UNION ALL
        SELECT unit_id, 'opened', '', opened_month, count(*) FROM facts GROUP BY unit_id, opened_month
        UNION ALL
        SELECT unit_id, 'closed', '', closed_month, count(*) FROM facts WHERE closed_month IS NOT NULL GROUP BY unit_id, closed_month
        UNION ALL
        SELECT unit_id, 'overdue', 'reassessment', NULL, count(*) FROM facts WHERE reassessment_overdue GROUP BY unit_id
        UNION ALL
        SELECT unit_id, 'referrals', service, month, count(*) FROM referral_facts GROUP BY unit_id, service, month
        UNION ALL
        SELECT unit_id, 'referrals_with_feedback', service, month, count(*) FROM referral_facts WHERE answered GROUP BY unit_id, service, month
        UNION ALL
        SELECT u.unit_id, 'conferences', f.kind, date_trunc('month', f.scheduled_at AT TIME ZONE 'Europe/Berlin')::date, count(*)
        FROM case_conferences f JOIN units u ON u.tenant_id = f.tenant_id WHERE f.tenant_id = ANY (members) GROUP BY 1, 3, 4
        UNION ALL
        SELECT u.unit_id, 'overdue', 'goal_review', NULL, count(*)
        FROM goals g JOIN units u ON u.tenant_id = g.tenant_id JOIN cases k ON k.tenant_id = g.tenant_id AND k.id = g.case_id
        WHERE g.tenant_id = ANY (members) AND g.outcome IS NULL AND g.review_on < today AND k.closed_on IS NULL GROUP BY 1
        UNION ALL
        -- Referrals still shared, in an open case, with neither feedback nor a decline, for longer than the rule's days.
        SELECT u.unit_id, 'overdue', 'referral_feedback', NULL, count(*)
        FROM referrals r JOIN units u ON u.tenant_id = r.tenant_id JOIN cases k ON k.tenant_id = r.tenant_id AND k.id = r.case_id
        WHERE r.tenant_id = ANY (members) AND k.closed_on IS NULL AND r.sent_at < now() - make_interval(days => feedback_days)
          AND EXISTS (SELECT 1 FROM access_grants g
                      WHERE g.tenant_id = r.tenant_id AND g.object_type = 'referral' AND g.object_id = r.id AND g.revoked_at IS NULL)
          AND NOT EXISTS (SELECT 1 FROM referral_responses x WHERE x.referral_id = r.id AND x.kind IN ('feedback', 'declined'))
        GROUP BY 1
        UNION ALL
        SELECT u.unit_id, 'overdue', 'action_item', NULL, count(*)
        FROM conference_action_items i JOIN units u ON u.tenant_id = i.tenant_id
        WHERE i.tenant_id = ANY (members) AND i.done_on IS NULL AND i.due_on < today GROUP BY 1
        UNION ALL
        SELECT coalesce(u.unit_id, district), 'overdue', 'group_task', NULL, count(*)
        FROM group_tasks t JOIN project_groups pg ON pg.id = t.group_id LEFT JOIN units u ON u.tenant_id = pg.town_tenant_id
        WHERE t.tenant_id = district AND t.done_on IS NULL AND t.due_on < today GROUP BY 1
        UNION ALL
        SELECT unit_id, 'problems_by_level', level, NULL, count(*) FROM problem_facts WHERE status = 'open' GROUP BY 1, 3
        UNION ALL
        SELECT unit_id, 'problems_by_category', category, NULL, count(*) FROM problem_facts WHERE status = 'open' GROUP BY 1, 3
        UNION ALL
        SELECT unit_id, 'problems_by_age', age, NULL, count(*) FROM problem_facts WHERE status = 'open' GROUP BY 1, 3
        UNION ALL
        SELECT unit_id, 'problems_raised', '', month, count(*) FROM problem_facts GROUP BY 1, 4
        UNION ALL
        -- Funded case-management shares in hundredths of a full-time post, the latest year up to this one
        -- (a staffing value, not a count of people: never suppressed).
        SELECT u.unit_id, 'funded_fte_hundredths', max(s.year)::text, NULL, sum((s.fte * 100)::integer)::integer
        FROM units u JOIN LATERAL (
            SELECT x.year, x.fte FROM tenant_staff_shares x
            WHERE x.tenant_id = u.tenant_id AND x.programme = 'case_management' AND x.year <= extract(year FROM today)
            ORDER BY x.year DESC LIMIT 1) s ON true
        GROUP BY 1
    ) figures;
    GET DIAGNOSTICS written = ROW_COUNT;

    INSERT INTO district_figures_runs (tenant_id, computed_at, duration_ms, row_count)
    VALUES (district, now(), (extract(epoch FROM clock_timestamp() - started) * 1000)::integer, written)
    ON CONFLICT (tenant_id) DO UPDATE SET computed_at = EXCLUDED.computed_at, duration_ms = EXCLUDED.duration_ms, row_count = EXCLUDED.row_count;
    RETURN written;
END
$$;
REVOKE ALL ON FUNCTION district_figures_refresh() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_figures_refresh() TO kreiswerk_app;

-- The district whose figures the signed-in user may read: the acting tenant's district (a
-- district for itself), and only for a coordinator, an assistant or a steering member of the
-- acting tenant. NULL for anyone else: they read nothing.
CREATE FUNCTION district_figures_reader_district() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT coalesce(t.district_id, t.id)
    FROM users u JOIN tenants t ON t.id = u.tenant_id
    WHERE u.id = app_current_user() AND u.tenant_id = app_current_tenant() AND u.active AND t.active
      AND u.roles && ARRAY['district_coordinator', 'district_assistant', 'steering_member']
$$;
REVOKE ALL ON FUNCTION district_figures_reader_district() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_figures_reader_district() TO kreiswerk_app;

-- The reader's district and the time of its snapshot (NULL when there is none yet): what the
-- service checks on every request, and what its cache of built figures is keyed by.
CREATE FUNCTION district_figures_stamp(OUT district_id uuid, OUT computed_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT d.id, r.computed_at FROM (SELECT district_figures_reader_district() AS id) d
    LEFT JOIN district_figures_runs r ON r.tenant_id = d.id
$$;
REVOKE ALL ON FUNCTION district_figures_stamp() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_figures_stamp() TO kreiswerk_app;

-- The reader's district's snapshot: the state rows and the months from `since` to `until`.
-- No rows for anyone who may not read the district's figures.
CREATE FUNCTION district_figures_read(since date, until date)
RETURNS TABLE (unit_id uuid, measure text, key text, month date, value integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT f.unit_id, f.measure, f.key, f.month, f.value FROM district_figures f
    WHERE f.tenant_id = district_figures_reader_district() AND f.month IS NULL
    UNION ALL
    SELECT f.unit_id, f.measure, f.key, f.month, f.value FROM district_figures f
    WHERE f.tenant_id = district_figures_reader_district() AND f.month BETWEEN since AND until
$$;
REVOKE ALL ON FUNCTION district_figures_read(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_figures_read(date, date) TO kreiswerk_app;

-- MARK: - Staffing (allocation key)

-- The funded case-management shares of the reader's district's tenants, every year on file,
-- for the allocation key's comparison. Nothing for anyone who may not read the district's figures.
CREATE FUNCTION district_staff_shares() RETURNS TABLE (tenant_id uuid, year integer, fte numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT s.tenant_id, s.year, s.fte FROM tenant_staff_shares s JOIN tenants t ON t.id = s.tenant_id
    WHERE s.programme = 'case_management' AND t.district_id = district_figures_reader_district()
$$;
REVOKE ALL ON FUNCTION district_staff_shares() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_staff_shares() TO kreiswerk_app;
