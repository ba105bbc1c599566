# run_watched QUIET_SECONDS LOG COMMAND...: runs COMMAND with its output in LOG and on standard output; if LOG stays
# unchanged for QUIET_SECONDS, the command is taken to hang: prints what is needed to find out why (the Swift tests
# that started and never finished, the process's database connections and threads), stops it and fails. Sourced.
run_watched() {
    local quiet="$1" log="$2"; shift 2
    "$@" >"$log" 2>&1 &
    local pid=$! last_size=-1 last_change size
    last_change="$(date +%s)"
    tail -n +1 -f --pid="$pid" "$log" &
    local follower=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 5
        size="$(stat -c %s "$log")"
        if [ "$size" != "$last_size" ]; then last_size="$size"; last_change="$(date +%s)"; continue; fi
        [ $(($(date +%s) - last_change)) -lt "$quiet" ] && continue
        kill "$follower" 2>/dev/null || true
        echo "HANG: no output for $quiet s from: $*" >&2
        python3 - "$log" >&2 <<'PY' || true
import re, sys
started, ended = [], set()
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"Test (\S+\(\S*\)) (started|passed|failed|skipped)", line)
    if m:
        (started.append if m.group(2) == "started" else ended.add)(m.group(1))
print("tests started and never finished:", [t for t in started if t not in ended] or "none")
PY
        local child descendants="$pid" next="$pid"
        while next="$(pgrep -P "$(tr ' ' ',' <<<"$next")" | tr '\n' ' ')"; [ -n "${next// /}" ]; do
            next="${next% }"; descendants="$descendants $next"
        done
        for child in $descendants; do
            echo "--- process $child: $(tr '\0' ' ' </proc/"$child"/cmdline 2>/dev/null | cut -c1-200)" >&2
            ss -tnp 2>/dev/null | grep "pid=$child," >&2 || echo "(no TCP connections)" >&2
            if command -v gdb >/dev/null; then
                timeout 120 gdb -p "$child" -batch -ex 'set complaints 0' -ex 'thread apply all bt 12' 2>/dev/null \
                    | grep -E '^Thread|^#' | cut -c1-220 >&2 || true
            fi
        done
        kill -KILL $descendants 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        return 124
    done
    local status=0
    wait "$pid" || status=$?
    wait "$follower" 2>/dev/null || true
    return "$status"
}
