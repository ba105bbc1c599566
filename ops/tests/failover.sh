#!/usr/bin/env bash
# Failover (issue 18, README "High availability"): the Patroni cluster of ops/ha/ (three PostgreSQL 15 members,
# etcd, HAProxy, synchronous replication) on this machine, with `kreiswerk serve` and a `kreiswerk worker` connected
# through HAProxy under a steady write load (eight writers creating clients through the API):
#  a) the leader's postmaster is killed with SIGKILL: a synchronous replica takes over; prints the requests that failed
#     meanwhile (each must be a 503 with Retry-After: none hung, none 500), the seconds until writes succeed again and
#     the acknowledged writes lost (must be 0); the audit chain verifies, the worker goes on draining jobs;
#  b) the old leader rejoins as a replica by itself (Patroni: crash recovery, pg_rewind when needed) and every
#     member holds the same rows;
#  c) a planned switchover (patronictl switchover) under writers that retry a 503: every write succeeds, none lost.
# Bounded: every wait has a timeout; the cluster and every process are stopped on exit. About a minute and a half.
set -euo pipefail
. "$(dirname "$0")/../lib/test-server.sh"
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../ha/ha.sh"
command -v python3 >/dev/null || fail "python3 is needed"
ha_ensure_packages

deadline=5 # KREISWERK_DB_DEADLINE_SECONDS for serve and worker
export KREISWERK_DB_DEADLINE_SECONDS=$deadline KREISWERK_STOP_SECONDS=10
started_at="$(date +%s)"

# --- the cluster, the database through HAProxy, the server and a worker --------------------------------------------
ha="$(mktemp -d /tmp/kreiswerk-ha.XXXXXX)"
KREISWERK_PG_FSYNC=off ha_init "$ha" "$(ha_free_base)"
on_exit+=("ha_stop '$ha'; rm -rf '$ha'")
ha_start "$ha"
ha_env "$ha"
echo "cluster up in $(($(date +%s) - started_at)) s: $(ha_leader "$ha") leads, HAProxy takes writes on $HA_PRIMARY_PORT"
export KREISWERK_TEST_SUPERUSER_URL="$HA_SUPERUSER_URL"
export KREISWERK_TEST_OWNER_PASSWORD="$(random_secret)" KREISWERK_TEST_APP_PASSWORD="$(random_secret)" KREISWERK_TEST_WORKER_PASSWORD="$(random_secret)"
bootstrap_roles "$KREISWERK_TEST_SUPERUSER_URL" "$KREISWERK_TEST_OWNER_PASSWORD" "$KREISWERK_TEST_APP_PASSWORD" "$KREISWERK_TEST_WORKER_PASSWORD"
test_database kwfailover
"$bin" migrate >/dev/null
"$bin" tenants apply tenants >/dev/null
# member_sql NAME SQL: a statement on member NAME itself (not through HAProxy).
member_sql() { psql "postgres://postgres:$HA_SUPERUSER_PASSWORD@127.0.0.1:$(ha_member_port "$ha" "$1")/$db" -Atqc "$2"; }

work="$(mktemp -d)"
on_exit=("rm -rf '$work'" "${on_exit[@]}")
printf '%s' "$(new_password)" | "$bin" users create --tenant witten --email cm@witten.test --name "Carla Case" --role case_manager --password-stdin >/dev/null
token="$("$bin" tokens create --email cm@witten.test --name failover 2>/dev/null)"
port=$((21000 + $$ % 1000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
serve "$port" "$work/serve.log" --no-worker
base="http://127.0.0.1:$port"
"$bin" worker --poll 0.5 --no-schedules --concurrency 4 >"$work/worker.log" 2>&1 &
worker=$!
on_exit=("[ -n \"\${worker:-}\" ] && kill -9 \"\$worker\" 2>/dev/null" "${on_exit[@]}")
jobs_in() { psql "$superuser_db_url" -Atqc "SELECT count(*) FROM jobs WHERE kind = 'noop' AND state = '$1'"; }

# Writers: THREADS threads POST clients for SECONDS; with "retry" a write answered 503 or not at all is sent again
# (after 0.5 s) until it gets 201. One line per attempt: status, start, end, last name, Retry-After, attempt.
# Status 0: no answer within the server's last resort (two deadlines and 5 s, see faults.sh); -1: the connection failed.
cat >"$work/writers.py" <<'PY'
import json, sys, threading, time, urllib.error, urllib.request
base, token, out, seconds, threads, mode, prefix, timeout = sys.argv[1:9]
seconds, threads, timeout = float(seconds), int(threads), float(timeout)
lines, lock, end = [], threading.Lock(), time.time() + seconds

def post(name):
    body = json.dumps({"first_name": "Test", "last_name": name, "date_of_birth": "1980-01-01", "allow_duplicate": True}).encode()
    request = urllib.request.Request(base + "/api/v1/clients", data=body, method="POST",
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, "-"
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After") or "-"
    except Exception as error:  # 0: no answer in time (hung); -1: the connection failed (refused, reset)
        timed_out = isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError)
        return (0 if timed_out else -1), "-"

def writer(n):
    i = 0
    while time.time() < end:
        i += 1
        name, attempt = f"{prefix}{n}x{i}", 0
        while True:
            attempt += 1
            started = time.time()
            status, retry = post(name)
            with lock:
                lines.append(f"{status} {started:.3f} {time.time():.3f} {name} {retry} {attempt}")
            if status == 201 or mode != "retry" or time.time() > end + 30:
                break
            time.sleep(0.5)
        if status != 201:
            time.sleep(0.2)

workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
for t in workers: t.start()
for t in workers: t.join()
open(out, "w").write("\n".join(lines) + "\n")
PY
answer_within=$((2 * deadline + 5))
writers() { python3 "$work/writers.py" "$base" "$token" "$work/$1.requests" "$2" "$3" "$4" "$1" "$((answer_within + 1))" >"$work/$1.out" 2>&1; }

# lost PREFIX: acknowledged writes (201) of the writers PREFIX that the leader does not hold; prints "acknowledged lost".
lost() {
    awk '$1 == 201 { print $4 }' "$work/$1.requests" | sort -u >"$work/$1.acknowledged"
    member_sql "$(ha_leader "$ha")" "SELECT last_name FROM clients WHERE last_name LIKE '$1%'" | sort -u >"$work/$1.stored"
    echo "$(wc -l <"$work/$1.acknowledged") $(comm -23 "$work/$1.acknowledged" "$work/$1.stored" | wc -l)"
}

# --- a) SIGKILL of the leader's postmaster under writes ---------------------------------------------------------------
writers Kill 22 8 once &
load=$!
sleep 5
"$bin" jobs enqueue noop --count 2000 >/dev/null
old="$(ha_leader "$ha")"
postmaster="$(ha_postmaster "$ha" "$old")"
[ -n "$postmaster" ] || fail "no postmaster for the leader $old"
killed_at="$(now)"
kill -KILL "$postmaster"
new_leader() { local leader; leader="$(ha_leader "$ha")"; [ -n "$leader" ] && [ "$leader" != "$old" ]; }
for _ in $(seq 150); do new_leader && break; sleep 0.2; done
new_leader || fail "no member took over within 30 s of killing $old's postmaster: $(ha_list "$ha" 2>&1)"
new="$(ha_leader "$ha")"
promoted="$(elapsed "$killed_at")"
wait "$load" || fail "the writers failed: $(cat "$work/Kill.out")"
read -r failed unavailable no_retry_after errors other hung slowest back gap < <(python3 - "$work/Kill.requests" "$killed_at" <<'PY'
import sys
killed = float(sys.argv[2])
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
during = [r for r in rows if float(r[2]) >= killed]  # answered (or given up) after the kill
failed = [r for r in during if r[0] != "201"]
unavailable = [r for r in failed if r[0] == "503"]
no_retry_after = sum(1 for r in unavailable if r[4] == "-")
errors = sum(1 for r in failed if r[0].startswith("5") and r[0] != "503")
hung = sum(1 for r in failed if r[0] == "0")
other = len(failed) - len(unavailable) - errors - hung
slowest = max((float(r[2]) - float(r[1]) for r in during), default=0)
# Back: the first write started after the kill that succeeded, counted from the kill to its answer.
firsts = [float(r[2]) for r in rows if r[0] == "201" and float(r[1]) >= killed]
back = min(firsts) - killed if firsts else -1
# The longest stretch without an acknowledged write around the kill.
ends = sorted(float(r[2]) for r in rows if r[0] == "201" and float(r[2]) >= killed - 2)
gap = max((b - a for a, b in zip(ends, ends[1:])), default=-1)
print(len(failed), len(unavailable), no_retry_after, errors, other, hung, f"{slowest:.1f}", f"{back:.1f}", f"{gap:.1f}")
PY
)
read -r acknowledged lost_writes < <(lost Kill)
echo "a) killed $old's postmaster: $new leads $promoted s later; writes succeed again ${back} s after the kill (longest stretch without an acknowledged write ${gap} s)"
echo "a) requests failed during the failover: $failed (503 with Retry-After: $((unavailable - no_retry_after)), 503 without: $no_retry_after, 5xx: $errors, other: $other, hung: $hung; slowest answer ${slowest} s)"
extra=$(comm -13 "$work/Kill.acknowledged" "$work/Kill.stored" | wc -l)
echo "a) acknowledged writes: $acknowledged, lost: $lost_writes; stored though answered 503 (their COMMIT's answer was cut off): $extra"
[ "$lost_writes" = 0 ] || fail "acknowledged writes are missing on the new leader $new: $(comm -23 "$work/Kill.acknowledged" "$work/Kill.stored" | head -5)"
[ "$errors" = 0 ] && [ "$other" = 0 ] || fail "requests during the failover got other answers than 201 or 503: $(awk '$1 != 201 && $1 != 503 && $1 != 0' "$work/Kill.requests" | head -5; grep -i 'error' "$work/serve.log" | head -5)"
[ "$hung" = 0 ] || fail "$hung requests got no answer within $answer_within s"
[ "$no_retry_after" = 0 ] || fail "$no_retry_after answers 503 came without Retry-After"
python3 -c "import sys; sys.exit(0 if 0 <= $back < 20 else 1)" || fail "writes did not succeed again within 20 s of the kill (back: $back)"
verified="$("$bin" audit verify --seal)" || fail "the audit chain does not verify after the failover: $verified"
echo "a) audit verify after the failover: $(head -1 <<<"$verified") $(grep "^Head" <<<"$verified")"
"$bin" jobs enqueue noop --count 500 >/dev/null
for _ in $(seq 150); do [ "$(jobs_in queued)" = 0 ] && break; sleep 0.2; done
[ "$(jobs_in queued)" = 0 ] || fail "the worker stopped draining after the failover: $(jobs_in queued) of 2500 jobs still queued; $(tail -n 5 "$work/worker.log")"
[ "$(jobs_in parked)" = 0 ] || fail "$(jobs_in parked) jobs were parked"
kill -0 "$worker" 2>/dev/null || fail "the worker exited: $(tail -n 5 "$work/worker.log")"
# Jobs whose completion the kill cut off stay leased until their lease ends (timeout + 10 s), then run again.
leased="$(psql "$superuser_db_url" -Atqc "SELECT count(*) FROM jobs WHERE kind = 'noop' AND state = 'running' AND lease_until > now()")"
[ "$(jobs_in running)" = "$leased" ] || fail "jobs are running without a lease that ends"
echo "a) the worker drained 2500 jobs (2000 enqueued just before the kill, 500 after); $leased whose completion the kill cut off wait for their lease to run again; serve and worker ran on without a restart"

# --- b) the old leader rejoins as a replica ------------------------------------------------------------------------------
ha_wait 60 "$old did not rejoin as a replica: $(ha_list "$ha" 2>&1)" ha_role_is "$ha" "$old" replica
ha_wait 60 "replication is not healthy after $old rejoined: $(ha_list "$ha" 2>&1)" ha_streaming "$ha"
same_rows() {
    local count name
    count="$(member_sql "$new" "SELECT count(*) FROM clients")"
    for name in $HA_MEMBERS; do [ "$(member_sql "$name" "SELECT count(*) FROM clients" 2>/dev/null)" = "$count" ] || return 1; done
}
ha_wait 30 "the members do not hold the same clients" same_rows
how="crash recovery and streaming"
grep -q "running pg_rewind from" "$ha/$old.log" && how="pg_rewind"
# When Patroni first reported the old leader following the new one (its log's local time).
rejoined="$(python3 - "$ha/$old.log" "$killed_at" <<'PY'
import sys, time
for line in open(sys.argv[1], errors="replace"):
    if "a secondary, and following a leader" in line:
        at = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S")) + float("0." + line[20:23])
        if at > float(sys.argv[2]):
            print(f"{at - float(sys.argv[2]):.1f}"); break
else:
    print("?")
PY
)"
echo "b) $old was a replica again $rejoined s after the kill (by $how, Patroni's log); all three hold $(member_sql "$new" "SELECT count(*) FROM clients") clients"
ha_list "$ha"
psql "$HA_SUPERUSER_URL" -c "SELECT application_name AS member, state, sync_state FROM pg_stat_replication ORDER BY 1"

# --- c) a planned switchover under writers that retry ---------------------------------------------------------------------
writers Switch 14 4 retry &
load=$!
sleep 4
candidate=""
for name in $HA_MEMBERS; do [ "$name" != "$new" ] && ha_role_is "$ha" "$name" sync && candidate="$name"; done
[ -n "$candidate" ] || fail "no synchronous replica to switch over to: $(ha_list "$ha" 2>&1)"
switched_at="$(now)"
run_as_postgres patronictl -c "$ha/pg1.yml" switchover --leader "$new" --candidate "$candidate" --force >"$work/switchover.out" 2>&1 \
    || fail "patronictl switchover failed: $(cat "$work/switchover.out")"
ha_wait 30 "$candidate did not take over" ha_role_is "$ha" "$candidate" primary
switched="$(elapsed "$switched_at")"
wait "$load" || fail "the writers failed: $(cat "$work/Switch.out")"
read -r writes retried given_up bad < <(python3 - "$work/Switch.requests" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
names = {r[3] for r in rows}
succeeded = {r[3] for r in rows if r[0] == "201"}
retried = len({r[3] for r in rows if r[5] != "1"})
bad = sum(1 for r in rows if r[0] not in ("201", "503", "0", "-1"))
print(len(names), retried, len(names - succeeded), bad)
PY
)
read -r acknowledged lost_writes < <(lost Switch)
echo "c) switchover $new -> $candidate in $switched s: $writes writes, $retried retried after a 503 or no answer, $given_up given up, $bad answered other than 201/503; lost: $lost_writes"
[ "$given_up" = 0 ] || fail "$given_up writes did not succeed within 30 s of retrying across the switchover"
[ "$bad" = 0 ] || fail "requests across the switchover got other answers than 201 or 503: $(awk '$1 != 201 && $1 != 503 && $1 != 0' "$work/Switch.requests" | head -5)"
[ "$lost_writes" = 0 ] || fail "acknowledged writes are missing after the switchover: $(comm -23 "$work/Switch.acknowledged" "$work/Switch.stored" | head -5)"
"$bin" audit verify --seal >/dev/null || fail "the audit chain does not verify after the switchover"
stop_within "$worker" 13 "the worker" "$work/worker.log"
worker=""
echo "the worker stopped ${stopped} s after SIGTERM (exit status $status)"
echo "failover: all checks passed in $(($(date +%s) - started_at)) s"
