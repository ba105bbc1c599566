#!/usr/bin/env bash
# End to end through the real executable: migrate (also two at once), tenants
# plan/apply/list, bad tenant files, serve with /readyz, and graceful shutdown.
# Needs the environment ops/test sets (a throw-away cluster and its roles).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/.build/debug/kreiswerk"
cd "$root"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_in() { grep -qF -- "$1" <<<"$2" || fail "expected '$1' in: $2"; }

db="kwe2e_$$"
psql "$KREISWERK_TEST_SUPERUSER_URL" -qc "CREATE DATABASE $db OWNER kreiswerk_owner"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null
    psql "$KREISWERK_TEST_SUPERUSER_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
base="${KREISWERK_TEST_SUPERUSER_URL%/postgres}"
hostport="${base#*@}"
export DATABASE_URL="postgres://kreiswerk_owner:$KREISWERK_TEST_OWNER_PASSWORD@$hostport/$db"
export KREISWERK_APP_DATABASE_URL="postgres://kreiswerk_app:$KREISWERK_TEST_APP_PASSWORD@$hostport/$db"

# Two migrators at once: one applies, the other finds nothing to do.
"$bin" migrate > /tmp/kw-m1.$$ 2>&1 & p1=$!
"$bin" migrate > /tmp/kw-m2.$$ 2>&1 & p2=$!
wait $p1 || fail "migrator 1: $(cat /tmp/kw-m1.$$)"
wait $p2 || fail "migrator 2: $(cat /tmp/kw-m2.$$)"
both="$(cat /tmp/kw-m1.$$ /tmp/kw-m2.$$)"; rm -f /tmp/kw-m1.$$ /tmp/kw-m2.$$
[ "$(grep -c 'applied 0001_platform_core' <<<"$both")" = 1 ] || fail "expected exactly one application: $both"
expect_in "Nothing to migrate" "$both"
expect_in "Schema is current." "$("$bin" migrate --status)"

# Tenants: plan changes nothing, apply creates, a second apply changes nothing.
plan="$("$bin" tenants plan tenants)"
expect_in "+ create municipality witten (Stadt Witten)" "$plan"
expect_in "Plan: 15 to create" "$plan"
expect_in "Plan: 15 to create" "$("$bin" tenants plan tenants)"
expect_in "Applied: 15 to create" "$("$bin" tenants apply tenants)"
expect_in "No changes" "$("$bin" tenants apply tenants)"

listing="$("$bin" tenants list --district en-kreis --json)"
python3 - "$listing" <<'PY'
import json, sys
from decimal import Decimal
tenants = json.loads(sys.argv[1], parse_float=Decimal)
assert len(tenants) == 15, len(tenants)
totals = {}
for t in tenants:
    for year, fte in t["staff_shares"].get("case_management", {}).items():
        totals[year] = totals.get(year, 0) + fte
assert totals == {"2020": 6, "2021": 7, "2022": 14}, totals
PY

# A bad file: the error names file and field, the exit status says failure, nothing changes.
bad="$(mktemp -d)"; cp -r tenants/. "$bad/"
sed -i 's/kind: carrier/kind: charity/' "$bad/en-kreis/awo-en.yaml"
sed -i 's/2022: 1.5 }/2022: 1.6 }/' "$bad/en-kreis/ennepetal.yaml"
if out="$("$bin" tenants apply "$bad" 2>&1)"; then fail "apply of a bad folder succeeded"; fi
expect_in "en-kreis/awo-en.yaml:3: kind: 'charity' is not a tenant kind" "$out"
expect_in "nothing was applied" "$out"
rm -rf "$bad"
[ "$("$bin" tenants list --district en-kreis --json)" = "$listing" ] || fail "a failed apply changed the catalogue"

# Serve: ready, then SIGTERM ends it cleanly.
port=$((18000 + $$ % 1000))
"$bin" serve --port "$port" > /tmp/kw-serve.$$ 2>&1 & server=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] || fail "/readyz is not 200: $(cat /tmp/kw-serve.$$)"
kill -TERM $server
wait $server || fail "serve did not exit cleanly on SIGTERM: $(cat /tmp/kw-serve.$$)"
server=""
rm -f /tmp/kw-serve.$$

# The server refuses to run as the owner role.
if KREISWERK_APP_DATABASE_URL="$DATABASE_URL" timeout 20 "$bin" serve --port "$port" > /tmp/kw-owner.$$ 2>&1; then fail "serve ran as the owner"; fi
expect_in "row-level security would not protect tenants" "$(cat /tmp/kw-owner.$$)"
rm -f /tmp/kw-owner.$$
echo "cli: all checks passed"
