#!/usr/bin/env bash
# Bounded load test of `finsent serve` with wrk on loopback (Debian: apt-get install wrk). Figures: docs/BENCHMARKS.md.
#
#   mvn -B -q -pl finsent-app -am -DskipTests package          # finsent-app/target/finsent.jar
#   finsent-app/load/serve-wrk.sh MODEL_DIR [SECONDS_PER_RUN] [RUNS]
#
# MODEL_DIR is a `finsent train` output directory. Texts are FinancialPhraseBank dev sentences from
# $FINSENT_SHARED (default ../shared), the same ones `Compare predictor MODEL_DIR` times the Predictor on:
#   1 connection:   the first sentence of at most 8 words, over and over (latency: p50, p99)
#   16 connections: every sentence in file order, cycled (throughput, p50, p99)
# each with the adaptive batch policy (the default) and the fixed one, both --micro-batch 32 --batch-wait-ms 5.
# EXTRA=1 adds POST /analyze/batch (16 texts, 4 connections) and 16 connections with batching off. For each
# configuration the script starts a server, warms it up for 3 s, runs wrk RUNS times (later runs show whether memory
# keeps growing), records the server's resident memory (RSS) and /health (mean batch size), and stops it with SIGTERM
# (graceful shutdown). Every run is bounded by SECONDS. SERVE_JAVA_OPTS replaces the server's JVM options (-Xmx1g);
# SERVE_ARGS is added to every server's arguments (e.g. "--warm-up 0").
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:?usage: serve-wrk.sh MODEL_DIR [SECONDS_PER_RUN] [RUNS]}
SECS=${2:-10}
RUNS=${3:-3}
JAR=finsent-app/target/finsent.jar
LUA=finsent-app/load
PORT=${PORT:-18181}
URL=http://127.0.0.1:$PORT
FPB=${FINSENT_SHARED:-../shared}/data/financial_phrasebank/Sentences_50Agree.dev.txt
command -v wrk >/dev/null || { echo "wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }
[ -f "$JAR" ] || { echo "$JAR not found: mvn -B -q -pl finsent-app -am -DskipTests package" >&2; exit 1; }
[ -f "$FPB" ] || { echo "$FPB not found: set FINSENT_SHARED to the shared/ directory" >&2; exit 1; }

TEXTS=$(mktemp -d)
# the sentence before the last '@' (the label), ISO-8859-1 to UTF-8, as FinancialPhraseBank.read does
iconv -f ISO-8859-1 -t UTF-8 "$FPB" | sed -E 's/@[^@]*$//; s/[[:space:]]+$//' | grep -v '^$' > "$TEXTS/fpb.txt"
awk 'NF <= 8 { print; exit }' "$TEXTS/fpb.txt" > "$TEXTS/one.txt"

rss_mb() { echo $(( $(ps -o rss= -p "$1") / 1024 )); }

serve() { # serve NAME ARGS...: start the server, wait for /health
  java ${SERVE_JAVA_OPTS:--Xmx1g} -jar "$JAR" serve --model "$MODEL" --port "$PORT" "${@:2}" ${SERVE_ARGS:-} > "/tmp/serve-wrk-$1.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 240); do curl -sf "$URL/health" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "server did not start; see /tmp/serve-wrk-$1.log" >&2; kill "$SERVER"; exit 1
}

stop() { kill -TERM "$SERVER"; wait "$SERVER" || true; }
trap 'kill -TERM "${SERVER:-}" 2>/dev/null || true; rm -rf "$TEXTS"' EXIT   # never leave a server behind

load() { # load NAME SCRIPT CONNECTIONS TEXTS_FILE DESCRIPTION SERVER_ARGS...
  local name=$1 script=$2 conns=$3 texts=$4 desc=$5
  shift 5
  echo "== $name: $desc; serve $*"
  serve "$name" "$@"
  local threads=$(( conns < 2 ? conns : 2 ))                  # wrk needs connections >= threads
  FINSENT_TEXTS=$texts wrk -t"$threads" -c"$conns" -d3s -s "$LUA/$script" "$URL" > /dev/null   # warm-up (JIT, first batches)
  local before; before=$(rss_mb "$SERVER")
  for run in $(seq 1 "$RUNS"); do
    local line; line=$(FINSENT_TEXTS=$texts wrk -t"$threads" -c"$conns" -d"${SECS}s" --timeout 10s --latency -s "$LUA/$script" "$URL" | grep '^RESULT')
    echo "${line/RESULT /$name run $run: }"
    [[ $line == *'"connect": 0, "read": 0, "write": 0, "timeout": 0, "non_2xx": 0'* ]] || { echo "   ERRORS in this run"; FAILED=1; }
    echo "   RSS MB: before $before, after run $run $(rss_mb "$SERVER")"
  done
  echo "   health (warm-up included): $(curl -s "$URL/health")"
  stop
}

echo "finsent serve load test: $(getconf _NPROCESSORS_ONLN) cores, OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}, model $MODEL, ${SECS}s x $RUNS runs, $(date -u +%FT%TZ)"
echo "one text: $(cat "$TEXTS/one.txt"); cycled: $(wc -l < "$TEXTS/fpb.txt") sentences"
B="--micro-batch 32 --batch-wait-ms 5"
for policy in ${POLICIES:-adaptive fixed}; do   # POLICIES="fixed adaptive" measures in the other order
  load "1conn-$policy" single.lua 1 "$TEXTS/one.txt" "POST /analyze, 1 connection, one short sentence" $B --batch-policy $policy
  load "16conn-$policy" single.lua 16 "$TEXTS/fpb.txt" "POST /analyze, 16 connections, FPB sentences" $B --batch-policy $policy
done
if [ "${EXTRA:-0}" = 1 ]; then
  load batch-endpoint batch.lua 4 "" "POST /analyze/batch (16 texts of texts.lua), 4 connections" $B
  load 16conn-unbatched single.lua 16 "$TEXTS/fpb.txt" "POST /analyze, 16 connections, batching off" --micro-batch 1 --batch-wait-ms 0
fi
exit "${FAILED:-0}"   # non-zero when any run had an error
