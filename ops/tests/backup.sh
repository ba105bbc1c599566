#!/usr/bin/env bash
# The restore drill (README "Operating"): a cluster of its own with WAL archiving to an encrypted pgBackRest
# repository; write, full backup, write more, seal the audit trail and note its head and the time, write more,
# then restore to the noted time into a new cluster: exactly what was written before it exists, nothing after;
# the schema is current and the audit chain is intact with the noted head.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/backup.sh"
bin="$KREISWERK_ROOT/.build/debug/kreiswerk"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_in() { grep -qF -- "$1" <<<"$2" || fail "expected '$1' in: $2"; }

work="$(mktemp -d /tmp/kreiswerk-drill.XXXXXX)"; chmod 755 "$work"
port=$((56000 + $$ % 1000)); while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 2)); done
restored_port=$((port + 1))
cleanup() { cluster_stop "$work/restored"; cluster_stop "$work/live"; rm -rf "$work" "/tmp/kreiswerk-pg-$port"; }
trap cleanup EXIT

superuser="$(random_secret)" owner="$(random_secret)" app="$(random_secret)" worker="$(random_secret)"
KREISWERK_PG_FSYNC=off cluster_init "$work/live" "$port" "$superuser"
backup_configure "$work/backup" "$work/live" "$port" "$superuser"
cluster_start "$work/live"
bootstrap_roles "postgres://postgres:$superuser@127.0.0.1:$port/postgres" "$owner" "$app" "$worker" kreiswerk
use() { export DATABASE_URL="postgres://kreiswerk_owner:$owner@127.0.0.1:$1/kreiswerk"; }
use "$port"
"$bin" migrate >/dev/null
"$bin" tenants apply tenants >/dev/null
account() { printf '%s' "richtig-und-geheim-$1" | "$bin" users create --tenant witten --email "$1@witten.test" --name "$1" --role case_manager --password-stdin >/dev/null; }

account vor-der-sicherung
backup_stanza "$work/backup"
pgbr "$work/backup" --type=full backup || fail "full backup failed (log: $work/backup/log)"
account nach-der-sicherung
sealed="$("$bin" audit verify --seal)"
head="$(sed -n 's/^Head: //p' <<<"$sealed")"
[ -n "$head" ] || fail "no audit head to note: $sealed"
sleep 1; noted="$(psql "postgres://postgres:$superuser@127.0.0.1:$port/postgres" -Atc 'SELECT now()')"; sleep 1
account nach-dem-zeitpunkt
pgbr "$work/backup" check >/dev/null || fail "archiving the last WAL failed"

backup_restore "$work/backup" "$work/restored" "$restored_port" "$noted"
use "$restored_port"
accounts="$("$bin" users list --tenant witten --json)"
expect_in "vor-der-sicherung@witten.test" "$accounts"
expect_in "nach-der-sicherung@witten.test" "$accounts"
grep -qF "nach-dem-zeitpunkt@witten.test" <<<"$accounts" && fail "an account written after the noted time was restored"
expect_in "Schema is current." "$("$bin" migrate --status)"
verified="$("$bin" audit verify)" || fail "the restored audit chain is broken: $verified"
expect_in "Head: $head" "$verified"
echo "backup.sh: all checks passed (restored to $noted, audit head $head)"
