-- Synthetic further districts for ops/bench/dashboard, as the owner role: :count districts
-- (bench-kreis-1 …), each with three towns. Their cases come from dashboard-seed.sql.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
INSERT INTO tenants (id, slug, name, kind)
SELECT gen_random_uuid(), 'bench-kreis-' || d, 'Bench-Kreis ' || d, 'district' FROM generate_series(1, :count) d;
INSERT INTO tenants (id, slug, name, kind, district_id)
SELECT gen_random_uuid(), 'bench-kreis-' || d || '-stadt-' || t, 'Bench-Stadt ' || d || '/' || t, 'municipality', k.id
FROM generate_series(1, :count) d CROSS JOIN generate_series(1, 3) t JOIN tenants k ON k.slug = 'bench-kreis-' || d;
