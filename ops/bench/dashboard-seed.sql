-- Synthetic figures data for ops/bench/dashboard, run as the owner role (kreiswerk_owner), whose
-- definer_lookup policies let it write every tenant's rows: realistic rows in the real tables
-- (a case manager per town, clients with target-group markers, cases across towns, phases,
-- channels and dates, goals, referrals to the district's services with some feedback), made
-- set-based with generate_series so that a million cases take minutes, not hours.
--
-- psql variables: district (slug of an existing district), cases (how many).
-- Towns are the district's municipalities; a town whose case management a carrier carries
-- out gets its cases in the carrier's tenant (Breckerfeld: VHS EN Süd), as in production.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET synchronous_commit = off;

CREATE TEMP TABLE bench_towns AS
SELECT row_number() OVER (ORDER BY t.slug) - 1 AS n, coalesce(t.case_management_by, t.id) AS tenant_id, t.slug,
       upper(left(t.slug, 3)) AS prefix
FROM tenants t JOIN tenants d ON d.id = t.district_id
WHERE d.slug = :'district' AND t.kind = 'municipality';
SELECT count(*) AS towns, count(*) > 0 AS has_towns FROM bench_towns \gset
\if :has_towns
\else
    \echo 'the district has no municipalities'
    \quit 3
\endif

-- One synthetic case manager per tenant that holds cases.
INSERT INTO users (tenant_id, id, email, display_name, roles)
SELECT DISTINCT ON (b.tenant_id) b.tenant_id, gen_random_uuid(), 'bench-cm@' || b.slug || '.bench', 'Bench CM ' || b.slug, '{case_manager}'
FROM bench_towns b
ON CONFLICT DO NOTHING;
CREATE TEMP TABLE bench_owners AS
SELECT b.n, b.tenant_id, b.prefix, u.id AS owner_id
FROM bench_towns b JOIN users u ON u.tenant_id = b.tenant_id AND u.email LIKE 'bench-cm@%';

-- Clients and their cases: towns of different sizes (the first town largest), opened over the
-- last six years, about 40 % closed, the open ones spread over the phases.
CREATE TEMP TABLE bench_rows AS
SELECT i, o.tenant_id, o.owner_id, o.prefix, gen_random_uuid() AS client_id, gen_random_uuid() AS case_id,
       current_date - ((i::bigint * 7919) % 2190)::integer AS opened_on, (i % 10) < 4 AS closed
FROM generate_series(1, :cases) i
JOIN bench_owners o ON o.n = (CASE WHEN i % 3 = 0 THEN 0 ELSE (i::bigint * 31) % :towns END);

INSERT INTO clients (tenant_id, id, first_name, last_name, date_of_birth, gender, single_parent, unaccompanied_minor, family_with_barriers,
                     languages, arrival_date)
SELECT tenant_id, client_id, 'V' || i, 'N' || i, date '1960-01-01' + (i % 20000), (ARRAY['female', 'male', 'diverse', 'unspecified'])[1 + i % 4],
       i % 7 = 0, i % 23 = 0, i % 11 = 0, '{ar}', opened_on - 30
FROM bench_rows;

INSERT INTO cases (tenant_id, id, case_number, client_id, owner_id, channel, phase, reason, next_review_on, opened_on, closed_on, closure_reason)
SELECT tenant_id, case_id, prefix || '-B-' || i, client_id, owner_id,
       (ARRAY['level1', 'level1', 'level2_internal', 'level2_external'])[1 + i % 4],
       CASE WHEN closed THEN 'closure'
            ELSE (ARRAY['intake', 'assessment', 'goal_agreement', 'service_steering', 'monitoring', 'reassessment'])[1 + (i / 10) % 6] END,
       'Synthetisch', CASE WHEN NOT closed THEN opened_on + 90 END, opened_on,
       CASE WHEN closed THEN least(opened_on + 60 + i % 300, current_date) END, CASE WHEN closed THEN 'Ziele erreicht' END
FROM bench_rows;

-- Goals for every fifth case; referrals for every eighth, half of them with feedback.
INSERT INTO goals (tenant_id, id, case_id, area, text, agreed_on, review_on)
SELECT tenant_id, gen_random_uuid(), case_id, 'language', 'Sprachkurs B1', opened_on, opened_on + 120
FROM bench_rows WHERE i % 5 = 0;

CREATE TEMP TABLE bench_services AS
SELECT row_number() OVER (ORDER BY s.key) - 1 AS n, s.id, s.carrier_id FROM services s JOIN tenants d ON d.id = s.district_id WHERE d.slug = :'district';
SELECT count(*) AS services, count(*) > 0 AS has_services FROM bench_services \gset
\if :has_services
CREATE TEMP TABLE bench_referrals AS
SELECT r.*, s.id AS service_id, s.carrier_id, gen_random_uuid() AS referral_id
FROM bench_rows r JOIN bench_services s ON s.n = r.i % :services
WHERE r.i % 8 = 0 AND s.carrier_id <> r.tenant_id;
INSERT INTO referrals (tenant_id, id, case_id, client_id, service_id, receiver_tenant_id, case_number, first_name, last_name, date_of_birth,
                       reason, sender_name, sent_by, sent_at)
SELECT tenant_id, referral_id, case_id, client_id, service_id, carrier_id, prefix || '-B-' || i, 'V' || i, 'N' || i, date '1960-01-01' + (i % 20000),
       'Beratung', 'Bench CM', owner_id, opened_on + 10
FROM bench_referrals;
INSERT INTO referral_responses (tenant_id, id, referral_id, sender_tenant_id, kind, outcome, responder_name, responded_by, responded_at)
SELECT carrier_id, gen_random_uuid(), referral_id, tenant_id, 'feedback', 'started', 'Bench', owner_id, opened_on + 20
FROM bench_referrals WHERE i % 16 = 0;
\endif
ANALYZE clients; ANALYZE cases; ANALYZE goals; ANALYZE referrals; ANALYZE referral_responses;
