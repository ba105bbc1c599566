#!/usr/bin/env bash
# End to end through the real executable: migrate (also two at once), tenants
# plan/apply/list, bad tenant files, users and tokens (bearer, revoked, sign-in
# after a password reset), serve with /readyz, graceful shutdown, and the audit chain.
# Needs the environment ops/test sets (a throw-away cluster and its roles).
set -euo pipefail
. "$(dirname "$0")/../lib/test-server.sh"
test_database kwe2e

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
expect_in "Plan: 21 to create" "$plan"
expect_in "Plan: 21 to create" "$("$bin" tenants plan tenants)"
expect_in "Applied: 21 to create" "$("$bin" tenants apply tenants)"
expect_in "No changes" "$("$bin" tenants apply tenants)"

listing="$("$bin" tenants list --district en-kreis --json)"
python3 - "$listing" <<'PY'
import json, sys
from decimal import Decimal
tenants = json.loads(sys.argv[1], parse_float=Decimal)
assert len(tenants) == 21, len(tenants)
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

# Accounts: the first platform administrator; duplicates, short passwords, district
# roles outside a district and unknown tenants are refused.
pw="erstes-Passwort-$$"
out="$(printf '%s' "$pw" | "$bin" users create --tenant betrieb --email ops@betrieb.test --name "Otto Ops" --role platform_admin --password-stdin 2>&1)" \
    || fail "users create: $out"
python3 - "$("$bin" users list --tenant betrieb --json)" <<'PY'
import json, sys
users = json.loads(sys.argv[1])
assert [(u["email"], u["display_name"], u["roles"]) for u in users] == [("ops@betrieb.test", "Otto Ops", ["platform_admin"])], users
PY
if out="$(printf '%s' "$pw" | "$bin" users create --tenant betrieb --email ops@betrieb.test --name "Otto Ops" --role platform_admin --password-stdin 2>&1)"; then fail "a second account with the same e-mail was created"; fi
expect_in "schon ein Konto" "$out"
if out="$(printf '%s' kurz | "$bin" users create --tenant betrieb --email kurz@betrieb.test --name "Kurz" --role platform_admin --password-stdin 2>&1)"; then fail "a 4-character password was accepted"; fi
expect_in "10 Zeichen" "$out"
if out="$(printf '%s' "$pw" | "$bin" users create --tenant witten --email koord@witten.test --name "Koordination" --role district_coordinator --password-stdin 2>&1)"; then fail "a district role was given in a municipality"; fi
expect_in "district_coordinator does not exist in witten (a municipality)" "$out"
if out="$(printf '%s' "$pw" | "$bin" users create --tenant nirgendwo --email wer@nirgendwo.test --name "Wer" --role case_manager --password-stdin 2>&1)"; then fail "an account in an unknown tenant was created"; fi
expect_in "nirgendwo" "$out"
[ "$("$bin" users list --tenant witten --json | tr -d '[:space:]')" = "[]" ] || fail "a refused account was created in witten"

# A personal access token: the secret alone on stdout, the id on stderr.
secret="$("$bin" tokens create --email ops@betrieb.test --name ci 2>/tmp/kw-token.$$)" || fail "tokens create: $(cat /tmp/kw-token.$$)"
[ "$(wc -l <<<"$secret")" = 1 ] && [[ "$secret" == kwp_* ]] || fail "tokens create printed more than the secret: $secret"
token_id="$(sed -n "s/^token \([0-9A-Fa-f-]*\) 'ci' created.*/\1/p" /tmp/kw-token.$$)"; rm -f /tmp/kw-token.$$
[ -n "$token_id" ] || fail "tokens create did not name the token's id"

# Serve: ready, then SIGTERM ends it cleanly.
port=$((18000 + $$ % 1000))
serve "$port" /tmp/kw-serve.$$
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] || fail "/readyz is not 200: $(cat /tmp/kw-serve.$$)"

# The token works as a bearer token until it is revoked; then 401 as a problem document.
api="http://127.0.0.1:$port/api/v1"
[ "$(curl -s -o /tmp/kw-me.$$ -w '%{http_code}' -H "Authorization: Bearer $secret" "$api/me")" = 200 ] || fail "GET /me with the token is not 200: $(cat /tmp/kw-me.$$)"
python3 -c 'import json, sys; me = json.load(open(sys.argv[1])); assert me["email"] == "ops@betrieb.test", me' /tmp/kw-me.$$ || fail "GET /me: $(cat /tmp/kw-me.$$)"
expect_in "$token_id" "$(curl -s -H "Authorization: Bearer $secret" "$api/tokens")"
expect_in "revoked" "$("$bin" tokens revoke --id "$token_id" 2>&1)"
headers="$(curl -s -o /tmp/kw-me.$$ -D - -H "Authorization: Bearer $secret" "$api/me")"
expect_in " 401" "$(head -1 <<<"$headers")"
expect_in "content-type: application/problem+json" "$(tr '[:upper:]' '[:lower:]' <<<"$headers")"
rm -f /tmp/kw-me.$$

# A new password: it signs in, the old one no longer does.
newpw="zweites-Passwort-$$"
expect_in "reset" "$(printf '%s' "$newpw" | "$bin" users reset-password --email ops@betrieb.test --password-stdin 2>&1)"
login() { curl -s -o /tmp/kw-login.$$ -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "$(python3 -c 'import json, sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' ops@betrieb.test "$1")" "$api/auth/login"; }
[ "$(login "$newpw")" = 200 ] || fail "sign-in with the new password is not 200: $(cat /tmp/kw-login.$$)"
python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["token"]' /tmp/kw-login.$$ || fail "sign-in gave no token: $(cat /tmp/kw-login.$$)"
[ "$(login "$pw")" = 401 ] || fail "sign-in with the old password is not 401: $(cat /tmp/kw-login.$$)"
rm -f /tmp/kw-login.$$

# A tenant onboarded through the API, written out by `tenants export` into a copy of the folder: the plan then
# shows the file taking it over and nothing else.
[ "$(login "$newpw")" = 200 ] || fail "sign-in for onboarding is not 200: $(cat /tmp/kw-login.$$)"
bearer="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' /tmp/kw-login.$$)"; rm -f /tmp/kw-login.$$
status="$(curl -s -o /tmp/kw-onboard.$$ -w '%{http_code}' -H "Authorization: Bearer $bearer" -H 'Content-Type: application/json' \
    -d '{"slug":"diakonie-mark-ruhr","name":"Diakonie Mark-Ruhr","kind":"carrier","district":"en-kreis","organisational_unit":"Migrationsdienst","staff_shares":[{"programme":"case_management","year":2026,"fte":"1.25"}],"admin":{"email":"admin@diakonie.test","display_name":"Dora"}}' \
    "$api/tenants")"
[ "$status" = 201 ] || fail "onboarding through the API is not 201: $(cat /tmp/kw-onboard.$$)"; rm -f /tmp/kw-onboard.$$
exported="$(mktemp -d)"; cp -r tenants/. "$exported/"
expect_in "case_management: { 2026: 1.25 }" "$("$bin" tenants export en-kreis diakonie-mark-ruhr)"
"$bin" tenants export en-kreis --write "$exported" >/dev/null || fail "tenants export --write failed"
plan="$("$bin" tenants plan "$exported")"; rm -rf "$exported"
expect_in "managed_by: api → files" "$plan"
expect_in "Plan: 0 to create, 1 to update, 0 to deactivate." "$plan"
[ "$(grep -c '^    ' <<<"$plan")" = 1 ] || fail "the exported file changes more than managed_by: $plan"

kill -TERM $server
wait $server || fail "serve did not exit cleanly on SIGTERM: $(cat /tmp/kw-serve.$$)"
server=""
rm -f /tmp/kw-serve.$$

# The server refuses to run as the owner role.
if KREISWERK_APP_DATABASE_URL="$DATABASE_URL" timeout -k 5 20 "$bin" serve --port "$port" > /tmp/kw-owner.$$ 2>&1; then fail "serve ran as the owner"; fi
expect_in "row-level security would not protect tenants" "$(cat /tmp/kw-owner.$$)"
rm -f /tmp/kw-owner.$$

# The built-in worker refuses the request role's connection: only kreiswerk_worker claims jobs.
if KREISWERK_WORKER_DATABASE_URL="$KREISWERK_APP_DATABASE_URL" timeout -k 5 20 "$bin" serve --port "$port" > /tmp/kw-worker.$$ 2>&1; then
    fail "serve ran its worker as the request role"
fi
expect_in "may not claim jobs" "$(cat /tmp/kw-worker.$$)"
rm -f /tmp/kw-worker.$$

# The audit chain: intact after sealing; an entry changed behind the triggers' back is found.
out="$("$bin" audit verify --seal 2>&1)" || fail "audit verify --seal: $out"
expect_in "Chain intact" "$out"
psql "$superuser_db_url" -qc "SET session_replication_role = replica; UPDATE audit_log SET detail = '{\"x\":\"y\"}' WHERE seq = 2" >/dev/null
if out="$("$bin" audit verify 2>&1)"; then fail "audit verify passed a tampered chain: $out"; fi
expect_in "BROKEN at entry #2" "$out"
echo "cli: all checks passed"
