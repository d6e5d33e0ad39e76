#!/usr/bin/env bash
# The README's main command, shortened with --max-steps 5, exactly as a new user runs it from a clean clone:
# no ../shared (FINSENT_SHARED points nowhere) and no FINSENT_DATA, so the data come from the embedded copy
# (finsent-data). Checks that it exits 0, wrote the model directory, and that its model card names the embedded copy.
set -euo pipefail
cd "$(dirname "$0")/.."
out=runs/ci-fresh-clone-main-job
rm -rf "$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
FINSENT_SHARED=/nonexistent FINSENT_DATA= mvn -B -q -pl finsent-app -am -DskipTests package exec:java \
  -Dexec.args="train --model all-MiniLM-L6-v2 --data fpb --technique lora --epochs 3 --batch-size 16 --max-seq-length 64 --lr 3e-3 --save-steps 0 --max-steps 5 --output $out --predict 'The company reported strong earnings, exceeding market expectations.' --predict 'Shares of the company fell sharply after it issued a profit warning.' --predict 'The company will hold its annual general meeting on 15 March.'" \
  2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
fail() { echo "fresh-clone main job: $*" >&2; exit 1; }
[ "$rc" -eq 0 ] || fail "the command exited $rc"
for f in finsent.json config.json adapter_config.json adapter_model.safetensors metrics.json README.md; do
  [ -s "$out/$f" ] || fail "$out/$f was not written"
done
# Maven's -q hides INFO logs (exec:java logs through Maven's own SLF4J): the summary and the model card name the source
grep -q "^data: classpath:org/finsent/data/Sentences_50Agree.dev.txt from the embedded copy" "$log" \
  || fail "the output does not name the embedded data source"
grep -q "FinSent's embedded copy" "$out/README.md" || fail "$out/README.md does not name the embedded data source"
grep -q '"global_step" : 5' "$out/metrics.json" || grep -q '"global_step":5' "$out/metrics.json" \
  || fail "$out/metrics.json does not record 5 steps"
echo "fresh-clone main job: ok ($out)"
