#!/usr/bin/env bash
# Installs (from Debian's packages) and starts the servers the test suite runs against, then
# exports TEST_DATABASE_URL and TEST_REDIS_URL. Idempotent: safe to source again and again.
# Usage: source scripts/test-services.sh
# Strict while it runs; the caller's shell options are given back at the end, so that a shell
# that sourced it does not exit on the next failing command.
caller_shell_options="$(set +o)"
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
need_package() { # need_package <command-or-path> <package>
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -e "$1" ]; then
    [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
    echo "test-services: installing $2"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$2" >/dev/null
  fi
}

need_package pg_ctlcluster postgresql
need_package redis-server redis-server
# Debian's Chromium, driven by playwright-core in test/docs/browser.test.ts (Playwright's own browser downloads are unreachable here).
need_package /usr/bin/chromium chromium
# php-cli runs the Laravel guard's tests, nginx the auth_request configuration's (integrations/):
# installed only; each test starts its own nginx as the current user on a loopback port. php-cli
# also makes the Passport fixtures' hashes and tokens (test/passport/passport-php.php).
need_package php php-cli
need_package /usr/sbin/nginx nginx

# PostgreSQL: the first cluster Debian created, started if it is not running.
read -r pg_version pg_cluster pg_port pg_status _ < <(pg_lsclusters --no-header | head -n 1)
if [ "$pg_status" != "online" ]; then
  echo "test-services: starting PostgreSQL $pg_version/$pg_cluster"
  as_root pg_ctlcluster "$pg_version" "$pg_cluster" start
fi
for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p "$pg_port" && break; sleep 0.2; done
psql_admin() { as_root su postgres -c "psql -v ON_ERROR_STOP=1 -qAt -p $pg_port $*"; }
# CREATEDB: each test file gets a database of its own, dropped afterwards.
psql_admin "-c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reseller_auth') THEN CREATE ROLE reseller_auth LOGIN CREATEDB PASSWORD 'reseller_auth'; END IF; END \\\$\\\$;\""
if [ "$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname = 'reseller_auth_test'\"")" != "1" ]; then
  psql_admin "-c 'CREATE DATABASE reseller_auth_test OWNER reseller_auth'"
fi

# PgBouncer in transaction pool mode in front of that cluster (docs/database.md), started without
# systemd as the postgres user (it refuses to run as root). It authenticates clients with the
# role's SCRAM verifier copied from pg_authid and reuses it towards PostgreSQL (SCRAM pass-through,
# PgBouncer manual "auth_file"), so no plain-text password is stored. The wildcard database entry
# lets it reach the per-test databases. Exports TEST_PGBOUNCER_URL.
need_package pgbouncer pgbouncer
pgbouncer_port=6432
pgbouncer_dir=/tmp/reseller-auth-test-pgbouncer
if ! (exec 3<>"/dev/tcp/127.0.0.1/$pgbouncer_port") 2>/dev/null; then
  echo "test-services: starting pgbouncer on port $pgbouncer_port"
  as_root install -d -o postgres -g postgres "$pgbouncer_dir"
  pgbouncer_verifier="$(psql_admin "-c \"SELECT rolpassword FROM pg_authid WHERE rolname = 'reseller_auth'\"")"
  as_root su postgres -c "umask 077 && cat > $pgbouncer_dir/userlist.txt" <<<"\"reseller_auth\" \"$pgbouncer_verifier\""
  as_root su postgres -c "cat > $pgbouncer_dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pg_port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pgbouncer_port
unix_socket_dir =
pool_mode = transaction
auth_type = scram-sha-256
auth_file = $pgbouncer_dir/userlist.txt
max_client_conn = 1000
default_pool_size = 20
logfile = $pgbouncer_dir/pgbouncer.log
pidfile = $pgbouncer_dir/pgbouncer.pid
INI
  as_root su postgres -c "pgbouncer -d -q $pgbouncer_dir/pgbouncer.ini"
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$pgbouncer_port") 2>/dev/null && break; sleep 0.1; done
fi
export TEST_PGBOUNCER_URL="postgresql://reseller_auth:reseller_auth@127.0.0.1:$pgbouncer_port/reseller_auth_test"

# Redis: a dedicated server on its own port, without persistence.
redis_port=6390
if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
  echo "test-services: starting redis-server on port $redis_port"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --logfile /tmp/reseller-auth-test-redis.log
  for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# MariaDB (a Laravel Passport database for the import tests to read), started without systemd.
need_package /usr/sbin/mariadbd mariadb-server
if ! mariadb-admin ping >/dev/null 2>&1; then
  echo "test-services: starting MariaDB"
  as_root install -d -o mysql -g mysql /run/mysqld
  as_root sh -c 'nohup mariadbd-safe --user=mysql --bind-address=127.0.0.1 --port=3306 >/tmp/reseller-auth-test-mariadb.log 2>&1 </dev/null &'
  for _ in $(seq 1 150); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
# Each test file creates (and drops) a database of its own, named ra_passport_*.
as_root mariadb -e "CREATE USER IF NOT EXISTS 'reseller_auth'@'127.0.0.1' IDENTIFIED BY 'reseller_auth'; GRANT ALL PRIVILEGES ON \`ra\\_passport\\_%\`.* TO 'reseller_auth'@'127.0.0.1';"

export TEST_DATABASE_URL="postgresql://reseller_auth:reseller_auth@127.0.0.1:$pg_port/reseller_auth_test"
export TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
export TEST_MYSQL_URL="mysql://reseller_auth:reseller_auth@127.0.0.1:3306/"
echo "test-services: TEST_DATABASE_URL=$TEST_DATABASE_URL TEST_PGBOUNCER_URL=$TEST_PGBOUNCER_URL TEST_REDIS_URL=$TEST_REDIS_URL TEST_MYSQL_URL=$TEST_MYSQL_URL"

# Redis Cluster and Redis Sentinel (docs/redis.md): exports TEST_REDIS_CLUSTER_NODES,
# TEST_REDIS_SENTINELS and TEST_REDIS_SENTINEL_NAME.
# shellcheck source=scripts/test-redis-modes.sh
source "$(dirname "${BASH_SOURCE[0]}")/test-redis-modes.sh"

# Node.js 24, the image's runtime, beside this machine's Node.js (the suite runs on both, see
# .ci/run): installed once from PyPI by scripts/node24.sh; exports NODE24_BIN, its `node`.
NODE24_BIN="$("$(dirname "${BASH_SOURCE[0]}")/node24.sh")"
export NODE24_BIN
echo "test-services: NODE24_BIN=$NODE24_BIN"

eval "$caller_shell_options"
unset caller_shell_options
