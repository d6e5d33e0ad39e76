#!/usr/bin/env bash
# The Spark scoring job as a cluster runs it: spark-submit against a standalone Spark cluster (a master and a worker,
# each its own JVM, started through Spark's launcher as a distribution's scripts start them), two executor JVMs of
# one core each. The Spark installation is assembled from Spark's Maven artifacts (finsent-spark/dist/spark-home.sh).
# Checks: the job scores every row, the empty row gets an error instead of failing the job, every executor JVM that
# ran a task loaded the model exactly once, and every label and probability equals `finsent predict` (single JVM).
# Needs finsent-app/target/finsent.jar and the model of .ci/fresh-clone-main-job.sh (run that first).
set -euo pipefail
cd "$(dirname "$0")/.."
jar=finsent-app/target/finsent.jar
model=${SPARK_CHECK_MODEL:-runs/ci-fresh-clone-main-job}
[ -f "$jar" ] && [ -f "$model/finsent.json" ] || { echo "spark-submit check: run .ci/fresh-clone-main-job.sh first" >&2; exit 1; }
command -v python3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3; }
work=$(mktemp -d)
spark_home=finsent-spark/target/spark-home
port=${SPARK_CHECK_PORT:-17077}
export SPARK_LOCAL_IP=127.0.0.1
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${SPARK_CHECK_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "spark-submit check: $*" >&2; for f in "$work"/*.log; do echo "--- $f"; tail -40 "$f"; done >&2; exit 1; }
wait_for() { # wait_for LOG PATTERN WHAT
  for _ in $(seq 1 120); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.5; done
  fail "$3 did not start"
}

finsent-spark/dist/spark-home.sh "$spark_home"
java -jar "$jar" export --model "$model" --output "$work/model" 2>&1 | tail -1

# 300 FinancialPhraseBank sentences (the embedded copy) and one empty row, as a CSV with a header
iconv -f ISO-8859-1 -t UTF-8 finsent-data/src/main/resources/org/finsent/data/Sentences_50Agree.dev.txt \
  | sed -E 's/@[^@]*$//; s/[[:space:]]+$//' | awk 'NF && ++n <= 300' > "$work/texts.txt"   # awk reads to the end: no SIGPIPE
python3 - "$work" <<'PY'
import csv, sys
w = sys.argv[1]
texts = open(f"{w}/texts.txt", encoding="utf-8").read().splitlines()
with open(f"{w}/in.csv", "w", newline="", encoding="utf-8") as f:
    out = csv.writer(f)
    out.writerow(["id", "text"])
    for i, t in enumerate(texts):
        out.writerow([i, t])
    out.writerow([len(texts), ""])
PY

"$spark_home/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port 0 \
  > "$work/master.log" 2>&1 &
pids+=($!)
wait_for "$work/master.log" "I have been elected leader" "the master"
"$spark_home/bin/spark-class" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 2 --memory 3g \
  --work-dir "$work/worker" --webui-port 0 "spark://127.0.0.1:$port" > "$work/worker.log" 2>&1 &
pids+=($!)
wait_for "$work/worker.log" "Successfully registered with master" "the worker"

"$spark_home/bin/spark-submit" --master "spark://127.0.0.1:$port" --deploy-mode client \
  --driver-memory 1g --executor-memory 1g --total-executor-cores 2 \
  --conf spark.executor.cores=1 --conf spark.task.cpus=1 \
  --conf spark.executorEnv.OMP_NUM_THREADS=1 --conf spark.executorEnv.OMP_WAIT_POLICY=PASSIVE \
  --conf spark.scheduler.minRegisteredResourcesRatio=1.0 \
  --class org.finsent.spark.ScoreMain "$jar" \
  --model "$work/model" --input "$work/in.csv" --output "$work/scored.jsonl" --partitions 4 > "$work/submit.log" 2>&1 \
  || fail "spark-submit exited $?"
summary=$(grep '^scored ' "$work/submit.log") || fail "no summary line"
echo "$summary"
[[ $summary == "scored 301 rows "*": 1 without a prediction"* ]] || fail "expected 301 rows, 1 without a prediction: $summary"

# every executor JVM that ran a task loaded the model once
loads=0 executors=0
for err in "$work"/worker/app-*/*/stderr; do
  n=$(grep -c "loaded FinSent model" "$err" || true)
  [ "$n" -le 1 ] || fail "executor $err loaded the model $n times"
  loads=$((loads + n)); executors=$((executors + 1))
done
[ "$executors" -eq 2 ] || fail "expected 2 executor JVMs, found $executors"
[ "$loads" -ge 1 ] || fail "no executor loaded the model"
echo "executor JVMs: $executors; model loads: $loads (at most one per JVM)"

java -jar "$jar" predict --model "$model" --json --file "$work/texts.txt" > "$work/predict.jsonl" 2> "$work/predict.log" \
  || fail "finsent predict failed"
python3 - "$work" <<'PY' || fail "the cluster's predictions differ from finsent predict"
import glob, json, sys
w = sys.argv[1]
single = [json.loads(l) for l in open(f"{w}/predict.jsonl", encoding="utf-8")]
rows = {}
for part in glob.glob(f"{w}/scored.jsonl/part-*"):
    for line in open(part, encoding="utf-8"):
        r = json.loads(line)
        rows[int(r["id"])] = r
assert len(rows) == len(single) + 1, (len(rows), len(single))
worst = 0.0
for i, s in enumerate(single):
    r = rows[i]
    assert r["error"] is None and r["label"] == s["label"], (i, r, s)
    for k, p in s["probabilities"].items():
        worst = max(worst, abs(r["scores"][k] - p))
assert worst <= 1e-5, worst   # FP32 logits; a text padded to another length in another batch meets other GEMM blocking
empty = rows[len(single)]
assert empty["label"] is None and empty["error"] is not None, empty
print(f"labels equal finsent predict on {len(single)} texts; largest probability difference {worst:.1e}; "
      f"empty row: error '{empty['error']}'")
PY
echo "spark-submit check: ok"
