# Backups with point-in-time recovery through pgBackRest (Debian's pgbackrest), for a cluster that
# ops/lib/common.sh made. Source after common.sh; it defines functions and changes nothing by itself.
#
# A backup folder BK holds pgbackrest.conf, the repository (BK/repo, encrypted with AES-256-CBC under
# BK/passphrase unless KREISWERK_BACKUP_PASSPHRASE is set), pgBackRest's log and lock folders, and the
# .pgpass pgBackRest connects with. The cluster archives every WAL segment into the repository.

PGBACKREST_STANZA=kreiswerk

# backup_configure BK CLUSTER_DIR PORT SUPERUSER_PASSWORD: writes BK's configuration and turns WAL archiving on in
# the cluster (restarting it when that setting is new). Idempotent.
backup_configure() {
    local bk="$1" cluster="$2" port="$3" password="$4"
    command -v pgbackrest >/dev/null || {
        say "installing pgbackrest"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbackrest >/dev/null \
            || die "apt-get install pgbackrest failed"
    }
    mkdir -p "$bk/repo" "$bk/log" "$bk/lock"
    local passphrase="${KREISWERK_BACKUP_PASSPHRASE:-}"
    if [ -z "$passphrase" ]; then
        [ -f "$bk/passphrase" ] || (umask 077; random_secret > "$bk/passphrase")
        passphrase="$(cat "$bk/passphrase")"
    fi
    # pgBackRest talks to PostgreSQL over a Unix socket: a short folder of its own, whatever the checkout's path.
    local socket="/tmp/kreiswerk-pg-$port"
    (umask 077; printf '*:*:*:postgres:%s\n' "$password" > "$bk/pgpass")
    (umask 077; cat > "$bk/pgbackrest.conf" <<CONF
[global]
repo1-path=$bk/repo
repo1-retention-full=${KREISWERK_BACKUP_KEEP_FULL:-2}
repo1-retention-diff=${KREISWERK_BACKUP_KEEP_DIFF:-6}
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=$passphrase
log-path=$bk/log
lock-path=$bk/lock
log-level-console=warn
start-fast=y

[$PGBACKREST_STANZA]
pg1-path=$cluster/data
pg1-port=$port
pg1-socket-path=$socket
pg1-user=postgres
CONF
    )
    chown -R postgres:postgres "$bk"
    run_as_postgres mkdir -p "$socket"
    if ! grep -q '^archive_command' "$cluster/data/postgresql.conf"; then
        cat <<CONF | run_as_postgres tee -a "$cluster/data/postgresql.conf" >/dev/null
# Backups (ops/backup): every WAL segment goes to the pgBackRest repository.
unix_socket_directories = '$socket'
wal_level = replica
archive_mode = on
archive_command = 'pgbackrest --config=$bk/pgbackrest.conf --stanza=$PGBACKREST_STANZA archive-push %p'
CONF
        if run_as_postgres "$PG_BIN/pg_ctl" -D "$cluster/data" status >/dev/null 2>&1; then
            run_as_postgres "$PG_BIN/pg_ctl" -D "$cluster/data" -m fast -w restart -l "$cluster/postgres.log" >/dev/null || die "restarting PostgreSQL for archiving failed"
        fi
    fi
}

# pgbr BK ARGS...: pgBackRest with BK's configuration, as the postgres user.
pgbr() {
    local bk="$1"; shift
    run_as_postgres env PGPASSFILE="$bk/pgpass" pgbackrest --config="$bk/pgbackrest.conf" --stanza="$PGBACKREST_STANZA" "$@"
}

# backup_stanza BK: creates the stanza once and checks that archiving reaches the repository.
backup_stanza() {
    local bk="$1"
    [ -f "$bk/repo/backup/$PGBACKREST_STANZA/backup.info" ] || pgbr "$bk" stanza-create || die "pgbackrest stanza-create failed (log: $bk/log)"
    pgbr "$bk" check || die "pgbackrest check failed: WAL does not reach the repository (log: $bk/log)"
}

# backup_restore BK TARGET_DIR PORT [TIME]: restores the latest backup (or the state at TIME) into a new cluster
# in TARGET_DIR, listening on PORT, without archiving; starts it.
backup_restore() {
    local bk="$1" target="$2" port="$3" time="${4:-}"
    [ ! -e "$target/data" ] || die "$target/data exists: restore into a new folder"
    mkdir -p "$target"; chown postgres:postgres "$target"; chmod 700 "$target"
    if [ -n "$time" ]; then
        pgbr "$bk" --pg1-path="$target/data" --type=time --target="$time" --target-action=promote restore || die "pgbackrest restore to $time failed (log: $bk/log)"
    else
        pgbr "$bk" --pg1-path="$target/data" restore || die "pgbackrest restore failed (log: $bk/log)"
    fi
    run_as_postgres sed -i -e "s/^port = .*/port = $port/" -e "s|^unix_socket_directories = .*|unix_socket_directories = ''|" \
        -e "s/^archive_mode = on/archive_mode = off/" "$target/data/postgresql.conf"
    cluster_start "$target"
}
