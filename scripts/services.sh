#!/usr/bin/env bash
# Sourced by scripts/test.sh and the benchmarks: makes sure PostgreSQL and Redis answer on
# 127.0.0.1, installing Debian's packages and starting the servers when needed.
# Sets TEST_DATABASE_URL and TEST_REDIS_URL.

: "${TEST_DATABASE_URL:=postgres://postgres@127.0.0.1:5432/test}"
: "${TEST_REDIS_URL:=redis://127.0.0.1:6379}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >/dev/null
  as_root apt-get install -y -qq "$@" >/dev/null
}

pg_answers() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }

ensure_postgres() {
  if pg_answers "$TEST_DATABASE_URL"; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "installing PostgreSQL (Debian package)…"
    apt_install postgresql postgresql-client
  fi
  local version; version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$version" ]; then echo "no PostgreSQL cluster found under /etc/postgresql" >&2; return 1; fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  for _ in $(seq 1 50); do
    as_root su postgres -c "psql -Atqc 'SELECT 1'" >/dev/null 2>&1 && break
    sleep 0.2
  done
  # A fresh Debian cluster asks for a password on TCP: give the postgres role one.
  if ! pg_answers "$TEST_DATABASE_URL"; then
    as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    TEST_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/test
  fi
  local admin=${TEST_DATABASE_URL%/*}/postgres
  if ! pg_answers "$TEST_DATABASE_URL"; then
    psql "$admin" -qc 'CREATE DATABASE test' >/dev/null
  fi
  pg_answers "$TEST_DATABASE_URL" || { echo "PostgreSQL does not answer at $TEST_DATABASE_URL" >&2; return 1; }
}

ensure_redis() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "installing Redis (Debian package)…"
    apt_install redis-server redis-tools
  fi
  if redis-cli -u "$TEST_REDIS_URL" ping >/dev/null 2>&1; then return 0; fi
  mkdir -p /tmp/cr-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/cr-redis --logfile /tmp/cr-redis/redis.log
  for _ in $(seq 1 50); do
    redis-cli -u "$TEST_REDIS_URL" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "Redis does not answer at $TEST_REDIS_URL" >&2; return 1
}
