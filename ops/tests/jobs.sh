#!/usr/bin/env bash
# The scheduler end to end through the real executable, with real worker processes:
# no-op jobs drained by two workers; a worker killed with -9 in the middle of a job, whose job
# another worker takes over after the lease and which takes effect exactly once; graceful stop
# gives claimed jobs back; jobs list/stats/retry/cancel; sweep --as-of; /metrics.
set -euo pipefail
. "$(dirname "$0")/../lib/test-server.sh"
. "$(dirname "$0")/../lib/common.sh"
test_database kwjobs
"$bin" migrate >/dev/null
"$bin" tenants apply tenants >/dev/null

logs="$(mktemp -d)"
workers=()
on_exit=("for p in \${workers[@]:-}; do kill -9 \$p 2>/dev/null; done; rm -rf \"$logs\"" "${on_exit[@]}")
# Mail through a real MTA client (msmtp) to a local SMTP sink: mail jobs succeed, and what they sent can be read.
ensure_system_packages
sink_port=$((19000 + $$ % 1000))
sink="$(start_mail_sink "$sink_port" "$logs/mail")"
on_exit=("kill $sink 2>/dev/null" "${on_exit[@]}")
export KREISWERK_SENDMAIL="$(mail_command "$sink_port")"
start_worker() { "$bin" worker --poll 0.2 --no-schedules "$@" >> "$logs/worker-${#workers[@]}.log" 2>&1 & workers+=($!); }
psql_db() { psql "$superuser_db_url" -Atqc "$1"; }
wait_for() {  # wait_for SECONDS DESCRIPTION SQL EXPECTED
    for _ in $(seq $(( $1 * 10 ))); do [ "$(psql_db "$3")" = "$4" ] && return 0; sleep 0.1; done
    fail "$2: expected $4, got $(psql_db "$3"); logs: $(tail -n 5 "$logs"/*.log)"
}

# 1. Two workers (leaving the schedules alone, so only these jobs queue) drain 2,000 no-op jobs; every job runs once.
expect_in "queued 2000 noop jobs" "$("$bin" jobs enqueue noop --count 2000)"
start_worker; start_worker
wait_for 60 "no-op jobs done" "SELECT count(*) FROM jobs WHERE kind = 'noop' AND state = 'succeeded' AND attempts = 1" 2000
stats="$("$bin" jobs stats)"
expect_in "default	succeeded	2000" "$stats"

# 2. kill -9 in the middle of a job: after the lease (3 s + 15 s) the other worker takes it over.
kill "${workers[1]}"; wait "${workers[1]}" 2>/dev/null || true  # SIGTERM: a clean stop
"$bin" jobs enqueue diagnostics.sleep --seconds 3 >/dev/null
wait_for 10 "sleep job claimed" "SELECT count(*) FROM jobs WHERE kind = 'diagnostics.sleep' AND state = 'running'" 1
victim="$(psql_db "SELECT locked_by FROM jobs WHERE kind = 'diagnostics.sleep'")"
[[ "$victim" == *":${workers[0]}:"* ]] || fail "expected worker ${workers[0]} to hold the job, not $victim"
kill -9 "${workers[0]}"
start_worker
wait_for 40 "job taken over after the lease" "SELECT state || ' ' || attempts FROM jobs WHERE kind = 'diagnostics.sleep'" "succeeded 2"
[ "$(psql_db "SELECT count(*) FROM audit_log WHERE action = 'diagnostics.slept'")" = 1 ] || fail "the killed attempt must leave no effect"
expect_in "recovered jobs whose lease expired" "$(cat "$logs"/*.log)"

# 3. Graceful stop while a job runs: the job finishes, the worker exits 0.
"$bin" jobs enqueue diagnostics.sleep --seconds 2 >/dev/null
wait_for 10 "second sleep job claimed" "SELECT count(*) FROM jobs WHERE kind = 'diagnostics.sleep' AND state = 'running'" 1
kill "${workers[2]}"
wait "${workers[2]}" || fail "worker did not stop cleanly: $(tail -n 5 "$logs"/worker-2.log)"
[ "$(psql_db "SELECT count(*) FROM jobs WHERE kind = 'diagnostics.sleep' AND state = 'succeeded'")" = 2 ] || fail "the running job was not finished on SIGTERM"

# 4. Operators: a parked job is listed, retried, cancelled.
psql_db "UPDATE jobs SET state = 'parked', last_error = 'mail server down', finished_at = now() WHERE id = (SELECT min(id) FROM jobs)" >/dev/null
parked="$("$bin" jobs list --state parked)"
expect_in "mail server down" "$parked"
id="$(awk 'NR == 2 { print $1 }' <<<"$parked")"
expect_in "job $id queued again" "$("$bin" jobs retry "$id")"
expect_in "job $id cancelled" "$("$bin" jobs cancel "$id")"
if "$bin" jobs cancel "$id" 2>/dev/null; then fail "a cancelled job cannot be cancelled again"; fi
if "$bin" jobs list --state lost 2>/dev/null; then fail "an unknown state must be refused"; fi

# 5. sweep --as-of runs the rules for every tenant (and is harmless to repeat).
expect_in "swept as of 2027-03-01T07:00:00Z" "$("$bin" jobs sweep --as-of 2027-03-01T08:00:00+01:00)"
[ "$(psql_db "SELECT count(*) FROM jobs WHERE kind = 'reminders.tenant' AND state = 'succeeded'")" = 21 ] || fail "one rules job per tenant"
if "$bin" jobs sweep --as-of "next monday" 2>/dev/null; then fail "a malformed --as-of must be refused"; fi

# 6. The server runs a worker too, and serves /metrics to platform administrators.
password="$(new_password)"
printf "%s" "$password" | "$bin" users create --tenant betrieb --email ops@kreiswerk.test --name Betrieb --role platform_admin --password-stdin >/dev/null
token="$("$bin" tokens create --email ops@kreiswerk.test --name metrics 2>/dev/null)"
[ -n "$token" ] || fail "no token"
serve 18884 "$logs/serve.log"
"$bin" jobs enqueue noop --count 5 >/dev/null
wait_for 20 "the server's worker ran the jobs" "SELECT count(*) FROM jobs WHERE kind = 'noop' AND state IN ('queued', 'running')" 0
metrics="$(curl -fsS -H "Authorization: Bearer $token" http://127.0.0.1:18884/metrics)"
expect_in 'kreiswerk_jobs{queue="default",state="succeeded"}' "$metrics"
expect_in "kreiswerk_jobs_lag_seconds" "$metrics"
expect_in 'kreiswerk_jobs_finished_total{kind="noop",outcome="succeeded"}' "$metrics"
[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18884/metrics)" = 401 ] || fail "/metrics must need a platform administrator"

# 7. The escalation ladder by deadline: a problem raised today is not overdue after a sweep as of seven weeks
#    on; after one as of nine weeks on it is overdue and the coordinators are reminded, but it stays municipal:
#    carrying it up is their decision (automatic_escalation is off in en-kreis.yaml).
for who in "cm@witten.test witten case_manager" "ks@en-kreis.test en-kreis district_coordinator"; do
    set -- $who
    printf "%s" "$password" | "$bin" users create --tenant "$2" --email "$1" --name "$1" --role "$3" --password-stdin >/dev/null
done
cm="$("$bin" tokens create --email cm@witten.test --name ladder 2>/dev/null)"
ks="$("$bin" tokens create --email ks@en-kreis.test --name ladder 2>/dev/null)"
call() { curl -fsS -X "$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' "http://127.0.0.1:18884$3" ${4:+--data "$4"}; }
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
client="$(call POST "$cm" /api/v1/clients '{"first_name":"Lina","last_name":"Sari","date_of_birth":"1990-05-05","consent_given_on":"2026-01-05"}' | field id)"
case="$(call POST "$cm" /api/v1/cases "{\"client_id\":\"$client\",\"channel\":\"level1\"}" | field id)"
problem="$(call POST "$cm" /api/v1/problems "{\"title\":\"Keine Kita-Plätze\",\"category\":\"structural_gap\",\"description\":\"Kurse ohne Betreuung.\",\"case_ids\":[\"$case\"]}" | field id)"
"$bin" jobs sweep --as-of "$(date -u -d '+49 days' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
[ "$(call GET "$ks" "/api/v1/problems/$problem" | field level)" = municipal ] || fail "before its deadline the problem stays municipal"
"$bin" jobs sweep --as-of "$(date -u -d '+63 days' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
# (the server's worker may have taken some of the sweep's jobs: wait for them)
wait_for 20 "the scheduler marked the problem overdue" "SELECT overdue_since IS NOT NULL FROM structural_problems WHERE id = '$problem'" t
overdue="$(call GET "$ks" "/api/v1/problems/$problem")"
[ "$(printf '%s' "$overdue" | field level)" = municipal ] || fail "past its deadline the problem stays where the coordinators left it: $overdue"
printf '%s' "$overdue" | python3 -c 'import json, sys; e = json.load(sys.stdin)["events"][-1]; sys.exit(0 if e["by_scheduler"] and e["kind"] == "overdue" else 1)' \
    || fail "the passed deadline is recorded as the scheduler's"
# 8. E-mail: every mail job the sweeps queued was delivered through msmtp to the sink, none failed or parked.
wait_for 30 "mail jobs delivered" "SELECT count(*) FROM jobs WHERE kind LIKE 'mail.%' AND state <> 'succeeded'" 0
# (a digest job with nothing new to tell sends nothing; the coordinator's digest names the overdue problem)
[ "$(ls "$logs/mail"/*.eml 2>/dev/null | wc -l)" -ge 1 ] || fail "no message reached the sink"
mail="$(cat "$logs/mail"/*.eml)"
expect_in "X-Envelope-To: ks@en-kreis.test" "$mail"
expect_in "Subject:" "$mail"
echo "jobs.sh: all checks passed"
