#!/usr/bin/env bash
# The JSON API against its own OpenAPI document: schemathesis (PyPI, 4.x; installed
# when missing) fuzzes every operation of /api/v1/openapi.json as a platform
# administrator and checks for server errors (5xx), undocumented status codes,
# wrong content types, undocumented or malformed headers and response bodies that
# do not match their schemas. Logout and token revocation would revoke the token
# under test, so they run last, with a token of their own (revocation first).
# Bounded: a fixed seed, a few examples per operation, no shrinking.
# Needs the environment ops/test sets (a throw-away cluster and its roles).
set -euo pipefail
. "$(dirname "$0")/../lib/test-server.sh"

ensure_schemathesis() {
    export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
    if ! python3 -c "import schemathesis.cli" 2>/dev/null; then
        python3 -m pip --version >/dev/null 2>&1 || fail "python3 -m pip is missing (Debian: apt-get install python3-pip)"
        echo "api-schema: installing schemathesis" >&2
        python3 -m pip install -q 'schemathesis>=4,<5' >&2 || fail "pip install schemathesis failed"
    fi
    local version
    version="$(python3 -c 'import importlib.metadata as m; print(m.version("schemathesis"))')"
    [ "${version%%.*}" = 4 ] || fail "schemathesis 4.x is needed, found $version"
}
ensure_schemathesis

test_database kwschema
log="/tmp/kw-schema-serve.$$"
work=""
on_exit+=('[ -n "$work" ] && rm -rf "$work"')

# The catalogue and a platform administrator with two personal access tokens.
"$bin" migrate >/dev/null || fail "migrate failed"
"$bin" tenants apply tenants >/dev/null || fail "tenants apply failed"
pw="$(new_password)"
printf '%s' "$pw" | "$bin" users create --tenant betrieb --email schema@betrieb.test --name "Schema Prüfer" \
    --role platform_admin --password-stdin >/dev/null || fail "users create failed"
token="$("$bin" tokens create --email schema@betrieb.test --name schemathesis 2>/dev/null)" || fail "tokens create failed"
token_last="$("$bin" tokens create --email schema@betrieb.test --name schemathesis-last 2>/dev/null)" || fail "tokens create failed"
printf '%s' "$pw" | "$bin" users create --tenant witten --email cm@witten.test --name "Cara Case" \
    --role case_manager --password-stdin >/dev/null || fail "users create (case manager) failed"
token_cm="$("$bin" tokens create --email cm@witten.test --name schemathesis-cm 2>/dev/null)" || fail "tokens create (case manager) failed"
# Accounts to read and change through /users/{id}: a second platform administrator
# (not the one under test, whose roles the fuzzing would change) and one in witten.
printf '%s' "$pw" | "$bin" users create --tenant betrieb --email ziel@betrieb.test --name "Ziel Konto" \
    --role platform_admin --password-stdin >/dev/null || fail "users create (betrieb) failed"
printf '%s' "$pw" | "$bin" users create --tenant witten --email fall@witten.test --name "Fall Managerin" \
    --role case_manager --password-stdin >/dev/null || fail "users create (witten) failed"
printf '%s' "$pw" | "$bin" users create --tenant en-kreis --email ks@en-kreis.test --name "Kai Koordination" \
    --role district_coordinator --password-stdin >/dev/null || fail "users create (coordinator) failed"
token_ks="$("$bin" tokens create --email ks@en-kreis.test --name schemathesis-ks 2>/dev/null)" || fail "tokens create (coordinator) failed"
user_id() { "$bin" users list --tenant "$1" --json | python3 -c 'import json, sys; print(next(u["id"] for u in json.load(sys.stdin) if u["email"] == sys.argv[1]))' "$2"; }
target_ids="\"$(user_id betrieb ziel@betrieb.test)\", \"$(user_id witten fall@witten.test)\""

# Real objects of Witten for the case work: a client, a case with a goal, a referral to AWO's MBE,
# a conference with an action item (created through the API as the case manager).
api() { curl -fsS -X "$1" -H "Authorization: Bearer ${as:-$token_cm}" -H 'Content-Type: application/json' "http://127.0.0.1:$port$2" ${3:+--data "$3"}; }
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
seed_case_work() {
    local client case service
    client="$(api POST /api/v1/clients '{"first_name":"Amira","last_name":"Haddad","date_of_birth":"1994-03-12","consent_given_on":"2026-01-05"}' | field id)"
    case="$(api POST /api/v1/cases "{\"client_id\":\"$client\",\"channel\":\"level1\",\"reason\":\"Wohnung\"}" | field id)"
    goal="$(api POST "/api/v1/cases/$case/goals" '{"area":"housing","text":"Wohnung finden","agreed_on":"2026-02-01","review_on":"2026-05-01"}' | field id)"
    service="$(api GET /api/v1/services | python3 -c 'import json, sys; print(next(s["id"] for s in json.load(sys.stdin) if s["key"] == "mbe-awo"))')"
    referral="$(api POST "/api/v1/cases/$case/referrals" "{\"service_id\":\"$service\",\"reason\":\"Beratung\",\"consent_given_on\":\"2026-02-01\"}" | field id)"
    conference="$(api POST "/api/v1/cases/$case/conferences" '{"kind":"municipal","title":"Wohnung","scheduled_at":"2026-12-01T10:00:00Z","summary":"Wohnung zu klein.","participants":["awo-en"],"consent_given_on":"2026-03-01"}' | field id)"
    item="$(api POST "/api/v1/conferences/$conference/action-items" '{"text":"Wohnungsamt anrufen","owner":"AWO EN","due_on":"2026-12-15"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["action_items"][0]["id"])')"
    case_ids="\"$client\", \"$case\", \"$referral\", \"$conference\""
    # The coordination layer: a problem raised from the case, a district project group with a meeting,
    # a steering meeting and a decision paper (as the district coordinator).
    local problem group meeting paper
    problem="$(api POST /api/v1/problems "{\"title\":\"Wartezeiten\",\"category\":\"structural_gap\",\"description\":\"Lange Wartezeiten.\",\"case_ids\":[\"$case\"]}" | field id)"
    group="$(as="$token_ks" api POST /api/v1/project-groups '{"level":"district","name":"PG ABH"}' | field id)"
    as="$token_ks" api POST "/api/v1/project-groups/$group/meetings" '{"scheduled_at":"2027-01-10T10:00:00Z"}' >/dev/null
    meeting="$(as="$token_ks" api POST /api/v1/steering-group/meetings '{"scheduled_at":"2027-02-10T09:00:00Z"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["meetings"][0]["id"])')"
    paper="$(as="$token_ks" api POST /api/v1/steering-group/papers "{\"title\":\"Vorlage\",\"proposal\":\"Vorschlag\",\"group_id\":\"$group\"}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["papers"][0]["id"])')"
    coordination_ids="\"$problem\", \"$group\", \"$meeting\", \"$paper\""
}

port=$((20000 + $$ % 1000))
serve "$port" "$log"
seed_case_work

# Schemathesis works in a directory of its own (it keeps caches in its working
# directory). Half of the generated ids (accounts, and Witten's client, case, referral,
# conference, goal and action item), slugs and If-Match values are real ones, so the
# fuzzing also reaches the successful responses. The hooks put a NUL
# character into some bodies and query strings (see api_schema_hooks.py).
work="$(mktemp -d /tmp/kw-schemathesis.XXXXXX)"
cat > "$work/schemathesis.toml" <<TOML
hooks = "$root/ops/tests/api_schema_hooks.py"

[cache]
enabled = false

[dictionaries]
ids = { values = [$target_ids, $case_ids, $coordination_ids] }
goals = { values = ["$goal"] }
items = { values = ["$item"] }
tenants = { values = ["witten", "en-kreis", "awo-en"] }
districts = { values = ["en-kreis"] }
versions = { values = ['"1"', '"2"', '"3"', '"4"'] }

[parameters]
"path.id" = { dictionary = "ids", probability = 0.5 }
"path.goal" = { dictionary = "goals", probability = 0.5 }
"path.item" = { dictionary = "items", probability = 0.5 }
"path.slug" = { dictionary = "tenants", probability = 0.5 }
"query.tenant" = { dictionary = "tenants", probability = 0.5 }
"header.If-Match" = { dictionary = "versions", probability = 0.5 }
"body.tenant" = { dictionary = "tenants", probability = 0.5 }
"body.district" = { dictionary = "districts", probability = 0.5 }
TOML


schema="http://127.0.0.1:$port/api/v1/openapi.json"
st() {
    (cd "$work" && python3 -m schemathesis.cli --config-file "$work/schemathesis.toml" run "$schema" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
        --phases examples,coverage,fuzzing \
        --max-examples "${KREISWERK_SCHEMA_EXAMPLES:-20}" --seed 20240601 --no-shrink \
        --generation-database none --workers 1 --request-timeout 10 \
        --continue-on-failure --no-color --output-truncate false "$@")
}
status=0
echo "api-schema: every operation but logout and token revocation" >&2
st -H "Authorization: Bearer $token" --exclude-operation-id logout --exclude-operation-id revokeToken || status=1
echo "api-schema: case work, as a case manager of Witten (the platform administrator gets 403 there)" >&2
st -H "Authorization: Bearer $token_cm" --include-path-regex '^/api/v1/(clients|client-fields|cases|services|referrals|conferences|reports/inbox|reports/[^/]+/decision)' || status=1
echo "api-schema: the coordination layer (and the experience reports), as the district coordinator and as the case manager" >&2
st -H "Authorization: Bearer $token_ks" --include-path-regex '^/api/v1/(problems|polls|project-groups|steering-group|meetings|districts/[^/]+/(milestones|experience-reports))' || status=1
st -H "Authorization: Bearer $token_cm" --include-path-regex '^/api/v1/(problems|polls)' || status=1
echo "api-schema: token revocation, then logout, with a token of their own" >&2
st -H "Authorization: Bearer $token_last" --include-operation-id revokeToken || status=1
st -H "Authorization: Bearer $token_last" --include-operation-id logout || status=1
if [ "$status" != 0 ]; then
    echo "--- server log (last 40 lines)" >&2; tail -40 "$log" >&2
    fail "schemathesis found responses that break the OpenAPI document (see above)"
fi
echo "api-schema: all checks passed"
