-- A claim whose answer was lost (issue 18: the leader of a Patroni cluster killed while job_claim committed on the
-- synchronous standby) left its jobs running under the worker's name: the worker never ran them and they waited
-- for their lease (a job's timeout + 10 s). A worker claims only when none of its jobs runs (JobWorker.runOneBatch
-- runs a whole batch before the next claim), so at its next claim every job still running under its name, other
-- than those it reports done, is one it never got: job_claim queues them again first (the attempt stays counted,
-- so a job whose answers keep getting lost is parked after max_attempts, never run without end), then claims.
CREATE OR REPLACE FUNCTION job_claim(worker text, queues text[], kinds text[], batch integer, done bigint[] DEFAULT '{}')
RETURNS TABLE (id bigint, tenant_id uuid, kind text, payload jsonb, attempts integer, max_attempts integer, timeout_seconds integer,
               created_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp SET enable_sort = off
AS $$
BEGIN
    IF cardinality(done) > 0 THEN
        UPDATE public.jobs SET state = 'succeeded', finished_at = clock_timestamp(), locked_by = NULL, lease_until = NULL
        WHERE jobs.id = ANY (done) AND jobs.locked_by = worker AND jobs.state = 'running';
    END IF;
    UPDATE public.jobs SET state = 'queued', run_at = clock_timestamp(), locked_by = NULL, lease_until = NULL, started_at = NULL,
        last_error = 'claimed by ' || worker || ', whose answer was lost: queued again at its next claim'
    WHERE jobs.locked_by = worker AND jobs.state = 'running' AND NOT (jobs.id = ANY (done));
    RETURN QUERY
    WITH due AS (
        SELECT d.id, d.timeout_seconds FROM public.jobs d
        WHERE d.state = 'queued' AND d.run_at <= clock_timestamp() AND (queues IS NULL OR d.queue = ANY (queues))
          AND d.kind = ANY (kinds)
        ORDER BY d.priority DESC, d.run_at, d.id
        LIMIT batch
        FOR UPDATE SKIP LOCKED
    ), longest AS (
        SELECT max(due.timeout_seconds) AS seconds FROM due
    )
    UPDATE public.jobs j SET state = 'running', attempts = j.attempts + 1, locked_by = worker, started_at = clock_timestamp(),
        lease_until = clock_timestamp() + make_interval(secs => (SELECT seconds FROM longest) + 10)
    FROM due WHERE j.id = due.id
    RETURNING j.id, j.tenant_id, j.kind, j.payload, j.attempts, j.max_attempts, j.timeout_seconds, j.created_at;
END
$$;
