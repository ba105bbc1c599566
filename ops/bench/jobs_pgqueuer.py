#!/usr/bin/env python3
"""Job-queue benchmark, comparison half: PyPI's ``pgqueuer`` on PostgreSQL.

The driver script ``ops/bench/jobs`` runs this next to the Kreiswerk job
queue and builds a table from the ``RESULT`` lines printed here.

What is measured
================

1. Throughput (once per worker count W, default 1, 2 and 4)

   * pgqueuer's schema is dropped (if present) and installed afresh, so
     every run starts from empty, unbloated tables; pgqueuer's recommended
     autovacuum settings (what ``pgq autovac`` applies) are set on them.
   * N no-op jobs (default 100000) are enqueued with pgqueuer's batched
     ``Queries.enqueue(entrypoints, payloads, priorities)``, in chunks of
     ``--enqueue-batch`` jobs, each chunk one autocommitted statement.
     That wall time is ``enqueue_s``.
   * The tables are ANALYZEd (untimed; ``--no-analyze`` skips it), as
     autovacuum would have done in a system that has been running for a
     while.  This matters a lot: on a freshly created table without
     statistics PostgreSQL plans pgqueuer's dequeue as an index scan over all
     queued rows plus a sort (~30 ms per dequeue at 100000 queued jobs
     instead of ~1 ms), and the drain is about 3x slower.
   * W worker processes are spawned (``multiprocessing``, "spawn" start
     method, i.e. separate OS processes).  Each opens its own asyncpg
     connection, builds a ``PgQueuer`` with one no-op ``async`` entrypoint
     and reports ready; interpreter start-up and imports are therefore not
     timed.  The clock starts when all workers are released at once into
     ``PgQueuer.run(...)`` and stops when the queue table ``pgqueuer`` is
     empty: pgqueuer deletes a finished job from that table in the same
     statement that writes its ``successful`` row to ``pgqueuer_log``, so an
     empty queue table means every job has run and been recorded.  The
     parent polls for that every ``POLL_INTERVAL_S`` with a primary-key
     lookup of the newest job (well under a millisecond).  That wall time is
     ``drain_s``; ``jobs_per_s`` = N / ``drain_s``.  Afterwards the number
     of ``successful`` rows in ``pgqueuer_log`` is checked to equal N.

2. Enqueue-to-start latency on an idle queue (one worker)

   * Fresh schema again, one worker process started and warmed up with a
     few jobs (so its LISTEN connection is up and statements are prepared).
   * The parent enqueues one job at a time (``Queries.enqueue`` with a
     single entrypoint; the connection is in autocommit mode, so each job is
     its own committed transaction), ``--latency-samples`` times (default
     500), sleeping a random 5-20 ms between jobs.
   * The job function records ``time.time()`` when it starts and sends it
     to the parent over a ``multiprocessing`` queue; the parent took
     ``time.time()`` right after ``enqueue`` returned.  Both processes run
     on the same machine, so the wall clocks agree.  Latency = start time -
     enqueue-return time; p50, p95, p99 (nearest rank) and max are printed.

pgqueuer settings used
======================

* Driver: asyncpg; every worker uses one dedicated connection
  (``PgQueuer.from_asyncpg_connection``), as pgqueuer's performance guide
  recommends for a QueueManager (LISTEN must not go through a pool).
* Event loop: uvloop, as pgqueuer's own CLI (``pgq run``) uses.
* ``PgQueuer.run(batch_size=--batch-size)``, default 100 here.  pgqueuer's
  default is 10; its performance-tuning guide says to raise it for short
  jobs but names no value.  On the 2-core dev machine (fsync off), 100000
  jobs, roughly: batch 10 -> 6-10k jobs/s, 25 -> 10-17k, 50 -> 15-22k,
  100 -> 15-26k, 500 -> 18-31k (1-4 workers); runs vary by +-15%.
* Everything else is left at pgqueuer's defaults: ``max_concurrent_tasks``
  unlimited, entrypoint ``concurrency_limit=0`` (unlimited),
  ``dequeue_timeout`` 30 s (only the polling fallback: new jobs wake the
  worker through LISTEN/NOTIFY), ``heartbeat_timeout`` 30 s,
  ``log_aggregation_interval`` 30 s, durability ``durable`` (all tables
  WAL-logged).
* The entrypoint is ``async def``; pgqueuer 1.6 accepts no other kind.

Usage::

    python3 ops/bench/jobs_pgqueuer.py --dsn postgresql://user:pw@host:port/db \
        [--jobs 100000] [--workers 1,2,4] [--latency-samples 500]

The database should be empty (or hold only a previous pgqueuer install):
pgqueuer's tables are created in it and removed again at the end.

Requires ``pip install pgqueuer asyncpg`` (uvloop comes with pgqueuer).
Exits non-zero with a message on stderr if a run does not finish within
``--timeout`` seconds or a worker dies.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import queue
import random
import signal
import sys
import time
import traceback
from collections.abc import Awaitable
from importlib import metadata
from typing import Any

try:
    import asyncpg
    from pgqueuer import PgQueuer
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.models import Job
    from pgqueuer.queries import Queries
except ImportError as exc:  # pragma: no cover - depends on the machine
    sys.exit(
        f"jobs_pgqueuer: cannot import pgqueuer/asyncpg ({exc}); "
        "install them with: pip install pgqueuer asyncpg"
    )

try:
    import uvloop
except ImportError:  # uvloop is a pgqueuer dependency except on Windows
    uvloop = None

# Entrypoint names: no-op jobs for throughput, timestamped probes for latency.
NOOP_ENTRYPOINT = "bench_noop"
PROBE_ENTRYPOINT = "bench_probe"

# How often the parent checks whether the queue has drained (seconds).
POLL_INTERVAL_S = 0.01
# Probe jobs sent before latency sampling starts (not counted).
LATENCY_WARMUP_JOBS = 10
# Grace period for worker start-up and for workers to stop after SIGTERM.
WORKER_START_TIMEOUT_S = 60.0
WORKER_STOP_TIMEOUT_S = 30.0


class BenchError(Exception):
    """A run failed or did not complete in time; reported and exit code 1."""


def run_async(main: Awaitable[Any]) -> Any:
    """Run a coroutine on uvloop when available (as ``pgq run`` does)."""
    if uvloop is not None:
        return uvloop.run(main)
    return asyncio.run(main)


# ---------------------------------------------------------------------------
# Worker process
# ---------------------------------------------------------------------------


def worker_main(
    dsn: str,
    batch_size: int,
    ready: mp.Queue,
    go: Any,
    starts: mp.Queue | None,
) -> None:
    """Entry point of one worker process (a pgqueuer consumer)."""
    try:
        run_async(_worker(dsn, batch_size, ready, go, starts))
    except Exception as exc:  # report, so the parent fails fast and clearly
        traceback.print_exc()
        ready.put(("error", os.getpid(), f"{type(exc).__name__}: {exc}"))
        raise SystemExit(1) from None


async def _worker(
    dsn: str,
    batch_size: int,
    ready: mp.Queue,
    go: Any,
    starts: mp.Queue | None,
) -> None:
    connection = await asyncpg.connect(dsn)
    pgq = PgQueuer.from_asyncpg_connection(connection)

    @pgq.entrypoint(NOOP_ENTRYPOINT)
    async def noop(job: Job) -> None:
        """The benchmarked job: does nothing."""

    if starts is not None:

        @pgq.entrypoint(PROBE_ENTRYPOINT)
        async def probe(job: Job) -> None:
            """Latency probe: report (sample index, wall-clock start time)."""
            started = time.time()
            starts.put_nowait((int(job.payload or b"-1"), started))

    # The parent stops workers with SIGTERM; let pgqueuer shut down cleanly
    # (in-flight jobs finish and their log rows are flushed).
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, pgq.shutdown.set)

    ready.put(("ready", os.getpid(), ""))

    # Wait (off the event loop) until the parent releases all workers at once.
    while not await asyncio.to_thread(go.wait, 0.5):
        if pgq.shutdown.is_set():
            return

    await pgq.run(batch_size=batch_size)


class Workers:
    """A set of worker processes started by the parent."""

    def __init__(
        self,
        dsn: str,
        count: int,
        batch_size: int,
        starts: mp.Queue | None = None,
    ) -> None:
        ctx = mp.get_context("spawn")
        self.ready: mp.Queue = ctx.Queue()
        self.go = ctx.Event()
        self.processes = [
            ctx.Process(
                target=worker_main,
                args=(dsn, batch_size, self.ready, self.go, starts),
                name=f"pgqueuer-worker-{i}",
                daemon=True,
            )
            for i in range(count)
        ]

    async def start(self) -> None:
        """Spawn the processes and wait until each one is connected."""
        for process in self.processes:
            process.start()
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        pending = len(self.processes)
        while pending:
            try:
                kind, pid, detail = self.ready.get_nowait()
            except queue.Empty:
                self.check_alive()
                if time.monotonic() > deadline:
                    raise BenchError(
                        f"workers not ready within {WORKER_START_TIMEOUT_S:.0f} s"
                    ) from None
                await asyncio.sleep(0.02)
                continue
            if kind == "error":
                raise BenchError(f"worker {pid} failed: {detail}")
            pending -= 1

    def release(self) -> None:
        """Let all workers start consuming."""
        self.go.set()

    def check_alive(self) -> None:
        """Raise if a worker has exited (they only exit when told to)."""
        for process in self.processes:
            if process.exitcode is not None:
                detail = ""
                try:
                    kind, _pid, text = self.ready.get_nowait()
                    if kind == "error":
                        detail = f": {text}"
                except queue.Empty:
                    pass
                raise BenchError(
                    f"{process.name} exited early with code {process.exitcode}{detail}"
                )

    async def stop(self) -> None:
        """SIGTERM every worker (graceful pgqueuer shutdown), then reap them."""
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM
        deadline = time.monotonic() + WORKER_STOP_TIMEOUT_S
        for process in self.processes:
            while process.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if process.is_alive():
                process.kill()
            process.join(timeout=5)


# ---------------------------------------------------------------------------
# Parent: schema handling and measurements
# ---------------------------------------------------------------------------


async def reset_schema(queries: Queries) -> None:
    """Drop pgqueuer's objects if present, install them afresh, tune autovacuum."""
    if await queries.schema_is_installed():
        await queries.uninstall()
    await queries.install()
    await queries.optimize_autovacuum()  # what `pgq autovac` applies


async def with_timeout(what: str, timeout_s: float, coro: Awaitable[Any]) -> Any:
    try:
        return await asyncio.wait_for(coro, timeout=timeout_s)
    except asyncio.TimeoutError:
        raise BenchError(f"{what} did not complete within {timeout_s:.0f} s") from None


async def enqueue_jobs(queries: Queries, jobs: int, chunk: int) -> None:
    """Enqueue `jobs` no-op jobs with pgqueuer's batched enqueue."""
    done = 0
    while done < jobs:
        size = min(chunk, jobs - done)
        await queries.enqueue([NOOP_ENTRYPOINT] * size, [None] * size, [0] * size)
        done += size


async def wait_until_drained(connection: asyncpg.Connection, workers: Workers) -> None:
    """Return once the queue table has no row left (every job finished)."""
    # Newest job by primary key: a backward index scan, cheap even when the
    # heap is full of finished (dead) rows, which a sequential scan is not.
    newest_job = "SELECT id FROM pgqueuer ORDER BY id DESC LIMIT 1"
    while await connection.fetchval(newest_job) is not None:
        workers.check_alive()
        await asyncio.sleep(POLL_INTERVAL_S)


async def measure_throughput(
    args: argparse.Namespace,
    connection: asyncpg.Connection,
    queries: Queries,
    worker_count: int,
) -> None:
    await reset_schema(queries)

    t0 = time.perf_counter()
    await with_timeout(
        "enqueue", args.timeout, enqueue_jobs(queries, args.jobs, args.enqueue_batch)
    )
    enqueue_s = time.perf_counter() - t0

    # Planner statistics for the filled tables (untimed); see the docstring.
    if args.analyze:
        await connection.execute("ANALYZE pgqueuer; ANALYZE pgqueuer_log")

    workers = Workers(args.dsn, worker_count, args.batch_size)
    try:
        await workers.start()
        t0 = time.perf_counter()
        workers.release()
        await with_timeout(
            f"drain of {args.jobs} jobs with {worker_count} worker(s)",
            args.timeout,
            wait_until_drained(connection, workers),
        )
        drain_s = time.perf_counter() - t0
    finally:
        await workers.stop()

    succeeded = await connection.fetchval(
        "SELECT count(*) FROM pgqueuer_log WHERE status = 'successful'"
    )
    if succeeded != args.jobs:
        raise BenchError(
            f"{worker_count} worker(s): pgqueuer_log has {succeeded} successful "
            f"jobs, expected {args.jobs}"
        )

    rate = args.jobs / drain_s
    print(
        f"pgqueuer throughput, {worker_count} worker(s): enqueued {args.jobs} jobs "
        f"in {enqueue_s:.2f} s ({args.jobs / enqueue_s:.0f} jobs/s), drained in "
        f"{drain_s:.2f} s = {rate:.0f} jobs/s",
        flush=True,
    )
    print(
        f"RESULT pgqueuer throughput workers={worker_count} jobs={args.jobs} "
        f"enqueue_s={enqueue_s:.3f} drain_s={drain_s:.3f} jobs_per_s={rate:.0f}",
        flush=True,
    )


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def collect_starts(
    starts: mp.Queue, wanted: set[int], into: dict[int, float], workers: Workers
) -> None:
    """Read probe start times from the worker until all `wanted` are in."""
    while not wanted.issubset(into):
        try:
            index, started = starts.get_nowait()
        except queue.Empty:
            workers.check_alive()
            await asyncio.sleep(0.005)
            continue
        into[index] = started


async def measure_latency(
    args: argparse.Namespace,
    queries: Queries,
) -> None:
    await reset_schema(queries)

    ctx = mp.get_context("spawn")
    starts: mp.Queue = ctx.Queue()
    workers = Workers(args.dsn, 1, args.batch_size, starts)
    started: dict[int, float] = {}
    enqueued: dict[int, float] = {}
    try:
        await workers.start()
        workers.release()

        # Warm-up: negative indices, waited for one by one, so the worker is
        # listening and idle when sampling starts.
        for i in range(1, LATENCY_WARMUP_JOBS + 1):
            await queries.enqueue(PROBE_ENTRYPOINT, str(-i).encode())
            await with_timeout(
                "latency warm-up job",
                args.timeout,
                collect_starts(starts, {-i}, started, workers),
            )

        async def sample() -> None:
            for i in range(args.latency_samples):
                # autocommit: the job is committed when enqueue returns
                await queries.enqueue(PROBE_ENTRYPOINT, str(i).encode())
                enqueued[i] = time.time()
                await asyncio.sleep(random.uniform(0.005, 0.020))
            await collect_starts(starts, set(enqueued), started, workers)

        await with_timeout("latency run", args.timeout, sample())
    finally:
        await workers.stop()

    latencies_ms = sorted((started[i] - enqueued[i]) * 1000 for i in enqueued)
    p50, p95, p99 = (percentile(latencies_ms, p) for p in (50, 95, 99))
    worst = latencies_ms[-1]
    print(
        f"pgqueuer idle latency (enqueue committed -> job started), 1 worker, "
        f"{len(latencies_ms)} samples: p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
        f"p99 {p99:.2f} ms, max {worst:.2f} ms",
        flush=True,
    )
    print(
        f"RESULT pgqueuer latency samples={len(latencies_ms)} p50_ms={p50:.2f} "
        f"p95_ms={p95:.2f} p99_ms={p99:.2f} max_ms={worst:.2f}",
        flush=True,
    )


async def main_async(args: argparse.Namespace) -> None:
    connection = await asyncpg.connect(args.dsn)
    queries = Queries(AsyncpgDriver(connection))
    try:
        for worker_count in args.workers:
            await measure_throughput(args, connection, queries, worker_count)
        if args.latency_samples > 0:
            await measure_latency(args, queries)
    finally:
        # Leave the database as found: remove pgqueuer's objects.  A failure
        # here must not hide the error that brought us here.
        try:
            if not args.keep_schema and await queries.schema_is_installed():
                await queries.uninstall()
            await connection.close()
        except Exception as exc:
            print(f"jobs_pgqueuer: cleanup failed: {exc}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark pgqueuer: drain throughput and idle enqueue-to-start latency."
    )
    parser.add_argument("--dsn", required=True, help="postgresql:// URI of an empty database")
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs per throughput run")
    parser.add_argument(
        "--workers",
        default="1,2,4",
        help="comma-separated worker process counts, one throughput run each",
    )
    parser.add_argument(
        "--latency-samples", type=int, default=500, help="latency samples (0 skips)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=100,
        help="PgQueuer.run(batch_size=...): jobs claimed per dequeue (pgqueuer default 10)",
    )
    parser.add_argument("--enqueue-batch", type=int, default=10_000, help="jobs per enqueue call")
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds allowed for each enqueue, drain or latency run",
    )
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="do not ANALYZE the queue tables between enqueue and drain",
    )
    parser.add_argument(
        "--keep-schema",
        action="store_true",
        help="leave pgqueuer's tables in the database at the end",
    )
    args = parser.parse_args(argv)
    try:
        args.workers = [int(w) for w in args.workers.split(",") if w.strip()]
    except ValueError:
        parser.error("--workers must be a comma-separated list of integers")
    if any(w < 1 for w in args.workers):
        parser.error("--workers counts must be >= 1")
    if args.jobs < 1 or args.batch_size < 1 or args.enqueue_batch < 1:
        parser.error("--jobs, --batch-size and --enqueue-batch must be >= 1")
    return args


def main() -> int:
    args = parse_args()
    version = metadata.version("pgqueuer")
    print(
        f"pgqueuer {version} (asyncpg {metadata.version('asyncpg')}, "
        f"{'uvloop' if uvloop else 'asyncio'} loop); settings: batch_size={args.batch_size}, "
        f"max_concurrent_tasks=unlimited, concurrency_limit=0, dequeue_timeout=30s, "
        f"durability=durable, autovac applied, one asyncpg connection per worker, "
        f"enqueue_batch={args.enqueue_batch}, analyze_before_drain={args.analyze}",
        flush=True,
    )
    began = time.perf_counter()
    try:
        run_async(main_async(args))
    except BenchError as exc:
        print(f"jobs_pgqueuer: FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    except (OSError, asyncpg.PostgresError) as exc:  # e.g. wrong DSN, server gone
        print(f"jobs_pgqueuer: FAILED: database error: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"pgqueuer benchmark finished in {time.perf_counter() - began:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
