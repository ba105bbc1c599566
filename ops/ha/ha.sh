# High availability on one machine (issue 18): three PostgreSQL 15 members managed by Patroni, a one-member etcd
# as Patroni's store, and HAProxy routing writes to the leader by Patroni's REST health checks; all from Debian
# (patroni, etcd-server, haproxy). Used by ops/ha/cluster and ops/tests/failover.sh. Source after ops/lib/common.sh;
# it defines functions and changes nothing by itself.
#
# A cluster folder DIR holds: env (ports and passwords, mode 600), etcd/ (its data), pgN.yml and pgN/ (each member's
# Patroni configuration, data and .pgpass), haproxy.cfg, and NAME.log and NAME.pid of every process it runs
# (etcd, pg1…pg3, haproxy). Ports from BASE: etcd BASE and BASE+1 (peer), HAProxy BASE+2 (writes, to the leader),
# BASE+3 (reads, to the replicas), BASE+4 (statistics page), member N's PostgreSQL BASE+10+N and its REST API BASE+20+N.

HA_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HA_MEMBERS="pg1 pg2 pg3"

# Installs Debian's patroni, etcd-server (and etcd-client for etcdctl) and haproxy when missing. The packages enable
# system services of their own (etcd on 2379, haproxy on its default configuration); the cluster here uses none of them.
ha_ensure_packages() {
    local missing=()
    command -v patroni >/dev/null || missing+=(patroni)
    command -v etcd >/dev/null || missing+=(etcd-server)
    command -v etcdctl >/dev/null || missing+=(etcd-client)
    [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
    command -v setpriv >/dev/null || missing+=(util-linux)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        [ "$(id -u)" = 0 ] || die "need root to install ${missing[*]} (or install them yourself)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || die "apt-get install ${missing[*]} failed"
    fi
}

# ha_free_base: prints a base port with the 25 ports above it free (from KREISWERK_HA_PORT, else between 22000 and
# 32000 by the pid: below the kernel's ephemeral ports, 32768 and up, where a client connection's own port can
# take a listener's port between the check and the start).
ha_free_base() {
    local base="${KREISWERK_HA_PORT:-$((22000 + ($$ % 330) * 30))}" offset
    while :; do
        for offset in 0 1 2 3 4 11 12 13 21 22 23; do
            if (exec 3<>"/dev/tcp/127.0.0.1/$((base + offset))") 2>/dev/null; then base=$((base + 30)); continue 2; fi
        done
        echo "$base"; return 0
    done
}

# ha_init DIR BASE: writes the configuration of a new cluster into DIR (nothing runs yet). KREISWERK_PG_FSYNC and
# KREISWERK_PG_MAX_CONNECTIONS as for the private clusters.
ha_init() {
    local dir="$1" base="$2" name n
    [ ! -e "$dir/env" ] || die "$dir holds a cluster already"
    run_as_postgres true  # makes the postgres user when it is missing
    mkdir -p "$dir"
    (umask 077; cat > "$dir/env" <<ENV
HA_BASE=$base
HA_ETCD_PORT=$base
HA_PRIMARY_PORT=$((base + 2))
HA_REPLICA_PORT=$((base + 3))
HA_STATS_PORT=$((base + 4))
HA_SUPERUSER_PASSWORD=$(random_secret)
HA_REPLICATION_PASSWORD=$(random_secret)
ENV
    )
    . "$dir/env"
    local primary_servers="" replica_servers=""
    n=0
    for name in $HA_MEMBERS; do
        n=$((n + 1))
        mkdir -p "$dir/$name"
        sed -e "s|@NAME@|$name|g" -e "s|@DIR@|$dir|g" -e "s|@PG_PORT@|$((base + 10 + n))|g" -e "s|@REST_PORT@|$((base + 20 + n))|g" \
            -e "s|@ETCD_PORT@|$HA_ETCD_PORT|g" -e "s|@MAX_CONNECTIONS@|${KREISWERK_PG_MAX_CONNECTIONS:-200}|g" \
            -e "s|@FSYNC@|${KREISWERK_PG_FSYNC:-on}|g" -e "s|@SUPERUSER_PASSWORD@|$HA_SUPERUSER_PASSWORD|g" \
            -e "s|@REPLICATION_PASSWORD@|$HA_REPLICATION_PASSWORD|g" "$HA_HERE/patroni.yml.in" > "$dir/$name.yml"
        primary_servers+="    server $name 127.0.0.1:$((base + 10 + n)) check port $((base + 20 + n))"$'\n'
        replica_servers+="    server $name 127.0.0.1:$((base + 10 + n)) check port $((base + 20 + n))"$'\n'
    done
    sed -e "s|@PRIMARY_PORT@|$HA_PRIMARY_PORT|g" -e "s|@REPLICA_PORT@|$HA_REPLICA_PORT|g" -e "s|@STATS_PORT@|$HA_STATS_PORT|g" \
        "$HA_HERE/haproxy.cfg.in" | python3 -c '
import sys
text = sys.stdin.read().replace("@PRIMARY_SERVERS@\n", sys.argv[1]).replace("@REPLICA_SERVERS@\n", sys.argv[2])
sys.stdout.write(text)' "$primary_servers" "$replica_servers" > "$dir/haproxy.cfg"
    chmod 600 "$dir"/*.yml
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
    chmod 700 "$dir"
}

# ha_env DIR: loads DIR's ports and passwords, and sets HA_SUPERUSER_URL (through HAProxy, so: the leader).
ha_env() {
    [ -f "$1/env" ] || die "no cluster in $1 (ops/ha/cluster up makes one)"
    . "$1/env"
    HA_DIR="$1"
    HA_SUPERUSER_URL="postgres://postgres:$HA_SUPERUSER_PASSWORD@127.0.0.1:$HA_PRIMARY_PORT/postgres"
}

# ha_member_port DIR NAME / ha_rest_port DIR NAME: PostgreSQL's and Patroni's port of member NAME (pgN).
ha_member_port() { ha_env "$1"; echo $((HA_BASE + 10 + ${2#pg})); }
ha_rest_port() { ha_env "$1"; echo $((HA_BASE + 20 + ${2#pg})); }

# ha_spawn DIR NAME COMMAND...: runs COMMAND in the background as the postgres user, in a session of its own, output
# in DIR/NAME.log and its pid in DIR/NAME.pid.
ha_spawn() {
    local dir="$1" name="$2"; shift 2
    if [ "$(id -u)" = 0 ]; then
        setsid setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql "$@" </dev/null >>"$dir/$name.log" 2>&1 &
    else
        setsid "$@" </dev/null >>"$dir/$name.log" 2>&1 &
    fi
    echo $! > "$dir/$name.pid"
}

# ha_pid DIR NAME: the pid of DIR's process NAME when it runs (its command line names DIR), else nothing.
ha_pid() {
    local pid
    pid="$(cat "$1/$2.pid" 2>/dev/null)" || return 0
    [ -n "$pid" ] && { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$1/" && echo "$pid"
    return 0
}

# ha_postmaster DIR NAME: the pid of member NAME's postmaster when it runs.
ha_postmaster() {
    local pid
    pid="$(head -1 "$1/$2/data/postmaster.pid" 2>/dev/null)" || return 0
    [ -n "$pid" ] && { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$1/$2/data" && echo "$pid"
    return 0
}

# ha_wait SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds; fails after SECONDS.
ha_wait() {
    local seconds="$1" what="$2" i; shift 2
    for i in $(seq $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    [ -n "${HA_DIR:-}" ] && ha_tails "$HA_DIR"
    die "$what within $seconds s"
}

# ha_tails DIR: the last lines of every log of the cluster in DIR, to stderr (when a wait fails).
ha_tails() {
    local log
    for log in "$1"/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -n 8 "$log" >&2; }; done
    return 0
}

# ha_role_is DIR NAME CHECK: whether member NAME's Patroni answers 200 on GET /CHECK (primary, replica, sync, health).
ha_role_is() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$(ha_rest_port "$1" "$2")/$3")" = 200 ]
}

# ha_leader DIR: prints the member that is the leader (answers 200 on /primary), or nothing.
ha_leader() {
    local name
    for name in $HA_MEMBERS; do ha_role_is "$1" "$name" primary && { echo "$name"; return 0; }; done
    return 0
}
ha_has_leader() { [ -n "$(ha_leader "$1")" ]; }
ha_psql_ok() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }

# ha_streaming DIR: whether the leader has every other member streaming, one of them synchronous.
ha_streaming() {
    ha_env "$1"
    [ "$(psql "$HA_SUPERUSER_URL" -Atqc "SELECT count(*) FILTER (WHERE state = 'streaming') || ' ' || count(*) FILTER (WHERE sync_state = 'sync') FROM pg_stat_replication" 2>/dev/null)" = "2 1" ]
}

# ha_start DIR: starts etcd, the three members (the first bootstraps the cluster when it is new, the others copy it)
# and HAProxy, and waits until a leader takes writes through HAProxy with both replicas streaming.
ha_start() {
    local dir="$1" name
    ha_env "$dir"
    if [ -z "$(ha_pid "$dir" etcd)" ]; then
        ha_spawn "$dir" etcd etcd --name kreiswerk --data-dir "$dir/etcd" \
            --listen-client-urls "http://127.0.0.1:$HA_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$HA_ETCD_PORT" \
            --listen-peer-urls "http://127.0.0.1:$((HA_BASE + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((HA_BASE + 1))" \
            --initial-cluster "kreiswerk=http://127.0.0.1:$((HA_BASE + 1))" --initial-cluster-state new
        ha_wait 30 "etcd did not answer (log: $dir/etcd.log)" curl -fs --max-time 1 "http://127.0.0.1:$HA_ETCD_PORT/health"
    fi
    local fresh=""; [ -e "$dir/pg1/data/PG_VERSION" ] || fresh=1
    for name in $HA_MEMBERS; do
        [ -n "$(ha_pid "$dir" "$name")" ] && continue
        ha_spawn "$dir" "$name" patroni "$dir/$name.yml"
        # A new cluster: the first member initialises it before the others copy it.
        [ -n "$fresh" ] && [ "$name" = pg1 ] && ha_wait 60 "pg1 did not become the leader (log: $dir/pg1.log)" ha_role_is "$dir" pg1 primary
    done
    [ -n "$(ha_pid "$dir" haproxy)" ] || ha_spawn "$dir" haproxy /usr/sbin/haproxy -db -f "$dir/haproxy.cfg"
    ha_wait 60 "no leader took writes through HAProxy (logs: $dir/pg*.log, $dir/haproxy.log)" ha_psql_ok "$HA_SUPERUSER_URL"
    ha_wait 90 "the replicas did not stream from the leader (logs: $dir/pg*.log)" ha_streaming "$dir"
}

# ha_stop DIR: stops HAProxy, the members (Patroni stops its PostgreSQL) and etcd; whatever does not stop within
# 20 s is killed. Only processes of this cluster (their command lines name DIR).
ha_stop() {
    local dir="$1" name pid i
    [ -f "$dir/env" ] || return 0
    for name in haproxy $HA_MEMBERS; do pid="$(ha_pid "$dir" "$name")"; [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; done
    for i in $(seq 100); do
        pid=""; for name in haproxy $HA_MEMBERS; do pid+="$(ha_pid "$dir" "$name")"; done
        [ -z "$pid" ] && break; sleep 0.2
    done
    for name in haproxy $HA_MEMBERS; do pid="$(ha_pid "$dir" "$name")"; [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null; done
    for name in $HA_MEMBERS; do
        pid="$(ha_postmaster "$dir" "$name")"
        if [ -n "$pid" ]; then run_as_postgres "$PG_BIN/pg_ctl" -D "$dir/$name/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || kill -KILL "$pid" 2>/dev/null; fi
    done
    pid="$(ha_pid "$dir" etcd)"
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null
        for i in $(seq 50); do [ -z "$(ha_pid "$dir" etcd)" ] && break; sleep 0.1; done
        pid="$(ha_pid "$dir" etcd)"; [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    fi
    return 0
}

# ha_list DIR: the cluster as Patroni sees it (members, roles, states, timelines, lag).
ha_list() { run_as_postgres patronictl -c "$1/pg1.yml" list; }
