#!/usr/bin/env bash
# The Prometheus alert rules (ops/prometheus/alerts.yml) are valid (`promtool check rules`) and fire when they should
# and not when they should not (`promtool test rules` with ops/prometheus/alerts_test.yml). promtool comes with
# Debian's prometheus package, installed here when missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }
if ! command -v promtool >/dev/null; then
    [ "$(id -u)" = 0 ] || fail "promtool is missing: install Debian's prometheus package (apt-get install prometheus)"
    echo "alerts.sh: installing prometheus (for promtool)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
        || fail "apt-get install prometheus failed"
    # The package's own Prometheus service is not wanted here; the rules are only checked.
    command -v systemctl >/dev/null && systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
cd "$root/ops/prometheus"
promtool check rules alerts.yml >/dev/null || { promtool check rules alerts.yml >&2; fail "promtool check rules alerts.yml"; }
out="$(promtool test rules alerts_test.yml 2>&1)" || { echo "$out" >&2; fail "promtool test rules alerts_test.yml"; }
# Every alert in the rules file has at least one unit test that expects it to fire.
for alert in $(sed -n 's/^ *- alert: *//p' alerts.yml); do
    grep -q "alertname: $alert\$" alerts_test.yml || fail "alert $alert has no test in alerts_test.yml"
done
echo "alerts.sh: $(grep -c '^ *- alert:' alerts.yml) alert rules checked and tested"
