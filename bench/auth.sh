#!/usr/bin/env bash
# What authentication and rate limiting cost on the hottest read: `GET /api/documents/{id}`,
# every read a cache hit. Three variants alternate, REPS times each, in one run:
#   off      API key, limiter off (authentication only: the baseline);
#   on       API key, limiter on (quotas too large to refuse anything, so every request
#            still takes its GCRA decisions: address, key, user);
#   session-off  a session cookie (a Redis session read and slide per request), limiter off;
#   session  the same, limiter on.
# Medians, and each variant's cost against the baseline.
#
#   bench/auth.sh        env: REPS=3 DUR=10 CONNS=50 NDOCS=10000
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
REPS=${REPS:-3}; DUR=${DUR:-10}; CONNS=${CONNS:-50}; NDOCS=${NDOCS:-10000}
export NDOCS
WORK=${BENCH_WORK:-/tmp/cr-bench-auth}
PORT=${BENCH_PORT:-18091}
mkdir -p "$WORK"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

source "$ROOT/scripts/services.sh"
ensure_postgres
ensure_redis
command -v wrk >/dev/null 2>&1 || apt_install wrk

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cr-target}
(cd "$ROOT" && cargo build --release --locked -q)
BIN=$CARGO_TARGET_DIR/release/contract-reviewer

ADMIN_URL=${TEST_DATABASE_URL%/*}/postgres
BENCH_DB=${TEST_DATABASE_URL%/*}/cr_bench_auth
psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS cr_bench_auth WITH (FORCE)" >/dev/null
psql "$ADMIN_URL" -qc "CREATE DATABASE cr_bench_auth" >/dev/null
export BENCH_KEY="cr_bench_$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"
rm -rf "$WORK/data"

APP_PID=""
start_app() {
  env DATABASE_URL="$BENCH_DB" REDIS_URL="$TEST_REDIS_URL" CR_BOOTSTRAP_API_KEY="$BENCH_KEY" \
      CR_CACHE__KEY_PREFIX="bench-auth:" RUST_LOG=warn "$@" \
      "$BIN" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/app.log" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "the service did not start:" >&2; cat "$WORK/app.log" >&2; return 1
}
stop_app() { if [ -n "$APP_PID" ]; then kill -TERM "$APP_PID" 2>/dev/null; wait "$APP_PID" 2>/dev/null || true; APP_PID=""; fi; }
trap stop_app EXIT

LIMITER_ON=(CR_RATE_LIMIT__ENABLED=true CR_RATE_LIMIT__PER_KEY_REQUESTS=1000000
            CR_RATE_LIMIT__PER_IP_REQUESTS=1000000 CR_RATE_LIMIT__PER_USER_REQUESTS=1000000
            CR_RATE_LIMIT__PERIOD_SECS=0.1)
LIMITER_OFF=(CR_RATE_LIMIT__ENABLED=false)

log "seeding $NDOCS documents"
start_app "${LIMITER_OFF[@]}"
psql "$BENCH_DB" -q -v ndocs="$NDOCS" -f "$HERE/seed.sql" >/dev/null
BENCH_PASSWORD="bench password $(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
curl -fs -o /dev/null -H "X-API-Key: $BENCH_KEY" -H 'Content-Type: application/json' \
  -d "{\"email\": \"bench@example.com\", \"password\": \"$BENCH_PASSWORD\", \"role\": \"admin\"}" \
  "http://127.0.0.1:$PORT/api/users"
wrk -t1 -c"$CONNS" -d5s -s "$HERE/load/doc_seq.lua" "http://127.0.0.1:$PORT" >/dev/null
stop_app

: > "$WORK/results.tsv"
for rep in $(seq 1 "$REPS"); do
  for variant in off on session-off session; do
    case $variant in *off) start_app "${LIMITER_OFF[@]}" ;; *) start_app "${LIMITER_ON[@]}" ;; esac
    unset BENCH_COOKIE
    if [ "${variant%-off}" = session ]; then
      BENCH_COOKIE=$(curl -fs -D - -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"email\": \"bench@example.com\", \"password\": \"$BENCH_PASSWORD\"}" \
        "http://127.0.0.1:$PORT/api/auth/login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(cr_session=[^;]*\).*/\1/p')
      export BENCH_COOKIE
    fi
    wrk -t1 -c"$CONNS" -d3s -s "$HERE/load/doc_random.lua" "http://127.0.0.1:$PORT" >/dev/null
    line=$(wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$HERE/load/doc_random.lua" "http://127.0.0.1:$PORT" | grep '^RESULT')
    printf '%s\t%s\n' "$variant" "$line" >> "$WORK/results.tsv"
    log "  $variant, rep $rep: $line"
    stop_app
  done
done
redis-cli -u "$TEST_REDIS_URL" --scan --pattern 'bench-auth:*' | xargs -r -n 500 redis-cli -u "$TEST_REDIS_URL" del >/dev/null

python3 - "$WORK/results.tsv" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    variant, result = line.rstrip("\n").split("\t")
    fields = dict(re.findall(r"(\w+)=([\d.]+)", result))
    rows.setdefault(variant, []).append(fields)
med = {v: {k: statistics.median(float(r[k]) for r in rs) for k in rs[0]} for v, rs in rows.items()}
names = {"off": "API key, limiter off", "on": "API key, limiter on",
         "session-off": "session cookie, limiter off", "session": "session cookie, limiter on"}
for v in ("off", "on", "session-off", "session"):
    m = med[v]
    print(f"{names[v]:27}: {m.get('rps', 0):9.0f} req/s  p50 {m.get('p50_ms', 0):.2f} ms  p99 {m.get('p99_ms', 0):.2f} ms  non-2xx {m.get('non2xx', 0):.0f}")
print(f"cost of the limiter with an API key: {100 * (1 - med['on']['rps'] / med['off']['rps']):.1f} %")
print(f"cost of the limiter with a session: {100 * (1 - med['session']['rps'] / med['session-off']['rps']):.1f} %")
print(f"session on against API key off (authentication and limiting): {100 * (1 - med['session']['rps'] / med['off']['rps']):.1f} %")
PY
