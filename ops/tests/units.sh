#!/usr/bin/env bash
# The systemd units in ops/systemd/ are valid (systemd-analyze verify), with the binary and environment paths
# pointed at what exists on this machine. Skipped, saying so, where systemd-analyze is not installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
command -v systemd-analyze >/dev/null || { echo "units.sh: skipped (no systemd-analyze)"; exit 0; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
for unit in "$root"/ops/systemd/*.service; do
    name="$(basename "$unit")"; name="${name/@./@1.}"
    sed 's|/usr/local/bin/kreiswerk|/bin/true|; s|^WorkingDirectory=.*|WorkingDirectory=/|; s|^EnvironmentFile=|EnvironmentFile=-|' "$unit" > "$work/$name"
done
out="$(systemd-analyze verify "$work"/*.service 2>&1)" || { echo "FAIL: $out" >&2; exit 1; }
[ -z "$out" ] || { echo "FAIL: systemd-analyze verify: $out" >&2; exit 1; }
grep -q '^NoNewPrivileges=yes' "$root"/ops/systemd/kreiswerk.service || { echo "FAIL: the server unit must not gain privileges" >&2; exit 1; }
echo "units.sh: all checks passed"
