# run_watched QUIET_SECONDS LOG COMMAND...: runs COMMAND with its output in LOG and on standard output; if LOG stays
# unchanged for QUIET_SECONDS, the command is taken to hang: prints what is needed to find out why (the Swift tests
# that started and never finished, the process's database connections and threads), stops it and returns 124. Sourced.
# The shell itself waits for COMMAND (pids are reused within seconds here: a pid is no proof that a process still runs).
run_watched() {
    local quiet="$1" log="$2"; shift 2
    local marker="$log.hung"
    rm -f "$marker"
    "$@" >"$log" 2>&1 &
    local pid=$!
    tail -n +1 -f "$log" &
    local follower=$!
    watch_quiet "$pid" "$quiet" "$log" "$marker" "$*" &
    local monitor=$!
    local status=0
    wait "$pid" || status=$?
    kill "$monitor" 2>/dev/null || true
    wait "$monitor" 2>/dev/null || true
    sleep 1  # the follower prints the last lines
    kill "$follower" 2>/dev/null || true
    wait "$follower" 2>/dev/null || true
    if [ -f "$marker" ]; then
        rm -f "$marker"
        return 124
    fi
    return "$status"
}

# watch_quiet PID QUIET_SECONDS LOG MARKER WHAT: the monitor of run_watched (killed by it when PID ends).
watch_quiet() {
    local pid="$1" quiet="$2" log="$3" marker="$4" what="$5" last_size=-1 last_change size
    last_change="$(date +%s)"
    while sleep 5; do
        size="$(stat -c %s "$log")"
        if [ "$size" != "$last_size" ]; then last_size="$size"; last_change="$(date +%s)"; continue; fi
        [ $(($(date +%s) - last_change)) -lt "$quiet" ] && continue
        touch "$marker"
        echo "HANG: no output for $quiet s from: $what" >&2
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
            next="${next% }"
            descendants="$descendants $next"
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
        return
    done
}

# unfinished_tests LOG LIVE: reads `swift test list` on standard input and prints a --filter expression for the
# tests that LOG shows no end of (started and never finished, or never started), leaving out those LIVE matches.
unfinished_tests() {
    python3 -c '
import re, sys
log, live = open(sys.argv[1], errors="replace").read(), re.compile(sys.argv[2])
ended = set(re.findall(r"[✔✘] Test (\w+)\(", log))
todo = [name.strip() for name in sys.stdin if "/" in name and not live.search(name)]
todo = [name for name in todo if name.split("/")[-1].split("(")[0] not in ended]
print("|".join(re.escape(name) for name in todo))
' "$1" "$2"
}
