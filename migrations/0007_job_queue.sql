-- The job queue (DESIGN.md "The job scheduler"): jobs live next to the data, so a job is
-- enqueued in the transaction of the change that causes it. Workers claim due jobs with
-- FOR UPDATE SKIP LOCKED under a lease, wake on NOTIFY kreiswerk_jobs, and report back
-- through the job_* functions below. Payloads carry ids, never personal data.

CREATE TABLE jobs (
    -- Every job belongs to a tenant and runs acting as it; platform jobs belong to `betrieb`.
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue text NOT NULL DEFAULT 'default' CHECK (queue ~ '^[a-z][a-z0-9_-]*$'),
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.-]*$'),
    payload jsonb NOT NULL DEFAULT '{}',
    priority smallint NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'parked', 'cancelled')),
    run_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    timeout_seconds integer NOT NULL DEFAULT 60 CHECK (timeout_seconds > 0),
    -- The same reminder is never queued twice: a second enqueue with the key is a no-op.
    unique_key text,
    locked_by text,
    lease_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    CHECK ((state = 'running') = (lease_until IS NOT NULL AND locked_by IS NOT NULL))
);
CREATE INDEX jobs_due_idx ON jobs (priority DESC, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE state IN ('succeeded', 'cancelled');
CREATE INDEX jobs_tenant_idx ON jobs (tenant_id, state);
CREATE UNIQUE INDEX jobs_unique_key_idx ON jobs (tenant_id, kind, unique_key) WHERE unique_key IS NOT NULL;
-- ENABLE and FORCE ROW LEVEL SECURITY with the tenant policy (0002's helper).
SELECT app_isolate_tenant_table('jobs');

-- One wake-up per enqueuing statement (NOTIFY folds duplicates within a transaction anyway).
CREATE FUNCTION jobs_notify() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('kreiswerk_jobs', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_notify AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify();

-- MARK: - The worker's side (SECURITY DEFINER: a worker serves every tenant's queue; the
-- handlers themselves run in transactions acting as the job's tenant)

-- Completes the jobs in `done` that `worker` still holds (standalone jobs it ran), then claims up to
-- `batch` due jobs of `queues` (NULL: all) and of the `kinds` the worker knows: one round trip per batch.
-- The worker starts the whole batch at once and holds it until the last job ends, so every job of
-- the batch is leased for the batch's longest timeout plus a margin.
-- Always walks jobs_due_idx in order and stops after `batch` rows: with statistics that lag behind a burst
-- of new jobs (autovacuum has not analyzed them yet) the planner would otherwise sort every due job per claim.
CREATE FUNCTION job_claim(worker text, queues text[], kinds text[], batch integer, done bigint[] DEFAULT '{}')
RETURNS TABLE (id bigint, tenant_id uuid, kind text, payload jsonb, attempts integer, max_attempts integer, timeout_seconds integer,
               created_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public SET enable_sort = off
AS $$
BEGIN
    IF cardinality(done) > 0 THEN
        UPDATE jobs SET state = 'succeeded', finished_at = clock_timestamp(), locked_by = NULL, lease_until = NULL
        WHERE jobs.id = ANY (done) AND jobs.locked_by = worker AND jobs.state = 'running';
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT d.id, d.timeout_seconds FROM jobs d
        WHERE d.state = 'queued' AND d.run_at <= clock_timestamp() AND (queues IS NULL OR d.queue = ANY (queues))
          AND d.kind = ANY (kinds)
        ORDER BY d.priority DESC, d.run_at, d.id
        LIMIT batch
        FOR UPDATE SKIP LOCKED
    ), longest AS (
        SELECT max(due.timeout_seconds) AS seconds FROM due
    )
    UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, locked_by = worker, started_at = clock_timestamp(),
        lease_until = clock_timestamp() + make_interval(secs => (SELECT seconds FROM longest) + 10)
    FROM due WHERE j.id = due.id
    RETURNING j.id, j.tenant_id, j.kind, j.payload, j.attempts, j.max_attempts, j.timeout_seconds, j.created_at;
END
$$;

-- Marks jobs done that `worker` still holds; returns the ids it completed (a job whose lease
-- expired and that another worker took is not among them).
CREATE FUNCTION job_complete(worker text, ids bigint[]) RETURNS SETOF bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public
AS $$
    UPDATE jobs SET state = 'succeeded', finished_at = clock_timestamp(), locked_by = NULL, lease_until = NULL
    WHERE id = ANY (ids) AND locked_by = worker AND state = 'running'
    RETURNING id
$$;

-- A failed attempt: queued again at `retry_at`, or parked once the attempts are used up. Returns the new state.
CREATE FUNCTION job_fail(worker text, job bigint, error text, retry_at timestamptz) RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = public
AS $$
    UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'parked' ELSE 'queued' END,
        run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE retry_at END,
        finished_at = CASE WHEN attempts >= max_attempts THEN clock_timestamp() END,
        last_error = left(error, 2000), locked_by = NULL, lease_until = NULL
    WHERE id = job AND locked_by = worker AND state = 'running'
    RETURNING state
$$;

-- Gives claimed jobs back untouched (graceful shutdown): the attempt does not count.
CREATE FUNCTION job_release(worker text, ids bigint[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE released integer;
BEGIN
    UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), locked_by = NULL, lease_until = NULL, started_at = NULL
    WHERE id = ANY (ids) AND locked_by = worker AND state = 'running';
    GET DIAGNOSTICS released = ROW_COUNT;
    IF released > 0 THEN PERFORM pg_notify('kreiswerk_jobs', ''); END IF;
    RETURN released;
END
$$;

-- Jobs whose worker vanished (killed, machine gone): queued again after the lease, or parked
-- when that was the last attempt. Any worker may call it; returns how many it recovered.
CREATE FUNCTION job_recover_expired() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE recovered integer;
BEGIN
    UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'parked' ELSE 'queued' END,
        finished_at = CASE WHEN attempts >= max_attempts THEN clock_timestamp() END,
        last_error = 'the lease of worker ' || locked_by || ' expired (worker stopped or timed out)',
        locked_by = NULL, lease_until = NULL
    WHERE id IN (SELECT e.id FROM jobs e WHERE e.state = 'running' AND e.lease_until < clock_timestamp() FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS recovered = ROW_COUNT;
    IF recovered > 0 THEN PERFORM pg_notify('kreiswerk_jobs', ''); END IF;
    RETURN recovered;
END
$$;

-- MARK: - The operators' side: only the platform tenant (`betrieb`) may look across tenants.

CREATE FUNCTION job_require_platform() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT app_is_platform() THEN
        RAISE EXCEPTION 'only the platform tenant operates the job queue' USING ERRCODE = '42501';
    END IF;
END
$$;

CREATE FUNCTION job_list(wanted_state text, wanted_kind text, max_rows integer)
RETURNS TABLE (id bigint, tenant text, queue text, kind text, payload jsonb, priority smallint, state text, run_at timestamptz,
               attempts integer, max_attempts integer, last_error text, created_at timestamptz, started_at timestamptz,
               finished_at timestamptz, locked_by text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
AS $$
BEGIN
    PERFORM job_require_platform();
    RETURN QUERY
    SELECT j.id, t.slug, j.queue, j.kind, j.payload, j.priority, j.state, j.run_at, j.attempts, j.max_attempts, j.last_error,
           j.created_at, j.started_at, j.finished_at, j.locked_by
    FROM jobs j JOIN tenants t ON t.id = j.tenant_id
    WHERE (wanted_state IS NULL OR j.state = wanted_state) AND (wanted_kind IS NULL OR j.kind = wanted_kind)
    ORDER BY j.id DESC
    LIMIT max_rows;
END
$$;

-- Counts per queue and state; `lag_seconds` is the age of the oldest due job still waiting.
CREATE FUNCTION job_stats()
RETURNS TABLE (queue text, state text, jobs bigint, lag_seconds double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
AS $$
BEGIN
    PERFORM job_require_platform();
    RETURN QUERY
    SELECT j.queue, j.state, count(*),
           CASE WHEN j.state = 'queued'
                THEN coalesce(extract(epoch FROM clock_timestamp() - min(j.run_at) FILTER (WHERE j.run_at <= clock_timestamp())), 0)::double precision
                ELSE 0 END
    FROM jobs j GROUP BY j.queue, j.state ORDER BY j.queue, j.state;
END
$$;

-- A parked, cancelled or waiting job runs again now, with a fresh set of attempts.
CREATE FUNCTION job_retry(job bigint) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE result text;
BEGIN
    PERFORM job_require_platform();
    UPDATE jobs SET state = 'queued', attempts = 0, run_at = clock_timestamp(), finished_at = NULL
    WHERE id = job AND state IN ('parked', 'cancelled', 'queued')
    RETURNING state INTO result;
    IF result IS NOT NULL THEN PERFORM pg_notify('kreiswerk_jobs', ''); END IF;
    RETURN result;
END
$$;

-- A waiting or parked job is cancelled (a running one finishes its attempt first).
CREATE FUNCTION job_cancel(job bigint) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE result text;
BEGIN
    PERFORM job_require_platform();
    UPDATE jobs SET state = 'cancelled', finished_at = clock_timestamp()
    WHERE id = job AND state IN ('queued', 'parked')
    RETURNING state INTO result;
    RETURN result;
END
$$;

-- Finished jobs are kept for a while for the operators, then removed.
CREATE FUNCTION job_purge(older_than interval) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE removed integer;
BEGIN
    PERFORM job_require_platform();
    DELETE FROM jobs WHERE state IN ('succeeded', 'cancelled') AND finished_at < clock_timestamp() - older_than;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;

REVOKE ALL ON FUNCTION job_claim(text, text[], text[], integer, bigint[]), job_complete(text, bigint[]), job_fail(text, bigint, text, timestamptz),
    job_release(text, bigint[]), job_recover_expired(), job_require_platform(), job_list(text, text, integer), job_stats(),
    job_retry(bigint), job_cancel(bigint), job_purge(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION job_claim(text, text[], text[], integer, bigint[]), job_complete(text, bigint[]), job_fail(text, bigint, text, timestamptz),
    job_release(text, bigint[]), job_recover_expired(), job_require_platform(), job_list(text, text, integer), job_stats(),
    job_retry(bigint), job_cancel(bigint), job_purge(interval) TO kreiswerk_app;

-- MARK: - Recurring schedules

-- Defined in code (JobSchedules), stored so that every worker agrees which period last fired:
-- the UPDATE that moves last_period forward succeeds for exactly one of them.
CREATE TABLE job_schedules (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_.-]*$'),
    cron text NOT NULL,
    time_zone text NOT NULL DEFAULT 'Europe/Berlin',
    kind text NOT NULL,
    -- The tick (instant) whose period last fired, and when it actually fired.
    last_period timestamptz,
    last_fired_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Only the platform tenant (the scheduler) writes it; every tenant may read it.
ALTER TABLE job_schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY everyone_reads ON job_schedules FOR SELECT TO kreiswerk_app USING (true);
CREATE POLICY platform_writes ON job_schedules FOR INSERT TO kreiswerk_app WITH CHECK (app_is_platform());
CREATE POLICY platform_updates ON job_schedules FOR UPDATE TO kreiswerk_app USING (app_is_platform()) WITH CHECK (app_is_platform());
GRANT SELECT, INSERT, UPDATE ON job_schedules TO kreiswerk_app;
