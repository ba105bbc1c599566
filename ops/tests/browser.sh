#!/usr/bin/env bash
# End to end in a real browser: headless Chromium (Selenium) signs in, onboards a
# tenant, accepts the invitation and checks accessibility (axe), keyboard focus
# and a phone's width, see browser_test.py. Installs Chromium, its driver,
# selenium and axe-selenium-python when missing. Screenshots go to
# .test-artifacts/browser/. Needs the environment ops/test sets (a throw-away
# cluster and its roles).
set -euo pipefail
. "$(dirname "$0")/../lib/test-server.sh"
artifacts="${KREISWERK_ROOT:-$root}/.test-artifacts/browser"

# Debian's chromium and chromium-driver, PyPI's selenium and axe-selenium-python
# (which ships axe-core, so nothing is fetched at run time). Quick when all are there.
ensure_browser() {
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
    python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "browser: installing ${missing[*]}" >&2
        [ "$(id -u)" = 0 ] || fail "need root to install ${missing[*]} (or install them yourself)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || fail "apt-get install ${missing[*]} failed"
    fi
    export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
    if ! python3 -c "import selenium, axe_selenium_python" 2>/dev/null; then
        echo "browser: installing selenium axe-selenium-python" >&2
        python3 -m pip install -q selenium axe-selenium-python >&2 || fail "pip install selenium axe-selenium-python failed"
    fi
    # axe-selenium-python on this Python bundles axe-core 3.1 (2018); axe-playwright-python ships a
    # current axe-core, whose script the Selenium runner injects instead (its Playwright part is not used).
    if ! python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('axe_playwright_python') is None)" 2>/dev/null; then
        echo "browser: installing axe-playwright-python (for its current axe-core)" >&2
        python3 -m pip install -q --no-deps axe-playwright-python >&2 || fail "pip install axe-playwright-python failed"
    fi
}
ensure_browser

test_database kwbrowser
log="/tmp/kw-browser-serve.$$"

# The catalogue and a platform admin to sign in with.
"$bin" migrate >/dev/null || fail "migrate failed"
"$bin" tenants apply tenants >/dev/null || fail "tenants apply failed"
pw="$(new_password)"
printf '%s' "$pw" | "$bin" users create --tenant betrieb --email admin@betrieb.test --name "Paula Plattform" \
    --role platform_admin --password-stdin >/dev/null || fail "users create failed"
printf '%s' "$pw" | "$bin" users create --tenant witten --email cm@witten.test --name "Clara Case" \
    --role case_manager --password-stdin >/dev/null || fail "users create (case manager) failed"
printf '%s' "$pw" | "$bin" users create --tenant awo-en --email beratung@awo-en.test --name "Berta Beratung" \
    --role case_manager --role partner --password-stdin >/dev/null || fail "users create (carrier) failed"
printf '%s' "$pw" | "$bin" users create --tenant en-kreis --email ks@en-kreis.test --name "Kai Koordination" \
    --role district_coordinator --password-stdin >/dev/null || fail "users create (coordinator) failed"

port=$((19000 + $$ % 1000))
serve "$port" "$log"

mkdir -p "$artifacts"
rm -f "$artifacts"/*.png
echo "browser: screenshots in $artifacts"
# browser_test.py first (it onboards the tenant later scenarios may use), then each
# further scenario file browser_*.py, which imports browser_test's helpers and may
# create the accounts it needs with "$KW_BIN users create" (same password).
export KW_BIN="$bin"
for scenario in "$root/ops/tests/browser_test.py" $(ls "$root"/ops/tests/browser_*.py | grep -v '/browser_test.py$'); do
    echo "browser: $(basename "$scenario")"
    if ! KW_ADMIN_PASSWORD="$pw" python3 "$scenario" "http://127.0.0.1:$port" "$artifacts"; then
        echo "--- server log (last 40 lines)" >&2; tail -40 "$log" >&2
        fail "browser checks failed in $(basename "$scenario") (screenshots in $artifacts)"
    fi
done
echo "browser: all checks passed (screenshots in $artifacts)"
