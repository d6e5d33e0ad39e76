#!/usr/bin/env bash
# Bounded load test of `finsent serve` with wrk on loopback (Debian: apt-get install wrk). Figures: docs/BENCHMARKS.md.
#
#   mvn -B -q -pl finsent-app -am -DskipTests package          # finsent-app/target/finsent.jar
#   finsent-app/load/serve-wrk.sh MODEL_DIR [SECONDS_PER_RUN] [CONNECTIONS]
#
# MODEL_DIR is a `finsent train` output directory. For each configuration the script starts the server, warms it up,
# runs wrk three times (later runs show whether memory keeps growing), records the server's resident memory (RSS)
# before and after each run, and stops it with SIGTERM (graceful shutdown). Every run is bounded by SECONDS.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:?usage: serve-wrk.sh MODEL_DIR [SECONDS_PER_RUN] [CONNECTIONS]}
SECS=${2:-20}
CONNS=${3:-16}
JAR=finsent-app/target/finsent.jar
LUA=finsent-app/load
PORT=${PORT:-18181}
URL=http://127.0.0.1:$PORT
command -v wrk >/dev/null || { echo "wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }
[ -f "$JAR" ] || { echo "$JAR not found: mvn -B -q -pl finsent-app -am -DskipTests package" >&2; exit 1; }

rss_mb() { echo $(( $(ps -o rss= -p "$1") / 1024 )); }

serve() { # serve NAME ARGS...: start the server, wait for /health
  java -Xmx1g -jar "$JAR" serve --model "$MODEL" --port "$PORT" "${@:2}" > "/tmp/serve-wrk-$1.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 240); do curl -sf "$URL/health" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "server did not start; see /tmp/serve-wrk-$1.log" >&2; kill "$SERVER"; exit 1
}

stop() { kill -TERM "$SERVER"; wait "$SERVER" || true; }
trap 'kill -TERM "${SERVER:-}" 2>/dev/null || true' EXIT   # never leave a server behind

load() { # load NAME SCRIPT CONNECTIONS
  echo "== $1: $CONNS_DESC"
  local threads=$(( $3 < 2 ? $3 : 2 ))                  # wrk needs connections >= threads
  wrk -t"$threads" -c"$3" -d3s -s "$LUA/$2" "$URL" > /dev/null   # warm-up (JIT, first batches)
  local before; before=$(rss_mb "$SERVER")
  for run in 1 2 3; do
    local line; line=$(wrk -t"$threads" -c"$3" -d"${SECS}s" --timeout 10s --latency -s "$LUA/$2" "$URL" | grep '^RESULT')
    echo "${line/RESULT /$1 run $run: }"
    [[ $line == *'"connect": 0, "read": 0, "write": 0, "timeout": 0, "non_2xx": 0'* ]] || { echo "   ERRORS in this run"; FAILED=1; }
    echo "   RSS MB: before $before, after run $run $(rss_mb "$SERVER")"
  done
  curl -s "$URL/health"; echo
}

echo "finsent serve load test: $(getconf _NPROCESSORS_ONLN) cores, OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}, model $MODEL, ${SECS}s per run, $(date -u +%FT%TZ)"
serve batched --micro-batch 32 --batch-wait-ms 5
CONNS_DESC="POST /analyze, $CONNS connections, micro-batching on (32, 5 ms)"; load single-batched single.lua "$CONNS"
CONNS_DESC="POST /analyze, 1 connection (latency floor, no one to batch with)"; load single-1conn single.lua 1
CONNS_DESC="POST /analyze/batch (16 texts), 4 connections"; load batch-endpoint batch.lua 4
stop
serve unbatched --micro-batch 1 --batch-wait-ms 0
CONNS_DESC="POST /analyze, $CONNS connections, micro-batching off (1 text per forward pass)"; load single-unbatched single.lua "$CONNS"
stop
exit "${FAILED:-0}"   # non-zero when any run had an error
