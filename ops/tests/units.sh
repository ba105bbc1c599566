#!/usr/bin/env bash
# The systemd units in ops/systemd/ are valid (systemd-analyze verify), with the binary and environment paths
# pointed at what exists on this machine. Skipped, saying so, where systemd-analyze is not installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
command -v systemd-analyze >/dev/null || { echo "units.sh: skipped (no systemd-analyze)"; exit 0; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
for unit in "$root"/ops/systemd/*.service "$root"/ops/systemd/*.timer; do
    name="$(basename "$unit")"; name="${name/@./@1.}"
    sed -e 's|/usr/local/bin/kreiswerk|/bin/true|; s|/usr/bin/pgbackrest|/bin/true|; s|^WorkingDirectory=.*|WorkingDirectory=/|' \
        -e 's|^EnvironmentFile=|EnvironmentFile=-|; s|^Unit=kreiswerk-backup@\(.*\)\.service|Unit=kreiswerk-backup@1.service|' "$unit" > "$work/$name"
done
out="$(cd "$work" && systemd-analyze verify ./*.service ./*.timer 2>&1)" || { echo "FAIL: $out" >&2; exit 1; }
[ -z "$out" ] || { echo "FAIL: systemd-analyze verify: $out" >&2; exit 1; }
# The server and the workers are rated OK or better by systemd's own exposure analysis.
for unit in kreiswerk.service kreiswerk-worker@1.service; do
    rating="$(systemd-analyze security --offline=true "$work/$unit" 2>&1 | tail -1)"
    grep -qE ' (OK|SAFE) ' <<<"$rating" || { echo "FAIL: $unit: $rating" >&2; exit 1; }
    echo "units.sh: $rating"
done
grep -q '^NoNewPrivileges=yes' "$root"/ops/systemd/kreiswerk.service || { echo "FAIL: the server unit must not gain privileges" >&2; exit 1; }
echo "units.sh: all checks passed"
