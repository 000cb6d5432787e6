#!/usr/bin/env bash
# Load benchmark: the Rust service (server mode: PostgreSQL + Redis) side by side with the
# Python peer of the seed design, same machine, same wrk settings (-t1 -c50), same data size.
#
#   bench/run.sh [PEER_DIR]        PEER_DIR defaults to ../shared/bench/peer
#   env: REPS=3 DUR=10 CONNS=50 NDOCS=10000 SKIP_PEER=1 (ours only)
#
# Scenarios (as the peer's): (a) GET /api/documents/{id}, all cache hits; (b) the same with
# every GET a miss (documents cached for 1 ms: Redis GET miss -> PostgreSQL -> fill);
# (d) GET a list page (API cache). Prints medians per scenario and the ratios to the peer.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
PEER_DIR=${1:-$ROOT/../shared/bench/peer}
REPS=${REPS:-3}; DUR=${DUR:-10}; CONNS=${CONNS:-50}; NDOCS=${NDOCS:-10000}
export NDOCS
WORK=${BENCH_WORK:-/tmp/cr-bench}
PORT=${BENCH_PORT:-18090}
mkdir -p "$WORK"; : > "$WORK/results.tsv"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

source "$ROOT/scripts/services.sh"
ensure_postgres
ensure_redis
command -v wrk >/dev/null 2>&1 || apt_install wrk

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cr-target}
(cd "$ROOT" && cargo build --release --locked -q)
BIN=$CARGO_TARGET_DIR/release/contract-reviewer

ADMIN_URL=${TEST_DATABASE_URL%/*}/postgres
BENCH_DB=${TEST_DATABASE_URL%/*}/cr_bench
psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS cr_bench WITH (FORCE)" >/dev/null
psql "$ADMIN_URL" -qc "CREATE DATABASE cr_bench" >/dev/null
export BENCH_KEY="cr_bench_$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"
rm -rf "$WORK/data"

APP_PID=""
start_app() {
  local redis=(REDIS_URL="$TEST_REDIS_URL")
  [ -n "${BENCH_NO_REDIS:-}" ] && redis=()   # in-process cache instead, for comparison
  env DATABASE_URL="$BENCH_DB" "${redis[@]}" CR_BOOTSTRAP_API_KEY="$BENCH_KEY" \
      CR_CACHE__KEY_PREFIX="bench:" RUST_LOG=warn "$@" \
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
flush_ours() { redis-cli -u "$TEST_REDIS_URL" --scan --pattern 'bench:*' | xargs -r -n 500 redis-cli -u "$TEST_REDIS_URL" del >/dev/null; }
# The service's own cache counters (Redis INFO would count the generation lookups too).
cache_stat() { curl -fs "http://127.0.0.1:$PORT/readyz" | python3 -c "import json,sys; print(json.load(sys.stdin)['cache']['$1'])"; }

measure() {  # measure LABEL SCRIPT
  local label=$1 script=$2 rep line h0 m0 h1 m1
  for rep in $(seq 1 "$REPS"); do
    h0=$(cache_stat hits); m0=$(cache_stat misses)
    line=$(wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$HERE/load/$script" "http://127.0.0.1:$PORT" | grep '^RESULT')
    h1=$(cache_stat hits); m1=$(cache_stat misses)
    line="$line hit_pct=$(awk -v h=$((h1-h0)) -v m=$((m1-m0)) 'BEGIN{printf "%.1f", (h+m)?100*h/(h+m):0}')"
    printf '%s\t%s\t%s\n' "$label" "$rep" "$line" >> "$WORK/results.tsv"
    log "  $label rep $rep: $line"
  done
}

log "seeding $NDOCS documents"
start_app
psql "$BENCH_DB" -q -v ndocs="$NDOCS" -f "$HERE/seed.sql" >/dev/null
flush_ours
log "warming the cache"
wrk -t1 -c"$CONNS" -d5s -s "$HERE/load/doc_seq.lua" "http://127.0.0.1:$PORT" >/dev/null
wrk -t1 -c"$CONNS" -d3s -s "$HERE/load/doc_random.lua" "http://127.0.0.1:$PORT" >/dev/null
log "cached documents: $(redis-cli -u "$TEST_REDIS_URL" --scan --pattern 'bench:*:document:*' | wc -l)"
measure "ours (a) GET doc 100% hit" doc_random.lua
wrk -t1 -c"$CONNS" -d2s -s "$HERE/load/list_random.lua" "http://127.0.0.1:$PORT" >/dev/null
measure "ours (d) GET list (api cache)" list_random.lua
stop_app
log "restarting with documents cached for 1 ms (every GET misses)"
flush_ours
start_app CR_CACHE__DOCUMENT_TTL_SECS=0.001 CR_CACHE__TTL_JITTER=0
wrk -t1 -c"$CONNS" -d3s -s "$HERE/load/doc_random.lua" "http://127.0.0.1:$PORT" >/dev/null
measure "ours (b) GET doc 100% miss" doc_random.lua
stop_app
flush_ours

if [ -z "${SKIP_PEER:-}" ]; then
  log "running the peer ($PEER_DIR), same settings"
  (cd "$PEER_DIR" && SKIP_LIMITS=1 WORKERS_LIST="1" REPS="$REPS" DUR="$DUR" CONNS="$CONNS" \
     PEER_WORK="$WORK/peer" bash run.sh > "$WORK/peer-table.md")
fi

python3 "$HERE/summarize.py" "$WORK/results.tsv" "$WORK/peer/results/results.tsv" | tee "$WORK/table.md"
