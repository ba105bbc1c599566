#!/usr/bin/env bash
# Fault tests (issue 18), each part bounded, on a PostgreSQL cluster of their own (this script stops it):
#  a) PostgreSQL stopped with -m immediate while writes flow: requests get 503 with Retry-After (no 500, none hangs past
#     the database deadline), /readyz answers 503 within ~2 s while it is down, the server recovers by itself when it is
#     back, no acknowledged write is lost, and SIGTERM then stops serve within its cap;
#  b) a busy worker's backend ended with pg_terminate_backend: the worker goes on draining, and stops on SIGTERM within
#     its cap;
#  c) 300 idle connections (slow-loris) do not starve active requests, and the server closes them after its idle timeout;
#  d) the server killed with SIGKILL three times under concurrent writes and started again: every acknowledged write is
#     stored, none half-written (each client has its audit entry), the audit chain verifies;
#  e) job workers killed with SIGKILL eight times while 20,000 jobs drain: none lost, none parked, the re-runs counted.
# Prints the figures: requests during the outage (ok/503/other/hung), seconds until back, stop times, kills and losses.
set -euo pipefail
. "$(dirname "$0")/../lib/test-server.sh"
. "$(dirname "$0")/../lib/common.sh"
command -v python3 >/dev/null || fail "python3 is needed"

deadline=5 # KREISWERK_DB_DEADLINE_SECONDS for serve and worker
cap=10     # KREISWERK_STOP_SECONDS
idle=3     # KREISWERK_IDLE_TIMEOUT_SECONDS
export KREISWERK_DB_DEADLINE_SECONDS=$deadline KREISWERK_STOP_SECONDS=$cap KREISWERK_IDLE_TIMEOUT_SECONDS=$idle

# A cluster of our own, on a free port, stopped and removed on exit (after the database is dropped).
cluster="$(mktemp -d /tmp/kreiswerk-faults.XXXXXX)"
pgport=$((56000 + $$ % 1000))
while (exec 3<>"/dev/tcp/127.0.0.1/$pgport") 2>/dev/null; do pgport=$((pgport + 1)); done
superuser="$(random_secret)"
export KREISWERK_TEST_OWNER_PASSWORD="$(random_secret)" KREISWERK_TEST_APP_PASSWORD="$(random_secret)" KREISWERK_TEST_WORKER_PASSWORD="$(random_secret)"
export KREISWERK_TEST_SUPERUSER_URL="postgres://postgres:$superuser@127.0.0.1:$pgport/postgres"
KREISWERK_PG_FSYNC=off cluster_init "$cluster" "$pgport" "$superuser"
on_exit+=("cluster_stop '$cluster'; rm -rf '$cluster'")
cluster_start "$cluster"
bootstrap_roles "$KREISWERK_TEST_SUPERUSER_URL" "$KREISWERK_TEST_OWNER_PASSWORD" "$KREISWERK_TEST_APP_PASSWORD" "$KREISWERK_TEST_WORKER_PASSWORD"
test_database kwfaults
"$bin" migrate >/dev/null
"$bin" tenants apply tenants >/dev/null
psql_db() { psql "$superuser_db_url" -Atqc "$1"; }
work="$(mktemp -d)"
on_exit=("rm -rf '$work'" "${on_exit[@]}")

# --- a) PostgreSQL stopped with -m immediate under a steady write load -------------------------------------------
pw="$(new_password)"
printf '%s' "$pw" | "$bin" users create --tenant witten --email cm@witten.test --name "Carla Case" --role case_manager --password-stdin >/dev/null
token="$("$bin" tokens create --email cm@witten.test --name faults 2>/dev/null)"
port=$((20000 + $$ % 1000))
serve "$port" "$work/serve.log" --no-worker
base="http://127.0.0.1:$port"

# Eight writers, each POSTing clients one after another for $1 seconds; one line per request:
# "status seconds last_name" (status 000 and the time curl gave up if it hung). Every request is answered within
# the server's last resort, two deadlines and 5 s (DeadlineResponder: a lease, the transaction, the margin); a request
# can meet two deadlines during an outage (its sign-in lookup's lease, then its transaction's), so up to it is no hang.
answer_within=$((2 * deadline + 6))
# load BASE TOKEN OUT SECONDS TIMEOUT PREFIX: the writers; clients are named PREFIX<writer>x<n>.
cat >"$work/load.py" <<'PY'
import json, sys, threading, time, urllib.request, urllib.error
base, token, out, seconds, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
prefix = sys.argv[6]
lines, lock, end = [], threading.Lock(), time.time() + seconds
def writer(n):
    i = 0
    while time.time() < end:
        i += 1
        name = f"{prefix}{n}x{i}"
        body = json.dumps({"first_name": "Test", "last_name": name, "date_of_birth": "1980-01-01", "allow_duplicate": True}).encode()
        request = urllib.request.Request(base + "/api/v1/clients", data=body, method="POST",
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        started = time.time()
        status, retry = 0, ""
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status, retry = error.code, error.headers.get("Retry-After") or ""
        except Exception:
            status = 0  # no answer within the timeout, or the connection failed
        with lock:
            lines.append(f"{status} {time.time() - started:.2f} {name} {retry or '-'} {started:.2f}")
        if status != 201:
            time.sleep(0.2)
threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
open(out, "w").write("\n".join(lines) + "\n")
PY
python3 "$work/load.py" "$base" "$token" "$work/requests" 22 "$answer_within" Fault >"$work/load.out" 2>&1 &
load=$!
sleep 4
down_at="$(now)"
run_as_postgres "$PG_BIN/pg_ctl" -D "$cluster/data" -m immediate -w stop >/dev/null
# /readyz while it is down: 503, and quickly.
sleep 1
ready_started="$(now)"
ready="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$base/readyz" || true)"
ready_seconds="$(elapsed "$ready_started")"
[ "$ready" = 503 ] || fail "/readyz answered $ready while PostgreSQL was down"
python3 -c "import sys; sys.exit(0 if $ready_seconds < 3.5 else 1)" || fail "/readyz took $ready_seconds s while PostgreSQL was down"
sleep 5
cluster_start "$cluster"
up_at="$(now)"
# Back: the first acknowledged write after PostgreSQL is up again.
wait "$load" || fail "the load generator failed: $(cat "$work/load.out")"
[ -s "$work/requests" ] || fail "no requests were recorded: $(cat "$work/load.out")"
read -r ok unavailable other hung slowest back retry_missing < <(python3 - "$work/requests" "$down_at" "$up_at" <<'PY'
import sys
down, up = float(sys.argv[2]), float(sys.argv[3])
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
during = [r for r in rows if float(r[4]) + float(r[1]) >= down]  # answered (or given up) after the stop
ok = sum(1 for r in during if r[0] == "201")
unavailable = sum(1 for r in during if r[0] == "503")
hung = sum(1 for r in during if r[0] == "0")
other = len(during) - ok - unavailable - hung
slowest = max((float(r[1]) for r in during), default=0)
firsts = [float(r[4]) + float(r[1]) for r in rows if r[0] == "201" and float(r[4]) >= up]
back = min(firsts) - up if firsts else -1
retry_missing = sum(1 for r in during if r[0] == "503" and r[3] == "-")
print(ok, unavailable, other, hung, f"{slowest:.1f}", f"{back:.1f}", retry_missing)
PY
)
echo "a) outage of $(python3 -c "print(f'{$up_at - $down_at:.1f}')") s: requests during it: ok $ok, 503 $unavailable, other $other, hung $hung (slowest answer ${slowest} s); /readyz 503 in ${ready_seconds} s; writes succeed again ${back} s after PostgreSQL is up"
[ "$other" = 0 ] || fail "requests during the outage got other answers than 201 or 503: $(awk '$1 != 201 && $1 != 503 && $1 != 0' "$work/requests" | head -5; grep -i 'unhandled error' "$work/serve.log" | head -3)"
[ "$hung" = 0 ] || fail "$hung requests got no answer within $answer_within s"
[ "$unavailable" -gt 0 ] || fail "no request met the outage (no 503): the load did not overlap it"
[ "$retry_missing" = 0 ] || fail "$retry_missing answers 503 came without Retry-After"
python3 -c "import sys; sys.exit(0 if 0 <= $back < 15 else 1)" || fail "writes did not succeed again within 15 s of PostgreSQL's return (back: $back)"
# No acknowledged write lost: every 201 is in the table.
awk '$1 == 201 { print $3 }' "$work/requests" | sort >"$work/acknowledged"
psql_db "SELECT last_name FROM clients WHERE last_name LIKE 'Fault%'" | sort >"$work/stored"
acknowledged=$(wc -l <"$work/acknowledged")
lost=$(comm -23 "$work/acknowledged" "$work/stored" | wc -l)
echo "a) acknowledged writes: $acknowledged, lost: $lost"
[ "$lost" = 0 ] || fail "acknowledged writes are missing: $(comm -23 "$work/acknowledged" "$work/stored" | head -5)"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/readyz")" = 200 ] || fail "/readyz is not 200 after the outage"
# SIGTERM while a request is in flight that finishes within the cap: it completes, and serve stops within the cap.
# (The slow request is an ordinary search the database makes wait 2 s, by a lock held in another session.)
psql "$superuser_db_url" -qc "BEGIN; LOCK TABLE clients IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(2); COMMIT;" >/dev/null &
locker=$!
sleep 0.5
curl -s -o "$work/inflight" -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $token" "$base/api/v1/clients?q=Fault0x1" >"$work/inflight.status" &
inflight=$!
sleep 0.3
stop_within "$server" "$cap" "serve"
server=""
wait "$inflight" || true
wait "$locker" || true
echo "a) serve stopped ${stopped} s after SIGTERM (cap $cap s, exit status $status); the request in flight got $(cat "$work/inflight.status")"
[ "$(cat "$work/inflight.status")" = 200 ] || fail "the request in flight at SIGTERM did not complete: $(cat "$work/inflight.status") $(head -c 300 "$work/inflight")"

# --- b) a busy worker's backend ended with pg_terminate_backend -------------------------------------------------------
"$bin" jobs enqueue noop --count 3000 >/dev/null
"$bin" worker --poll 0.2 --no-schedules --concurrency 4 >"$work/worker.log" 2>&1 &
worker=$!
on_exit=("kill -9 $worker 2>/dev/null" "${on_exit[@]}")
remaining() { psql_db "SELECT count(*) FROM jobs WHERE kind = 'noop' AND state <> 'succeeded'"; }
for _ in $(seq 100); do [ "$(remaining)" -lt 2900 ] && break; sleep 0.1; done
# End each of the worker's backends (its LISTEN connection and those running jobs) three times while it drains.
for round in 1 2 3; do
    psql "$superuser_db_url" -Atqc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'kreiswerk_worker'" >>"$work/terminated"
    sleep 0.5
done
terminated=$(awk '{ n += $1 } END { print n }' "$work/terminated")
drain_started="$(now)"
for _ in $(seq 450); do [ "$(remaining)" = 0 ] && break; sleep 0.1; done
left="$(remaining)"
echo "b) ended $terminated worker backends in 3 rounds; $left of 3000 jobs left $(elapsed "$drain_started") s later"
[ "$left" = 0 ] || fail "the worker stopped draining after its backends were ended: $left jobs left; $(tail -n 5 "$work/worker.log")"
parked="$(psql_db "SELECT count(*) FROM jobs WHERE kind = 'noop' AND state = 'parked'")"
[ "$parked" = 0 ] || fail "$parked jobs were parked"
# Busy again, with its backends ended once more, then SIGTERM: stopped within the cap.
"$bin" jobs enqueue diagnostics.sleep --seconds 30 >/dev/null
for _ in $(seq 100); do [ "$(psql_db "SELECT count(*) FROM jobs WHERE kind = 'diagnostics.sleep' AND state = 'running'")" = 1 ] && break; sleep 0.1; done
psql_db "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'kreiswerk_worker'" >/dev/null
sleep 0.5
stop_within "$worker" "$cap" "the worker" "$work/worker.log"
echo "b) the worker stopped ${stopped} s after SIGTERM (cap $cap s, exit status $status) with a 30 s job running"

# --- c) 300 idle connections do not starve active requests ---------------------------------------------------------
serve "$port" "$work/serve2.log" --no-worker
read -r served failed slowest closed < <(python3 - "$port" "$idle" <<'PY'
import socket, sys, time, urllib.request
port, idle = int(sys.argv[1]), float(sys.argv[2])
idlers = []
for _ in range(300):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # a head that never ends (slow-loris)
    idlers.append(s)
served = failed = 0
slowest = 0.0
end = time.time() + idle + 2
while time.time() < end:
    started = time.time()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            served += response.status == 200
    except Exception:
        failed += 1
    slowest = max(slowest, time.time() - started)
    time.sleep(0.05)
time.sleep(1)
closed = 0
for s in idlers:
    s.settimeout(0.5)
    try:
        closed += s.recv(1) == b""
    except OSError:
        closed += 1
print(served, failed, f"{slowest:.2f}", closed)
PY
)
echo "c) with 300 idle connections: $served requests served, $failed failed, slowest ${slowest} s; $closed of 300 idle connections closed by the server after its ${idle} s idle timeout"
[ "$failed" = 0 ] && [ "$served" -gt 10 ] || fail "active requests starved beside idle connections: $served served, $failed failed"
[ "$closed" = 300 ] || fail "only $closed of 300 idle connections were closed after the idle timeout"
stop_within "$server" "$cap" "serve"
server=""
echo "c) serve stopped ${stopped} s after SIGTERM (exit status $status)"

# --- d) the server killed with SIGKILL under concurrent writes ------------------------------------------------------
serve "$port" "$work/serve3.log" --no-worker
python3 "$work/load.py" "$base" "$token" "$work/kill-requests" 12 "$answer_within" Kill >"$work/kill-load.out" 2>&1 &
load=$!
kills=0
back_times=()
for _ in 1 2 3; do
    sleep 2.5
    kill -9 "$server"
    wait "$server" 2>/dev/null || true
    killed_at="$(now)"
    kills=$((kills + 1))
    serve "$port" "$work/serve-kill$kills.log" --no-worker
    back_times+=("$(elapsed "$killed_at")")
done
wait "$load" || fail "the load generator failed: $(cat "$work/kill-load.out")"
awk '$1 == 201 { print $3 }' "$work/kill-requests" | sort >"$work/kill-acknowledged"
psql_db "SELECT last_name FROM clients WHERE last_name LIKE 'Kill%'" | sort >"$work/kill-stored"
acknowledged=$(wc -l <"$work/kill-acknowledged")
lost=$(comm -23 "$work/kill-acknowledged" "$work/kill-stored" | wc -l)
unacknowledged=$(comm -13 "$work/kill-acknowledged" "$work/kill-stored" | wc -l)
failed=$(awk '$1 != 201' "$work/kill-requests" | wc -l)
other=$(awk '$1 != 201 && $1 != 0 && $1 != 503' "$work/kill-requests" | wc -l)
half=$(psql_db "SELECT count(*) FROM clients c WHERE c.last_name LIKE 'Kill%'
    AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'client.created' AND lower(a.object_id) = c.id::text)")
"$bin" audit seal >/dev/null
verified="$("$bin" audit verify 2>&1)" || fail "the audit chain does not verify after the kills: $verified"
echo "d) $kills SIGKILLs of serve under 8 writers: back after ${back_times[*]} s; acknowledged writes: $acknowledged, lost: $lost," \
    "stored without an answer: $unacknowledged; requests without an answer or 503: $failed; half-written clients: $half; audit chain verifies"
[ "$acknowledged" -gt 50 ] || fail "too few writes were acknowledged ($acknowledged): $(head -3 "$work/kill-requests")"
[ "$lost" = 0 ] || fail "acknowledged writes are missing after SIGKILL: $(comm -23 "$work/kill-acknowledged" "$work/kill-stored" | head -5)"
[ "$half" = 0 ] || fail "$half clients are stored without their audit entry"
[ "$other" = 0 ] || fail "requests around the kills got other answers than 201, 503 or none: $(awk '$1 != 201 && $1 != 0 && $1 != 503' "$work/kill-requests" | head -3)"
stop_within "$server" "$cap" "serve"
server=""

# --- e) job workers killed with SIGKILL while 20,000 jobs drain ---------------------------------------------------------
# b)'s 30 s diagnostics job is still leased to the worker stopped there: a worker that took it over would run its whole
# batch as long as that job (a batch is completed together), so it is cancelled here.
psql_db "UPDATE jobs SET state = 'cancelled', locked_by = NULL, lease_until = NULL, finished_at = now()
    WHERE kind = 'diagnostics.sleep' AND state IN ('queued', 'running')" >/dev/null
first_job=$(psql_db "SELECT coalesce(max(id), 0) FROM jobs")
"$bin" jobs enqueue noop --count 20000 >/dev/null
# A lease of 11 s instead of 70 (timeout 1 s + 10 s), so that the killed workers' jobs come back within the test.
psql_db "UPDATE jobs SET timeout_seconds = 1 WHERE id > $first_job" >/dev/null
jobs_total=$(psql_db "SELECT count(*) FROM jobs WHERE id > $first_job")
workers=()
start_worker() {
    "$bin" worker --poll 0.2 --no-schedules >>"$work/kill-worker.log" 2>&1 &
    workers+=($!)
    on_exit=("kill -9 $! 2>/dev/null" "${on_exit[@]}")
}
for _ in 1 2 3; do start_worker; done
drain_started="$(now)"
worker_kills=0
# Each second the longest-running worker is killed and a new one started.
for _ in 1 2 3 4 5 6 7 8; do
    sleep 1
    victim="${workers[0]}"
    workers=("${workers[@]:1}")
    kill -9 "$victim" 2>/dev/null && worker_kills=$((worker_kills + 1))
    wait "$victim" 2>/dev/null || true
    start_worker
done
open_jobs() { psql_db "SELECT count(*) FROM jobs WHERE id > $first_job AND state <> 'succeeded'"; }
for _ in $(seq 600); do [ "$(open_jobs)" = 0 ] && break; sleep 0.1; done
drained="$(elapsed "$drain_started")"
read -r succeeded parked left rerun < <(psql_db "SELECT count(*) FILTER (WHERE state = 'succeeded'), count(*) FILTER (WHERE state = 'parked'),
    count(*) FILTER (WHERE state NOT IN ('succeeded', 'parked')), count(*) FILTER (WHERE attempts > 1) FROM jobs WHERE id > $first_job" | tr '|' ' ')
echo "e) $worker_kills SIGKILLs of workers while $jobs_total jobs drained (3 workers, 16 jobs at once each): all done after ${drained} s;" \
    "succeeded $succeeded, parked $parked, left $left; run more than once: $rerun"
[ "$left" = 0 ] || fail "$left jobs were not done 60 s after the kills began: $(tail -n 3 "$work/kill-worker.log")"
[ "$parked" = 0 ] || fail "$parked jobs were parked after the workers were killed"
[ "$succeeded" = "$jobs_total" ] || fail "only $succeeded of $jobs_total jobs succeeded"
for pid in "${workers[@]}"; do stop_within "$pid" "$cap" "a worker"; done
echo "faults: all checks passed"
