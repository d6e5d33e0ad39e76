#!/usr/bin/env bash
# The side-by-side benchmarks of docs/BENCHMARKS.md (FinSent vs PyTorch via DJL, vs ONNX Runtime), interleaved in one
# process per table so shared-machine load hits both alike. Usage, from the repository root:
#
#   finsent-bench/run-benchmarks.sh            # everything (about 15 min on an idle 2-vCPU machine)
#   QUICK=1 finsent-bench/run-benchmarks.sh    # fewer repetitions, BERT-Base only for training (about 5 min)
#   SKIP_BUILD=1 ...                           # reuse finsent-bench/target/benchmarks.jar
#
# Output: one log per part under finsent-bench/target/bench-results/<timestamp>/; the RESULT / ALONE / MEMORY lines are the
# table rows. OpenBLAS reports the core it chose (OPENBLAS_VERBOSE=2 → "Core: ..."). Where the environment sets
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (these machines set Haswell / 512), the training and inference parts run a
# second time with both unset *in that command alone* (env -u), so OpenBLAS autodetects as it does on users'
# machines. ONNX Runtime (MLAS) picks its kernels itself: those variables change only our side of the inference rows.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -n "${SKIP_BUILD:-}" ]] || mvn -B -q -pl finsent-bench -am -DskipTests package
JAR=finsent-bench/target/benchmarks.jar
OUT=finsent-bench/target/bench-results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
# OMP_WAIT_POLICY=PASSIVE: on a shared, oversubscribed machine OpenMP threads that spin-wait at every barrier steal
# each other's time slices; both ND4J (libnd4j) and libtorch use OpenMP. Measured on a loaded 2-vCPU VM: a MiniLM
# 1 x 17 forward took 5-7 s with the default policy and 0.08-0.5 s with PASSIVE. On an idle machine it matters little.
export OMP_NUM_THREADS=2 OPENBLAS_VERBOSE=2 OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
QUICKFLAG=()
[[ -n "${QUICK:-}" ]] && QUICKFLAG=(-Dquick=true)
JAVA=(java -Xmx10g "${QUICKFLAG[@]}" -Dai.djl.offline=true -DDJL_CACHE_DIR=finsent-bench/target/djl-cache
      -Dai.djl.pytorch.num_threads=2 -Dai.djl.pytorch.num_interop_threads=1 -cp "$JAR" org.finsent.bench.Compare)
run() { # name, env prefix..., -- , Compare args...
  local name=$1; shift
  echo "== $name: $*" | tee -a "$OUT/commands.txt"
  "$@" > "$OUT/$name.log" 2>&1 || echo "   (exit $?)"
  grep -E '^(MACHINE|Core|PEAK|RESULT|MEMORY|ALONE)' "$OUT/$name.log" || true
}
configs=(default)
[[ -n "${OPENBLAS_CORETYPE:-}${OPENBLAS_L2_SIZE:-}" ]] && configs+=(autodetect)
for cfg in "${configs[@]}"; do
  pre=(); [[ $cfg == autodetect ]] && pre=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
  if [[ -n "${QUICK:-}" ]]; then
    run "train-bert-$cfg" "${pre[@]}" "${JAVA[@]}" train BERT_BASE FULL,LORA,ADAPTER,PREFIX
  else
    run "train-bert-$cfg" "${pre[@]}" "${JAVA[@]}" train BERT_BASE FULL,LORA,ADAPTER,PREFIX 3
    run "train-minilm-$cfg" "${pre[@]}" "${JAVA[@]}" train MINILM FULL,LORA,ADAPTER,PREFIX 3
    run "train-gpt2-$cfg" "${pre[@]}" "${JAVA[@]}" train GPT2_SMALL FULL,LORA,ADAPTER,PREFIX 2
  fi
  # interleaved (both sides under the same load) and each contender alone: ONNX Runtime's intra-op threads spin
  # after each run by default, which slows whichever contender runs next in the interleaved mode
  run "infer-$cfg" "${pre[@]}" "${JAVA[@]}" infer
  run "infer-alone-$cfg" "${pre[@]}" "${JAVA[@]}" infer-alone
done
run fpb "${JAVA[@]}" fpb BERT_BASE FULL,LORA
for impl in ours torch; do
  for t in FULL LORA ADAPTER PREFIX; do run "memory-$t-$impl" "${JAVA[@]}" memory BERT_BASE "$t" "$impl" 2; done
done
echo "logs in $OUT"
