# Shared by ops/run, ops/test and ops/kreiswerk: system packages, the build,
# and a private PostgreSQL 15 cluster run as the unprivileged `postgres` user.
# Source it; it defines functions and changes nothing by itself.

KREISWERK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_BIN=/usr/lib/postgresql/15/bin

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs what the build and the cluster need when it is missing:
# postgresql-15 (Debian), libpq-dev and libssl-dev (named by the product card), curl for the checks,
# msmtp (a sendmail-compatible MTA client) for mail to the local sink.
ensure_system_packages() {
    local missing=()
    [ -x "$PG_BIN/initdb" ] || missing+=(postgresql-15)
    command -v curl >/dev/null || missing+=(curl)
    dpkg -s libpq-dev >/dev/null 2>&1 || missing+=(libpq-dev)
    dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
    command -v msmtp >/dev/null || missing+=(msmtp)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        [ "$(id -u)" = 0 ] || die "need root to install ${missing[*]} (or install them yourself)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || die "apt-get install ${missing[*]} failed"
    fi
    [ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 binaries not found in $PG_BIN"
    # The Debian package may have started a system cluster; ours is private and needs no service.
}

# Builds the kreiswerk executable (debug unless KREISWERK_BUILD=release) and prints its path.
build_kreiswerk() {
    local configuration="${KREISWERK_BUILD:-debug}"
    say "building kreiswerk ($configuration)"
    (cd "$KREISWERK_ROOT" && swift build -c "$configuration" --product kreiswerk >&2) || die "build failed"
    echo "$KREISWERK_ROOT/.build/$configuration/kreiswerk"
}

random_secret() { head -c 18 /dev/urandom | base64 | tr -d '/+=' ; }

# run_as_postgres CMD...: PostgreSQL refuses to run as root, so the cluster runs as `postgres`.
run_as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# cluster_init DIR PORT SUPERUSER_PASSWORD: a new cluster in DIR/data, listening on 127.0.0.1:PORT only.
cluster_init() {
    local dir="$1" port="$2" password="$3"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && { run_as_postgres true; chown postgres:postgres "$dir"; chmod 700 "$dir"; }
    run_as_postgres test -w "$dir" || die "the postgres user cannot write $dir: every folder above it must be searchable by others (chmod o+x)"
    local pwfile="$dir/.pwfile"
    (umask 077; printf '%s\n' "$password" > "$pwfile")
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$pwfile"
    run_as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { rm -f "$pwfile"; cat "$dir/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
    cat <<CONF | run_as_postgres tee -a "$dir/data/postgresql.conf" >/dev/null
# Kreiswerk private cluster
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''   # TCP on 127.0.0.1 only; long checkout paths exceed the socket path limit
max_connections = ${KREISWERK_PG_MAX_CONNECTIONS:-200}
shared_buffers = 256MB
fsync = ${KREISWERK_PG_FSYNC:-on}
timezone = 'Europe/Berlin'
log_min_messages = warning
CONF
}

# cluster_start DIR: starts the cluster unless it runs already.
cluster_start() {
    local dir="$1"
    if run_as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then return 0; fi
    run_as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
        || { tail -20 "$dir/postgres.log" >&2; die "PostgreSQL did not start (log: $dir/postgres.log)"; }
}

cluster_stop() {
    local dir="$1"
    [ -d "$dir/data" ] || return 0
    run_as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# bootstrap_roles SUPERUSER_URL OWNER_PASSWORD APP_PASSWORD WORKER_PASSWORD [DATABASE]: the three roles, and the database owned by the owner.
bootstrap_roles() {
    local url="$1" owner_password="$2" app_password="$3" worker_password="$4" database="${5:-}"
    psql "$url" -v ON_ERROR_STOP=1 -q -v owner_password="$owner_password" -v app_password="$app_password" -v worker_password="$worker_password" \
        -f "$KREISWERK_ROOT/ops/lib/bootstrap.sql" >/dev/null || die "creating the roles failed"
    if [ -n "$database" ]; then
        if ! psql "$url" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
            psql "$url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$database\" OWNER kreiswerk_owner" >/dev/null || die "creating database $database failed"
        fi
    fi
}

# start_mail_sink PORT FOLDER: a local SMTP server (ops/lib/mail_sink.py, PyPI's aiosmtpd) that keeps every
# message as a file in FOLDER; prints its pid. mail_command PORT: the KREISWERK_SENDMAIL that delivers to it
# through msmtp, a real sendmail-compatible MTA client.
start_mail_sink() {
    local port="$1" folder="$2"
    python3 -c 'import aiosmtpd' 2>/dev/null || pip install -q aiosmtpd >&2 || die "pip install aiosmtpd failed"
    mkdir -p "$folder"
    nohup python3 "$KREISWERK_ROOT/ops/lib/mail_sink.py" "$port" "$folder" > "$folder/sink.log" 2>&1 &
    local pid=$!
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { echo "$pid"; return 0; }; sleep 0.1; done
    die "the mail sink did not start on port $port: $(cat "$folder/sink.log")"
}
mail_command() { echo "$(command -v msmtp) --host=127.0.0.1 --port=$1 --auth=off --tls=off --from=kreiswerk@localhost -t"; }
