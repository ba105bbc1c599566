# Shared by the benchmarks in ops/bench: their tools, the closed-loop server run (wrk), pgbench -S
# and "PostgreSQL alone" (a request's own statements through pgbench). Source after common.sh;
# it defines functions and changes nothing by itself.

# bench_tools: installs wrk and jq when they are missing.
bench_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v jq >/dev/null || missing+=(jq)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || die "apt-get install ${missing[*]} failed"
    fi
}

# wait_ready URL: waits up to 10 s for URL to answer 2xx.
wait_ready() {
    for _ in $(seq 50); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
    die "$1 did not answer within 10 s"
}

# wrk_run URL TOKEN CONNECTIONS SECONDS: a closed loop of CONNECTIONS connections for SECONDS against URL
# with the bearer TOKEN; prints "requests/s p50 p99 timeouts" and fails on any non-2xx answer. wrk leaves
# requests that time out out of its latencies, so the timeout is long and timeouts are counted.
wrk_run() {
    local out
    out="$(wrk -t2 -c"$3" -d"$4s" --timeout 60s --latency -H "Authorization: Bearer $2" "$1")"
    grep -q "Non-2xx" <<<"$out" && { echo "$out" >&2; die "GET $1 answered non-2xx"; }
    awk '/^Requests\/sec/ {rps = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
        /Socket errors/ {for (i = 1; i < NF; i++) if ($i == "timeout") t = $(i + 1)}
        END {print rps, p50, p99, t + 0}' <<<"$out"
}

# wrk_warm URL TOKEN CONNECTIONS: 3 s not measured, so the server's pool connections (and PostgreSQL's
# caches in each new backend) are open before a measured run.
wrk_warm() {
    wrk -t2 -c"$3" -d3s -H "Authorization: Bearer $2" "$1" >/dev/null
}

# pgbench_select URL CONNECTIONS SECONDS: pgbench -S, prepared, on pgbench's own tables (pgbench -i in
# the database of URL); prints transactions/s.
pgbench_select() {
    local out
    out="$(pgbench -n -S -M prepared -c "$2" -j 2 -T "$3" "$1" 2>&1)" || { echo "$out" >&2; die "pgbench -S failed"; }
    grep -q "number of failed transactions: [1-9]" <<<"$out" && { echo "$out" >&2; die "pgbench -S: failed transactions"; }
    awk '/^tps/ {printf "%.0f\n", $3}' <<<"$out"
}

# pgbench_sql FILE URL CONNECTIONS SECONDS [-D NAME=VALUE]...: what PostgreSQL alone does for one request
# (FILE: the request's own statements, as the role of URL, prepared); prints "transactions/s p50 p99".
pgbench_sql() {
    local file="$1" url="$2" connections="$3" seconds="$4" out logs
    shift 4
    logs="$(mktemp -d)"
    out="$(pgbench -n -M prepared -f "$file" "$@" -c "$connections" -j 2 -T "$seconds" --log --log-prefix="$logs/tx" "$url" 2>&1)" \
        || { echo "$out" >&2; rm -rf "$logs"; die "pgbench with $(basename "$file") failed"; }
    grep -q "number of failed transactions: [1-9]" <<<"$out" && { echo "$out" >&2; rm -rf "$logs"; die "$(basename "$file"): failed transactions"; }
    awk '/^tps/ {printf "%.0f ", $3}' <<<"$out"
    cat "$logs"/tx.* | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {printf "%.2fms %.2fms\n", v[int(NR * 0.5)] / 1000, v[int(NR * 0.99)] / 1000}'
    rm -rf "$logs"
}

# token_hash TOKEN: the token's SHA-256 as bytea text (\x…), as api_tokens.token_hash stores it.
token_hash() { printf '\\x%s' "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"; }
