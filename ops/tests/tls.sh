#!/usr/bin/env bash
# Caddy in front of the server, as ops/caddy/Caddyfile configures it, with Caddy's internal CA instead of ACME:
# HTTPS answers with a certificate that CA signed, HTTP redirects to HTTPS, HSTS and the security headers are set,
# big bodies are refused, the session cookie is Secure, the request id goes from Caddy into the server's JSON log
# line, and a forged X-Forwarded-For changes no audited address: neither through Caddy (which replaces it) nor
# sent straight to the server (which believes the header only from the proxy's address, 127.0.0.1).
# Needs the environment ops/test sets. Debian's caddy is installed when missing.
set -euo pipefail
. "$(dirname "$0")/../lib/test-server.sh"

if ! command -v caddy >/dev/null; then
    [ "$(id -u)" = 0 ] || fail "caddy is missing: install Debian's caddy package (apt-get install caddy)"
    echo "tls.sh: installing caddy"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy >/dev/null \
        || fail "apt-get install caddy failed"
    # The package starts its own Caddy on port 80; this test runs its own.
    command -v systemctl >/dev/null && systemctl disable --now caddy >/dev/null 2>&1 || true
fi

free_port() {
    local port=$((20000 + RANDOM % 20000))
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    echo "$port"
}

test_database kwtls
"$bin" migrate >/dev/null
"$bin" tenants apply tenants >/dev/null
pw="$(new_password)"
printf '%s' "$pw" | "$bin" users create --tenant betrieb --email tls@betrieb.test --name "Tina TLS" --role platform_admin --password-stdin >/dev/null

work="$(mktemp -d /tmp/kw-tls.XXXXXX)"
on_exit+=("rm -rf \"$work\"")
kw_port="$(free_port)"
http_port="$(free_port)"
https_port="$(free_port)"
[ "$http_port" != "$https_port" ] && [ "$kw_port" != "$http_port" ] && [ "$kw_port" != "$https_port" ] || https_port=$((https_port + 7))
site="https://localhost:$https_port"

KREISWERK_LOG_FORMAT=json KREISWERK_PUBLIC_URL="$site" KREISWERK_TRUSTED_PROXIES=127.0.0.1 \
    serve "$kw_port" "$work/server.log" --no-worker

XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" HOME="$work" \
    KREISWERK_SITE=localhost KREISWERK_TLS=internal KREISWERK_UPSTREAM="127.0.0.1:$kw_port" \
    CADDY_HTTP_PORT="$http_port" CADDY_HTTPS_PORT="$https_port" CADDY_ADMIN=off CADDY_GLOBAL_OPTIONS=skip_install_trust \
    caddy run --adapter caddyfile --config "$root/ops/caddy/Caddyfile" > "$work/caddy.log" 2>&1 & caddy_pid=$!
on_exit=("kill $caddy_pid 2>/dev/null; wait $caddy_pid 2>/dev/null" "${on_exit[@]}")

ca="$work/data/caddy/pki/authorities/local/root.crt"
# Every request goes to 127.0.0.1 (not ::1), from the loopback address given with --interface.
tls_curl() { curl -s --max-time 10 --resolve "localhost:$https_port:127.0.0.1" --resolve "localhost:$http_port:127.0.0.1" --cacert "$ca" "$@"; }
for _ in $(seq 100); do
    [ -f "$ca" ] && tls_curl -o /dev/null "$site/healthz" && break
    kill -0 "$caddy_pid" 2>/dev/null || fail "caddy stopped: $(cat "$work/caddy.log")"
    sleep 0.2
done
tls_curl -fo /dev/null "$site/healthz" || fail "no HTTPS answer from caddy on $site: $(tail -5 "$work/caddy.log")"

# HTTPS with a certificate the internal CA signed (curl verifies it against that CA only), TLS 1.2 or newer.
info="$(tls_curl -o /dev/null -w '%{http_code} %{ssl_verify_result}' "$site/healthz")"
[ "$info" = "200 0" ] || fail "HTTPS /healthz: $info"
if curl -s --max-time 5 --resolve "localhost:$https_port:127.0.0.1" --tls-max 1.1 -k -o /dev/null "$site/healthz"; then
    fail "caddy accepted TLS 1.1"
fi

# HTTP redirects to HTTPS, keeping the path. Caddy takes its https_port for an internal one (behind port
# forwarding), so the redirect names the standard port 443, as it does in production.
redirect="$(tls_curl -o /dev/null -w '%{http_code} %{redirect_url}' "http://localhost:$http_port/anmelden?x=1")"
[ "$redirect" = "308 https://localhost/anmelden?x=1" ] || fail "http is not redirected to https: $redirect"

# Security headers on a page, set by Caddy whatever the server answers.
headers="$(tls_curl -D - -o "$work/page.html" "$site/anmelden" -c "$work/jar")"
header() { grep -i "^$1:" <<<"$headers" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
[[ "$(header strict-transport-security)" == max-age=31536000* ]] || fail "no HSTS: $headers"
csp="$(header content-security-policy)"
expect_in "frame-ancestors 'none'" "$csp"
expect_in "script-src 'self'" "$csp"
grep -q "unsafe-inline" <<<"$csp" && fail "the Content-Security-Policy allows inline script or style: $csp"
[ "$(header x-content-type-options)" = nosniff ] || fail "no X-Content-Type-Options: $headers"
[ "$(header referrer-policy)" = no-referrer ] || fail "no Referrer-Policy: $headers"
[ -z "$(header server)" ] || fail "the Server header is still there: $(header server)"
request_id="$(header x-request-id)"
[[ "$request_id" =~ ^[0-9a-f-]{36}$ ]] || fail "no request id from caddy in the answer: '$request_id'"

# The server logged that request as one JSON line with Caddy's id and the route pattern.
python3 - "$work/server.log" "$request_id" <<'PY' || fail "no JSON log line with the request id: $(tail -5 "$work/server.log")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
hits = [l for l in lines if l.get("message") == "request" and l.get("request_id") == sys.argv[2]]
assert len(hits) == 1 and hits[0]["route"] == "/anmelden" and hits[0]["status"] == 200, hits
PY

# Request bodies beyond 1 MB are refused by Caddy.
head -c 1100000 /dev/zero | tr '\0' 'a' > "$work/big.json"
big="$(tls_curl -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'Expect:' --data-binary @"$work/big.json" "$site/api/v1/auth/login")" || true
[ "$big" = 413 ] || fail "a 1.1 MB body got $big, not 413"

# Signing in through the form: the session cookie is Secure and HttpOnly.
csrf="$(sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' "$work/page.html" | head -1)"
[ -n "$csrf" ] || fail "no CSRF field on the sign-in page"
signed_in="$(tls_curl -D - -o /dev/null -b "$work/jar" --data-urlencode email=tls@betrieb.test --data-urlencode "password=$pw" \
    --data-urlencode "_csrf=$csrf" "$site/anmelden")"
session="$(grep -i '^set-cookie: kw_session=' <<<"$signed_in" | tr -d '\r')"
[ -n "$session" ] || fail "no session cookie after signing in: $signed_in"
grep -qi '; *secure' <<<"$session" || fail "the session cookie is not Secure: $session"
grep -qi '; *httponly' <<<"$session" || fail "the session cookie is not HttpOnly: $session"

# Forged X-Forwarded-For: through Caddy from 127.0.0.3, and straight to the server from 127.0.0.2.
login='{"email":"niemand@betrieb.test","password":"falsch-falsch"}'
status="$(tls_curl --interface 127.0.0.3 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'X-Forwarded-For: 203.0.113.50' -d "$login" "$site/api/v1/auth/login")"
[ "$status" = 401 ] || fail "a wrong password through caddy got $status"
status="$(curl -s --interface 127.0.0.2 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'X-Forwarded-For: 203.0.113.51' -d "$login" "http://127.0.0.1:$kw_port/api/v1/auth/login")"
[ "$status" = 401 ] || fail "a wrong password sent straight to the server got $status"
audited="$(psql "$superuser_db_url" -Atc "SELECT string_agg(coalesce(client_address, '-'), ' ' ORDER BY id) FROM audit_log WHERE action = 'auth.sign_in_failed'")"
[ "$audited" = "127.0.0.3 127.0.0.2" ] || fail "audited client addresses: '$audited', expected '127.0.0.3 127.0.0.2' (the forged ones must not count)"

echo "tls.sh: HTTPS with the internal CA, redirect, HSTS and headers, 413, Secure cookie, request id, forwarded-for rule: all checks passed"
