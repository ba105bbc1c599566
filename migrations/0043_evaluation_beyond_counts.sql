-- Evaluation beyond counts (issue 21): the district's snapshot also holds what the evaluation needs — goal outcomes by
-- area, routes after the assessment, level-2 reports by constellation and reporter kind, the new arrivals, open cases
-- that lack what the documentation standard asks for their phase, durations (referral to the
-- first answer, intake to the first goal, time spent in each phase, an application's receipt to its decision, each
-- kept as a count and a sum of whole days, so that a mean can be shown only where its count may be), the
-- Ausländerbehörde's backlog by kind and age and its throughput per month, and the naturalisation campaign's counts per
-- town. Counts only, per unit (town or ABH), as everything in district_figures; Figures/Evaluation.swift suppresses
-- them with the same threshold and the same complementary suppression before anything is shown.
--
-- The counting refresh of 0010 stays as it was (renamed, callable only by this function's owner); the refresh the
-- service and the job call runs it, then adds the evaluation's rows in the same transaction.

ALTER FUNCTION district_figures_refresh() RENAME TO district_figures_refresh_counts;
REVOKE ALL ON FUNCTION district_figures_refresh_counts() FROM PUBLIC, kreiswerk_app;

CREATE FUNCTION district_figures_refresh() RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp SET work_mem = '64MB'
AS $$
DECLARE
    -- Checks that the acting tenant is a district, takes the district's lock, replaces its counts.
    written integer := district_figures_refresh_counts();
    district uuid := app_current_tenant();
    today date := (now() AT TIME ZONE 'Europe/Berlin')::date;
    members uuid[];
    added integer;
BEGIN
    SELECT array_agg(id) INTO members FROM tenants WHERE district_id = district OR id = district;

    INSERT INTO district_figures (tenant_id, unit_id, measure, key, month, value)
    WITH units AS (
        SELECT t.id AS tenant_id,
               coalesce((SELECT m.id FROM tenants m WHERE m.case_management_by = t.id AND m.district_id = district ORDER BY m.slug LIMIT 1),
                        t.id) AS unit_id
        FROM tenants t WHERE t.district_id = district OR t.id = district
    ),
    -- The phase labels as the phase change's case event names them ("Phase: Monitoring → Re-Assessment.").
    phase_labels (phase, label) AS (
        VALUES ('intake', 'Erstberatung (Intake)'), ('assessment', 'Bedarfsklärung (Assessment)'),
               ('goal_agreement', 'Zielvereinbarung'), ('service_steering', 'Leistungssteuerung'), ('monitoring', 'Monitoring'),
               ('reassessment', 'Re-Assessment')
    ),
    phase_stays AS (
        SELECT u.unit_id, p.phase, date_trunc('month', e.occurred_at AT TIME ZONE 'Europe/Berlin')::date AS month,
               greatest(0, floor(extract(epoch FROM e.occurred_at
                   - coalesce(e.entered_at, k.opened_on::timestamp AT TIME ZONE 'Europe/Berlin')) / 86400))::integer AS days
        FROM (SELECT x.tenant_id, x.case_id, x.occurred_at, substring(x.text FROM '^Phase: ([^→]+) → ') AS left_label,
                     lag(x.occurred_at) OVER (PARTITION BY x.tenant_id, x.case_id ORDER BY x.id) AS entered_at
              FROM case_events x WHERE x.tenant_id = ANY (members) AND x.kind = 'phase_changed') e
        JOIN cases k ON k.tenant_id = e.tenant_id AND k.id = e.case_id
        JOIN units u ON u.tenant_id = e.tenant_id
        JOIN phase_labels p ON p.label = e.left_label
    ),
    first_goals AS (
        SELECT u.unit_id, date_trunc('month', min(g.agreed_on))::date AS month, greatest(0, min(g.agreed_on) - k.opened_on) AS days
        FROM cases k JOIN goals g ON g.tenant_id = k.tenant_id AND g.case_id = k.id JOIN units u ON u.tenant_id = k.tenant_id
        WHERE k.tenant_id = ANY (members)
        GROUP BY u.unit_id, k.tenant_id, k.id, k.opened_on
    ),
    referral_answers AS (
        SELECT u.unit_id, s.key AS service, date_trunc('month', r.sent_at AT TIME ZONE 'Europe/Berlin')::date AS month,
               greatest(0, floor(extract(epoch FROM a.first_at - r.sent_at) / 86400))::integer AS days
        FROM referrals r JOIN units u ON u.tenant_id = r.tenant_id JOIN services s ON s.id = r.service_id
        JOIN LATERAL (SELECT min(x.responded_at) AS first_at FROM referral_responses x WHERE x.referral_id = r.id) a ON a.first_at IS NOT NULL
        WHERE r.tenant_id = ANY (members)
    ),
    -- The district's documentation standard: what a case must have to be in a phase; phases the district did not set use the
    -- default (DocumentationStandard.defaultRequirements, repeated here).
    standard AS (
        SELECT coalesce(s.phase, d.phase) AS phase, coalesce(s.required_fields, d.fields) AS fields
        FROM (VALUES ('goal_agreement', ARRAY['residence_status', 'country_of_origin', 'german_level', 'route']),
                     ('service_steering', ARRAY['goals']), ('monitoring', ARRAY['next_review_on']),
                     ('closure', ARRAY['closure_reason'])) d (phase, fields)
        FULL JOIN (SELECT x.phase, x.required_fields FROM documentation_standards x WHERE x.district_id = district) s ON s.phase = d.phase
    ),
    -- Open cases whose phase lacks what the standard asks for it (the fields as CaseWork.filledFields reads them).
    documentation_gaps AS (
        SELECT u.unit_id, k.phase
        FROM cases k JOIN units u ON u.tenant_id = k.tenant_id
        JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
        JOIN standard s ON s.phase = k.phase
        WHERE k.tenant_id = ANY (members) AND k.closed_on IS NULL
          AND NOT (s.fields <@ array_remove(ARRAY[
              CASE WHEN nullif(c.place_of_residence, '') IS NOT NULL THEN 'place_of_residence' END,
              CASE WHEN nullif(c.social_area, '') IS NOT NULL THEN 'social_area' END,
              CASE WHEN c.residence_title IS NOT NULL OR nullif(c.residence_status, '') IS NOT NULL THEN 'residence_status' END,
              CASE WHEN nullif(c.country_of_origin, '') IS NOT NULL THEN 'country_of_origin' END,
              CASE WHEN c.german_level IS NOT NULL THEN 'german_level' END,
              CASE WHEN nullif(c.household, '') IS NOT NULL THEN 'household' END,
              CASE WHEN nullif(c.health_situation, '') IS NOT NULL THEN 'health_situation' END,
              CASE WHEN c.arrival_date IS NOT NULL THEN 'arrival_date' END,
              CASE WHEN cardinality(c.languages) > 0 THEN 'languages' END,
              CASE WHEN k.route IS NOT NULL THEN 'route' END,
              CASE WHEN k.next_review_on IS NOT NULL THEN 'next_review_on' END,
              CASE WHEN nullif(k.closure_reason, '') IS NOT NULL THEN 'closure_reason' END,
              CASE WHEN EXISTS (SELECT 1 FROM goals g WHERE g.tenant_id = k.tenant_id AND g.case_id = k.id) THEN 'goals' END
          ], NULL))
    ),
    applications AS (
        SELECT u.unit_id, a.kind, a.state, a.received_on, a.decided_on, a.precheck_id
        FROM abh_applications a JOIN units u ON u.tenant_id = a.tenant_id WHERE a.tenant_id = ANY (members)
    )
    SELECT district, unit_id, measure, key, month, value FROM (
        SELECT u.unit_id, 'goal_outcomes' AS measure, g.area || ':' || g.outcome AS key,
               date_trunc('month', g.reviewed_on)::date AS month, count(*)::integer AS value
        FROM goals g JOIN units u ON u.tenant_id = g.tenant_id
        WHERE g.tenant_id = ANY (members) AND g.outcome IS NOT NULL GROUP BY 1, 3, 4
        UNION ALL
        SELECT u.unit_id, 'routes', k.route, date_trunc('month', k.opened_on)::date, count(*)
        FROM cases k JOIN units u ON u.tenant_id = k.tenant_id
        WHERE k.tenant_id = ANY (members) AND k.route IS NOT NULL GROUP BY 1, 3, 4
        UNION ALL
        -- Counted for the town reported to, by constellation and by the reporter's kind (internal or external actor).
        SELECT u.unit_id, 'level_two_reports', r.complexity || ':' || r.channel,
               date_trunc('month', r.reported_at AT TIME ZONE 'Europe/Berlin')::date, count(*)
        FROM case_reports r JOIN units u ON u.tenant_id = r.town_id WHERE r.town_id = ANY (members) GROUP BY 1, 3, 4
        UNION ALL
        SELECT unit_id, 'referrals_answered', service, month, count(*) FROM referral_answers GROUP BY 1, 3, 4
        UNION ALL
        SELECT unit_id, 'referral_answer_days', service, month, sum(days)::integer FROM referral_answers GROUP BY 1, 3, 4
        UNION ALL
        SELECT unit_id, 'first_goal_cases', '', month, count(*) FROM first_goals GROUP BY 1, 4
        UNION ALL
        SELECT unit_id, 'first_goal_days', '', month, sum(days)::integer FROM first_goals GROUP BY 1, 4
        UNION ALL
        SELECT unit_id, 'phase_left', phase, month, count(*) FROM phase_stays GROUP BY 1, 3, 4
        UNION ALL
        SELECT unit_id, 'phase_days', phase, month, sum(days)::integer FROM phase_stays GROUP BY 1, 3, 4
        UNION ALL
        SELECT unit_id, 'documentation_gaps', phase, NULL, count(*) FROM documentation_gaps GROUP BY 1, 3
        UNION ALL
        -- The new arrivals (KIM's first target group: arrived in Germany within two years): open now, and opened per month.
        SELECT u.unit_id, 'open_new_arrivals', '', NULL, count(*)
        FROM cases k JOIN units u ON u.tenant_id = k.tenant_id JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
        WHERE k.tenant_id = ANY (members) AND k.closed_on IS NULL AND c.arrival_date >= today - interval '2 years' GROUP BY 1
        UNION ALL
        SELECT u.unit_id, 'opened_new_arrivals', '', date_trunc('month', k.opened_on)::date, count(*)
        FROM cases k JOIN units u ON u.tenant_id = k.tenant_id JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
        WHERE k.tenant_id = ANY (members) AND c.arrival_date >= k.opened_on - interval '2 years' GROUP BY 1, 4
        UNION ALL
        -- The ABH's backlog today by kind and age, as its register counts it (Residence/Applications.swift).
        SELECT unit_id, 'abh_open', kind || ':' || CASE
                   WHEN received_on > today - interval '3 months' THEN 'under_3_months'
                   WHEN received_on > today - interval '6 months' THEN '3_to_6_months'
                   WHEN received_on > today - interval '12 months' THEN '6_to_12_months'
                   ELSE 'over_12_months' END, NULL, count(*)
        FROM applications WHERE received_on <= today AND (decided_on IS NULL OR decided_on > today) GROUP BY 1, 3
        UNION ALL
        SELECT unit_id, 'abh_received', kind, date_trunc('month', received_on)::date, count(*) FROM applications GROUP BY 1, 3, 4
        UNION ALL
        SELECT unit_id, 'abh_decided', kind || ':' || state, date_trunc('month', decided_on)::date, count(*)
        FROM applications WHERE decided_on IS NOT NULL GROUP BY 1, 3, 4
        UNION ALL
        SELECT unit_id, 'abh_decision_days', kind, date_trunc('month', decided_on)::date, sum(decided_on - received_on)::integer
        FROM applications WHERE decided_on IS NOT NULL GROUP BY 1, 3, 4
        UNION ALL
        -- The campaign's counts for the town that informed or asked: clients informed, naturalisation pre-checks asked,
        -- naturalisation applications that followed a pre-check of the town.
        SELECT u.unit_id, 'campaign_informed', '', date_trunc('month', c.informed_on)::date, count(*)
        FROM campaign_contacts c JOIN units u ON u.tenant_id = c.tenant_id WHERE c.tenant_id = ANY (members) GROUP BY 1, 4
        UNION ALL
        SELECT u.unit_id, 'naturalisation_prechecks', '', date_trunc('month', p.sent_at AT TIME ZONE 'Europe/Berlin')::date, count(*)
        FROM abh_prechecks p JOIN units u ON u.tenant_id = p.tenant_id
        WHERE p.tenant_id = ANY (members) AND p.kind = 'naturalisation' GROUP BY 1, 4
        UNION ALL
        SELECT u.unit_id, 'naturalisation_applications', '', date_trunc('month', a.received_on)::date, count(*)
        FROM applications a JOIN abh_prechecks p ON p.id = a.precheck_id JOIN units u ON u.tenant_id = p.tenant_id
        WHERE a.kind = 'naturalisation' AND p.tenant_id = ANY (members) GROUP BY 1, 4
    ) evaluation;
    GET DIAGNOSTICS added = ROW_COUNT;

    UPDATE district_figures_runs SET row_count = row_count + added WHERE tenant_id = district;
    RETURN written + added;
END
$$;
REVOKE ALL ON FUNCTION district_figures_refresh() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION district_figures_refresh() TO kreiswerk_app;
