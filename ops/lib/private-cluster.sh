# The checkout's private cluster (used by ops/run and ops/kreiswerk): .kreiswerk/postgres,
# its passwords and URLs in .kreiswerk/env. Source after common.sh.

PRIVATE_DIR="$KREISWERK_ROOT/.kreiswerk"
PRIVATE_CLUSTER="$PRIVATE_DIR/postgres"
PRIVATE_ENV="$PRIVATE_DIR/env"

# Sets DATABASE_URL, KREISWERK_APP_DATABASE_URL and KREISWERK_WORKER_DATABASE_URL: from the
# environment when DATABASE_URL is given (no cluster is started), else from the private
# cluster, which is created on first use and started when it is not running.
use_database() {
    use_totp_key
    if [ -n "${DATABASE_URL:-}" ]; then
        [ -n "${KREISWERK_APP_DATABASE_URL:-}" ] \
            || die "DATABASE_URL is set, so set KREISWERK_APP_DATABASE_URL too: the same database as the runtime role, postgres://kreiswerk_app:PASSWORD@HOST:PORT/DB"
        [ -n "${KREISWERK_WORKER_DATABASE_URL:-}" ] \
            || die "DATABASE_URL is set, so set KREISWERK_WORKER_DATABASE_URL too: the same database as the job worker role, postgres://kreiswerk_worker:PASSWORD@HOST:PORT/DB"
        export DATABASE_URL KREISWERK_APP_DATABASE_URL KREISWERK_WORKER_DATABASE_URL
        return 0
    fi
    mkdir -p "$PRIVATE_DIR"
    if [ ! -f "$PRIVATE_ENV" ] || [ ! -f "$PRIVATE_CLUSTER/data/PG_VERSION" ]; then
        local port="${KREISWERK_PG_PORT:-54329}"
        local superuser owner app
        superuser="$(random_secret)"; owner="$(random_secret)"; app="$(random_secret)"
        (umask 077; cat > "$PRIVATE_ENV" <<ENV
KREISWERK_PG_PORT=$port
KREISWERK_PG_SUPERUSER_URL=postgres://postgres:$superuser@127.0.0.1:$port/postgres
DATABASE_URL=postgres://kreiswerk_owner:$owner@127.0.0.1:$port/kreiswerk
KREISWERK_APP_DATABASE_URL=postgres://kreiswerk_app:$app@127.0.0.1:$port/kreiswerk
KREISWERK_OWNER_PASSWORD=$owner
KREISWERK_APP_PASSWORD=$app
ENV
        )
        cluster_stop "$PRIVATE_CLUSTER"
        rm -rf "$PRIVATE_CLUSTER"
        say "creating the private PostgreSQL cluster in $PRIVATE_CLUSTER (port $port)"
        cluster_init "$PRIVATE_CLUSTER" "$port" "$superuser"
    fi
    # The job worker's role came later: a cluster made before it gets its password and URL now.
    if ! grep -q '^KREISWERK_WORKER_PASSWORD=' "$PRIVATE_ENV"; then
        local worker port_line
        worker="$(random_secret)"
        port_line="$(grep '^KREISWERK_PG_PORT=' "$PRIVATE_ENV")"
        (umask 077; printf 'KREISWERK_WORKER_DATABASE_URL=postgres://kreiswerk_worker:%s@127.0.0.1:%s/kreiswerk\nKREISWERK_WORKER_PASSWORD=%s\n' \
            "$worker" "${port_line#*=}" "$worker" >> "$PRIVATE_ENV")
    fi
    set -a; . "$PRIVATE_ENV"; set +a
    cluster_start "$PRIVATE_CLUSTER"
    bootstrap_roles "$KREISWERK_PG_SUPERUSER_URL" "$KREISWERK_OWNER_PASSWORD" "$KREISWERK_APP_PASSWORD" "$KREISWERK_WORKER_PASSWORD" kreiswerk
}

# Exports KREISWERK_TOTP_KEY, the key that seals second-factor secrets: from the environment when
# given, else the checkout's own in .kreiswerk/totp-key, made once (32 random bytes, base64). Keep
# it with the database: without it no second factor set up here can be checked again.
use_totp_key() {
    if [ -z "${KREISWERK_TOTP_KEY:-}" ]; then
        local file="$PRIVATE_DIR/totp-key"
        if [ ! -s "$file" ]; then
            mkdir -p "$PRIVATE_DIR"
            (umask 077; head -c 32 /dev/urandom | base64 > "$file")
        fi
        KREISWERK_TOTP_KEY="$(cat "$file")"
    fi
    export KREISWERK_TOTP_KEY
}
