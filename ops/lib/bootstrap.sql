-- The three roles of a Kreiswerk installation, created once per PostgreSQL server
-- by a superuser (ops/ does it for the private clusters; do it by hand elsewhere):
--   kreiswerk_owner   owns the schema and runs `kreiswerk migrate` and `kreiswerk tenants apply`;
--   kreiswerk_app     is what `kreiswerk serve` answers requests as: it owns nothing, is no
--                     superuser and has no BYPASSRLS, so row-level security holds for it;
--   kreiswerk_worker  runs jobs (`kreiswerk worker`, serve's built-in worker, the audit sealer):
--                     a member of kreiswerk_app, so a job acting for a tenant is held exactly as a
--                     request is, and besides the only role that may claim, complete or seal.
-- psql variables: owner_password, app_password, worker_password.
SELECT format('CREATE ROLE kreiswerk_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'owner_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kreiswerk_owner') \gexec
SELECT format('CREATE ROLE kreiswerk_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %L', :'app_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kreiswerk_app') \gexec
SELECT format('CREATE ROLE kreiswerk_worker LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %L', :'worker_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kreiswerk_worker') \gexec
GRANT kreiswerk_app TO kreiswerk_worker;
