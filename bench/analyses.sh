#!/usr/bin/env bash
# GET an analysis by id: ours (server mode, PostgreSQL + Redis) side by side with the Python peer
# of the seed design (`GET /analyses/{id}`, 2 uvicorn workers), same box, same wrk settings,
# same bodies: the peer's analyses carry our stored reviews as their findings.
#
#   bench/analyses.sh [CONTRACTS_DIR] [PEER_DIR]
#   env: NANALYSES=10000 REPS=3 DUR=10 CONNS=50 SKIP_PEER=1
#
# Scenarios: (h) every GET a cache hit; (m) every GET a miss (ours: analyses cached for 1 ms;
# the peer cannot be told to skip its cache, so it runs with PEER_ANALYSIS_TTL=1 over
# NANALYSES ids, and its hit % is printed beside it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CONTRACTS=${1:-$ROOT/../shared/data/cuad-dev/contracts}
PEER_DIR=${2:-$ROOT/../shared/bench/peer}
NANALYSES=${NANALYSES:-10000}; REPS=${REPS:-3}; DUR=${DUR:-10}; CONNS=${CONNS:-50}
WORK=${BENCH_WORK:-/tmp/cr-bench-analyses}; PORT=${BENCH_PORT:-18097}
export NANALYSES
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
DB=${TEST_DATABASE_URL%/*}/cr_bench_analyses
export BENCH_KEY="cr_bench_$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PREFIX="bencha:"

APP_PID=""
start_app() {
  env DATABASE_URL="$DB" REDIS_URL="$TEST_REDIS_URL" CR_BOOTSTRAP_API_KEY="$BENCH_KEY" \
      CR_CACHE__KEY_PREFIX="$PREFIX" RUST_LOG=warn "$@" \
      "$BIN" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/app.log" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0; sleep 0.1; done
  cat "$WORK/app.log" >&2; return 1
}
stop_app() { if [ -n "$APP_PID" ]; then kill -TERM "$APP_PID" 2>/dev/null || true; wait "$APP_PID" 2>/dev/null || true; APP_PID=""; fi; }
PEER_PID=""
stop_peer() { if [ -n "$PEER_PID" ]; then kill -TERM "$PEER_PID" 2>/dev/null || true; wait "$PEER_PID" 2>/dev/null || true; PEER_PID=""; fi; }
trap 'stop_app; stop_peer' EXIT
flush_ours() { redis-cli -u "$TEST_REDIS_URL" --scan --pattern "$PREFIX*" | xargs -r -n 500 redis-cli -u "$TEST_REDIS_URL" del >/dev/null; }
hits() { redis-cli -u "$TEST_REDIS_URL" info stats | tr -d '\r' | sed -n "s/^keyspace_$1://p"; }

measure() {  # measure LABEL BASE_URL [env…]
  local label=$1 base=$2 rep line h0 m0 h1 m1; shift 2
  for rep in $(seq 1 "$REPS"); do
    h0=$(hits hits); m0=$(hits misses)
    line=$(env "$@" wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$HERE/load/analysis_random.lua" "$base" | grep '^RESULT')
    h1=$(hits hits); m1=$(hits misses)
    # Redis's own counters: ours also reads a generation key per miss, so its % is a floor.
    line="$line redis_hit_pct=$(awk -v h=$((h1-h0)) -v m=$((m1-m0)) 'BEGIN{printf "%.1f", (h+m)?100*h/(h+m):0}')"
    printf '%s\t%s\t%s\n' "$label" "$rep" "$line" >> "$WORK/results.tsv"
    log "  $label rep $rep: $line"
  done
}

log "seeding: the contracts analysed, then $NANALYSES analyses"
psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS cr_bench_analyses WITH (FORCE)" -c "CREATE DATABASE cr_bench_analyses" >/dev/null
rm -rf "$WORK/data"
start_app CR_WORKER__CONCURRENCY=2
python3 "$HERE/pipeline.py" --upload-only --bin "$BIN" --data "$CONTRACTS" --port "$PORT" --key "$BENCH_KEY" --database "$DB"
stop_app
# Copies of the analyses (with jobs of their own) up to NANALYSES, bodies unchanged.
psql "$DB" -q -v n="$NANALYSES" -f "$HERE/seed_analyses.sql" >/dev/null
psql "$DB" -Atc "SELECT id FROM analyses ORDER BY id" > "$WORK/ids.txt"
log "$(wc -l < "$WORK/ids.txt") analyses, bodies $(psql "$DB" -Atc "SELECT avg(length(review::text))::int FROM analyses") bytes on average"

flush_ours
start_app CR_CACHE__ANALYSIS_LOCAL_BYTES="${LOCAL_BYTES:-67108864}"
log "warming the cache"
IDS_FILE="$WORK/ids.txt" wrk -t1 -c"$CONNS" -d10s -s "$HERE/load/analysis_random.lua" "http://127.0.0.1:$PORT" >/dev/null
measure "ours (h) GET analysis, hits" "http://127.0.0.1:$PORT" IDS_FILE="$WORK/ids.txt"
stop_app
flush_ours
start_app CR_CACHE__ANALYSIS_TTL_SECS=0.001 CR_CACHE__TTL_JITTER=0
IDS_FILE="$WORK/ids.txt" wrk -t1 -c"$CONNS" -d3s -s "$HERE/load/analysis_random.lua" "http://127.0.0.1:$PORT" >/dev/null
measure "ours (m) GET analysis, misses" "http://127.0.0.1:$PORT" IDS_FILE="$WORK/ids.txt"
stop_app
flush_ours

if [ -z "${SKIP_PEER:-}" ]; then
  log "the peer: 2 workers, the same review bodies as its findings"
  PEER_WORK=${PEER_WORK:-/tmp/peer}; VENV=${PEER_VENV:-$PEER_WORK/venv}
  bash "$PEER_DIR/services.sh" >&2
  if [ ! -x "$VENV/bin/uvicorn" ]; then python3 -m venv "$VENV" && "$VENV/bin/pip" install -q -r "$PEER_DIR/requirements.txt"; fi
  PEER_DSN=postgresql://peer:peer@127.0.0.1:5432/peer
  (cd "$PEER_DIR" && PGPASSWORD=peer "$VENV/bin/python" seed.py --docs 10000 >&2)
  psql "$DB" -c "\\copy (SELECT review FROM analyses ORDER BY id) TO '$WORK/reviews.txt'" >/dev/null
  PGPASSWORD=peer psql "$PEER_DSN" -q -c "CREATE TABLE IF NOT EXISTS bench_reviews (review jsonb)" -c "TRUNCATE bench_reviews" \
    -c "\\copy bench_reviews FROM '$WORK/reviews.txt'" \
    -c "TRUNCATE analyses RESTART IDENTITY" \
    -c "INSERT INTO analyses (document_id, status, risk_score, findings, model) SELECT (row_number() OVER () % 10000) + 1, 'completed', 0.5, review, 'peer-v1' FROM bench_reviews" \
    -c "DROP TABLE bench_reviews" >/dev/null
  start_peer() {
    (cd "$PEER_DIR" && exec env "$@" "$VENV/bin/uvicorn" app:app --app-dir . --host 127.0.0.1 --port 8000 --workers 2 \
        --loop uvloop --http httptools --no-access-log >"$WORK/peer.log" 2>&1) &
    PEER_PID=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:8000/analyses/1" >/dev/null && return 0; sleep 0.2; done
    cat "$WORK/peer.log" >&2; return 1
  }
  redis-cli -u "$TEST_REDIS_URL" --scan --pattern 'analysis:*' | xargs -r -n 500 redis-cli -u "$TEST_REDIS_URL" del >/dev/null
  start_peer
  PEER=1 wrk -t1 -c"$CONNS" -d10s -s "$HERE/load/analysis_random.lua" "http://127.0.0.1:8000" >/dev/null
  measure "peer (h) GET analysis, hits" "http://127.0.0.1:8000" PEER=1
  stop_peer
  redis-cli -u "$TEST_REDIS_URL" --scan --pattern 'analysis:*' | xargs -r -n 500 redis-cli -u "$TEST_REDIS_URL" del >/dev/null
  start_peer PEER_ANALYSIS_TTL=1
  measure "peer (m) GET analysis, TTL 1 s" "http://127.0.0.1:8000" PEER=1
  stop_peer
fi

python3 - "$WORK/results.tsv" <<'PY' | tee "$WORK/table.md"
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, _, result = line.rstrip("\n").split("\t")
    fields = dict(kv.split("=", 1) for kv in result.split()[1:])
    rows.setdefault(label, []).append(fields)
med = lambda label, key: statistics.median(float(r[key]) for r in rows[label])
print("| scenario | req/s | p50 ms | p99 ms | non-2xx | Redis hit % |")
print("|---|---|---|---|---|---|")
for label in rows:
    print(f"| {label} | {med(label, 'rps'):,.0f} | {med(label, 'p50_ms'):.2f} | {med(label, 'p99_ms'):.2f} | "
          f"{med(label, 'non2xx'):.0f} | {med(label, 'redis_hit_pct'):.1f} |")
for kind in ("h", "m"):
    ours = [l for l in rows if l.startswith(f"ours ({kind})")]
    peer = [l for l in rows if l.startswith(f"peer ({kind})")]
    if ours and peer:
        print(f"\n({kind}) ours / peer req/s: {med(ours[0], 'rps') / med(peer[0], 'rps'):.1f}x; "
              f"p99 {med(ours[0], 'p99_ms'):.2f} vs {med(peer[0], 'p99_ms'):.2f} ms")
PY
