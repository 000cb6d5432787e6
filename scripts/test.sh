#!/usr/bin/env bash
# Runs the whole test suite against a real PostgreSQL and a real Redis.
# Installs (Debian packages) and starts them when they are not already running, so it works on
# a fresh machine. Extra arguments go to `cargo test` (e.g. `scripts/test.sh stale`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_postgres
ensure_redis
export TEST_DATABASE_URL TEST_REDIS_URL
echo "test services: PostgreSQL at ${TEST_DATABASE_URL%%@*}@…, Redis at $TEST_REDIS_URL"
# No doc tests exist; --lib --bins --tests keeps cargo's last line a real test run.
log=$(mktemp)
set +e
cargo test --workspace --locked --lib --bins --tests "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole suite.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$status"
