-- Computes the figures snapshot of every district (or only :'only'), acting as each district in
-- turn as the scheduler's figures.refresh job does, each in its own transaction; then prints the
-- slowest refreshes.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT string_agg(format('BEGIN; SELECT set_config(%L, %L, true); SELECT district_figures_refresh(); COMMIT;', 'app.tenant_id', t.id), E'\n') AS script
FROM tenants t WHERE t.kind = 'district' AND (:'only' = '' OR t.slug = :'only') \gset
\o /dev/null
:script
\o
SELECT t.slug, r.duration_ms, r.row_count FROM district_figures_runs r JOIN tenants t ON t.id = r.tenant_id
WHERE :'only' = '' OR t.slug = :'only' ORDER BY r.duration_ms DESC LIMIT 3;
