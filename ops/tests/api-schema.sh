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
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/.build/debug/kreiswerk"
cd "$root"

fail() { echo "FAIL: $*" >&2; exit 1; }

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

db="kwschema_$$"
psql "$KREISWERK_TEST_SUPERUSER_URL" -qc "CREATE DATABASE $db OWNER kreiswerk_owner"
server=""
log="/tmp/kw-schema-serve.$$"
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null
    psql "$KREISWERK_TEST_SUPERUSER_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -f "$log"
}
trap cleanup EXIT
base="${KREISWERK_TEST_SUPERUSER_URL%/postgres}"
hostport="${base#*@}"
export DATABASE_URL="postgres://kreiswerk_owner:$KREISWERK_TEST_OWNER_PASSWORD@$hostport/$db"
export KREISWERK_APP_DATABASE_URL="postgres://kreiswerk_app:$KREISWERK_TEST_APP_PASSWORD@$hostport/$db"

# The catalogue and a platform administrator with two personal access tokens.
"$bin" migrate >/dev/null || fail "migrate failed"
"$bin" tenants apply tenants >/dev/null || fail "tenants apply failed"
pw="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf '%s' "$pw" | "$bin" users create --tenant betrieb --email schema@betrieb.test --name "Schema Prüfer" \
    --role platform_admin --password-stdin >/dev/null || fail "users create failed"
token="$("$bin" tokens create --email schema@betrieb.test --name schemathesis 2>/dev/null)" || fail "tokens create failed"
token_last="$("$bin" tokens create --email schema@betrieb.test --name schemathesis-last 2>/dev/null)" || fail "tokens create failed"

port=$((20000 + $$ % 1000))
"$bin" serve --port "$port" > "$log" 2>&1 & server=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || fail "the server did not come up: $(cat "$log")"

schema="http://127.0.0.1:$port/api/v1/openapi.json"
st() {
    python3 -m schemathesis.cli run "$schema" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
        --phases examples,coverage,fuzzing \
        --max-examples "${KREISWERK_SCHEMA_EXAMPLES:-20}" --seed 20240601 --no-shrink \
        --generation-database none --workers 1 --request-timeout 10 \
        --continue-on-failure --no-color --output-truncate false "$@"
}
status=0
echo "api-schema: every operation but logout and token revocation" >&2
st -H "Authorization: Bearer $token" --exclude-operation-id logout --exclude-operation-id revokeToken || status=1
echo "api-schema: token revocation, then logout, with a token of their own" >&2
st -H "Authorization: Bearer $token_last" --include-operation-id revokeToken || status=1
st -H "Authorization: Bearer $token_last" --include-operation-id logout || status=1
if [ "$status" != 0 ]; then
    echo "--- server log (last 40 lines)" >&2; tail -40 "$log" >&2
    fail "schemathesis found responses that break the OpenAPI document (see above)"
fi
echo "api-schema: all checks passed"
