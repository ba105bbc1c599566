# Shared by the end-to-end checks in ops/tests/ (sourced, never run): a database of their own on the
# throw-away cluster that ops/test starts, the server on a port of their own, and
# cleanup on exit. Source it after `set -euo pipefail`.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${KREISWERK_BIN:-$root/.build/debug/kreiswerk}"  # KREISWERK_BIN: another build (e.g. a copy while a build runs)
cd "$root"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_in() { grep -qF -- "$1" <<<"$2" || fail "expected '$1' in: $2"; }

# Commands run on exit, in order (the server first, the database last).
on_exit=()
run_on_exit() { for step in "${on_exit[@]}"; do eval "$step" || true; done; }
trap run_on_exit EXIT

# test_database PREFIX: creates PREFIX_PID owned by kreiswerk_owner, dropped on exit; sets db,
# and exports DATABASE_URL (owner), KREISWERK_APP_DATABASE_URL (request role) and
# KREISWERK_WORKER_DATABASE_URL (job worker role) for it, and a KREISWERK_TOTP_KEY for serve.
test_database() {
    db="$1_$$"
    psql "$KREISWERK_TEST_SUPERUSER_URL" -qc "CREATE DATABASE $db OWNER kreiswerk_owner"
    on_exit+=("psql \"\$KREISWERK_TEST_SUPERUSER_URL\" -qc \"DROP DATABASE IF EXISTS $db WITH (FORCE)\" >/dev/null 2>&1")
    local base="${KREISWERK_TEST_SUPERUSER_URL%/postgres}"
    local hostport="${base#*@}"
    superuser_db_url="$base/$db"
    export DATABASE_URL="postgres://kreiswerk_owner:$KREISWERK_TEST_OWNER_PASSWORD@$hostport/$db"
    export KREISWERK_APP_DATABASE_URL="postgres://kreiswerk_app:$KREISWERK_TEST_APP_PASSWORD@$hostport/$db"
    export KREISWERK_WORKER_DATABASE_URL="postgres://kreiswerk_worker:$KREISWERK_TEST_WORKER_PASSWORD@$hostport/$db"
    export KREISWERK_TOTP_KEY="${KREISWERK_TOTP_KEY:-$(head -c 32 /dev/urandom | base64)}"
}

# serve PORT LOG [ARGS...]: starts `kreiswerk serve` in the background and waits until /healthz
# answers; sets server (the pid) and stops it on exit unless it was stopped before.
serve() {
    local port="$1" log="$2"; shift 2
    "$bin" serve --port "$port" "$@" > "$log" 2>&1 & server=$!
    on_exit=("[ -n \"\${server:-}\" ] && kill \"\$server\" 2>/dev/null; rm -f \"$log\"" "${on_exit[@]}")
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0; sleep 0.2; done
    fail "the server did not come up on port $port: $(cat "$log")"
}

# new_password: a random password for test accounts.
new_password() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }

# Seconds since the epoch, with milliseconds.
now() { date +%s.%N | cut -c1-14; }
elapsed() { python3 -c "print(f'{$(now) - $1:.1f}')"; }

# stop_within PID SECONDS WHAT [LOG]: SIGTERM to PID (a child of this shell), then sets stopped to the seconds until it
# had exited (and status to its exit status); fails past SECONDS + 2 (then it is killed), and when the process had
# already ended before SIGTERM (a service should run until it is told to stop; the tail of LOG says why). It waits for the child itself, not for its pid
# to vanish from /proc: pids are reused within seconds here (pid_max 32768), and an exited worker's pid once looked alive.
stop_within() {
    local pid="$1" limit="$2" what="$3" log="${4:-}" started watchdog
    started="$(now)"
    # The shell's own list of its running children (a signal to an ended child's pid could reach another process).
    if ! jobs -rp | grep -qx "$pid" || ! kill -TERM "$pid" 2>/dev/null; then
        status=0
        wait "$pid" 2>/dev/null || status=$?
        fail "$what had ended before SIGTERM, by itself, with exit status $status${log:+; the end of its log: $(tail -n 25 "$log")}"
    fi
    (sleep "$((limit + 2))" && kill -KILL "$pid" 2>/dev/null && echo killed >"/tmp/kreiswerk-stop-within.$pid") &
    watchdog=$!
    status=0
    wait "$pid" 2>/dev/null || status=$?
    stopped="$(elapsed "$started")"
    kill "$watchdog" 2>/dev/null || true
    wait "$watchdog" 2>/dev/null || true
    if [ -f "/tmp/kreiswerk-stop-within.$pid" ]; then
        rm -f "/tmp/kreiswerk-stop-within.$pid"
        fail "$what did not stop within $((limit + 2)) s of SIGTERM (killed)${log:+: $(tail -n 20 "$log")}"
    fi
}
