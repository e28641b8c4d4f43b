#!/usr/bin/env bash
# The PostgreSQL server of the validator's store tests (framework/validator/tests/it): Debian's
# `postgresql` package, its newest installed cluster running on 127.0.0.1:5432, a role `subnetkit`
# (password `subnetkit`, LOGIN CREATEDB: each test creates and drops a database of its own) and
# a database `subnetkit_test` owned by it. The tests connect to
#
#   postgres://subnetkit:subnetkit@127.0.0.1:5432/subnetkit_test    (or $SUBNETKIT_TEST_POSTGRES)
#
# Idempotent: installs, creates or starts only what is missing, and says what it does. Runs as
# root (apt-get, pg_ctlcluster; the SQL runs as the `postgres` system user through runuser), or
# through sudo when not root. Needs network access to Debian's package archive only when the
# package is missing.
set -euo pipefail

port=5432

say() {
    printf 'postgres: %s\n' "$*"
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

# The server binaries of some version (/usr/lib/postgresql/VERSION/bin/postgres) and the cluster tools.
newest_version() {
    local dir
    for dir in /usr/lib/postgresql/*/bin/postgres; do
        [[ -x "$dir" ]] && basename "$(dirname "$(dirname "$dir")")"
    done | sort -V | tail -n 1
}

version="$(newest_version)"
if [[ -z "$version" ]] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "installing Debian's postgresql package"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    version="$(newest_version)"
fi
if [[ -z "$version" ]]; then
    echo "error: no PostgreSQL server under /usr/lib/postgresql after installing the postgresql package" >&2
    exit 1
fi

# `pg_lsclusters -h`: VERSION CLUSTER PORT STATUS OWNER DATA LOG.
cluster_line() {
    pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"'
}
if [[ -z "$(cluster_line)" ]]; then
    say "creating cluster $version/main on port $port"
    as_root pg_createcluster --port "$port" "$version" main >/dev/null
fi
cluster_port="$(cluster_line | awk '{print $3}')"
if [[ "$cluster_port" != "$port" ]]; then
    echo "error: cluster $version/main listens on port $cluster_port, the tests expect $port" \
        "(set port = $port in /etc/postgresql/$version/main/postgresql.conf, or point" \
        "SUBNETKIT_TEST_POSTGRES at it)" >&2
    exit 1
fi
if [[ "$(cluster_line | awk '{print $4}')" != online ]]; then
    say "starting cluster $version/main"
    as_root pg_ctlcluster "$version" main start
fi
for _ in $(seq 50); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.2
done
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
    echo "error: PostgreSQL $version does not accept connections on 127.0.0.1:$port" \
        "(see /var/log/postgresql/postgresql-$version-main.log)" >&2
    exit 1
fi

psql_postgres() {
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -tA "$@"
}
if [[ "$(psql_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'subnetkit'")" != 1 ]]; then
    say "creating role subnetkit"
    psql_postgres -c "CREATE ROLE subnetkit LOGIN CREATEDB PASSWORD 'subnetkit'"
else
    # Keeps the role usable if someone changed it.
    psql_postgres -c "ALTER ROLE subnetkit LOGIN CREATEDB PASSWORD 'subnetkit'"
fi
if [[ "$(psql_postgres -c "SELECT 1 FROM pg_database WHERE datname = 'subnetkit_test'")" != 1 ]]; then
    say "creating database subnetkit_test"
    psql_postgres -c "CREATE DATABASE subnetkit_test OWNER subnetkit"
fi
say "PostgreSQL $version on 127.0.0.1:$port, role subnetkit, database subnetkit_test: ready"
