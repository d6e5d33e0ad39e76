#!/usr/bin/env bash
# Proves the installed POMs work for a stranger: FinSent's library modules are installed into a throw-away local
# repository, and tools/consumer (outside the reactor) builds against it with its own ND4J backend, fine-tunes a few
# steps and predicts. Also checks that no library module brings an ND4J backend or native classifier.
set -euo pipefail
cd "$(dirname "$0")/.."
libs=finsent-tokenizers,finsent-core,finsent-peft,finsent-train,finsent-report

for m in ${libs//,/ }; do
  deps=$(mvn -B -q dependency:list -pl "$m" -DincludeScope=runtime -DoutputFile=/dev/stdout)
  if [ "$m" != finsent-tokenizers ] && ! grep -q 'org.nd4j:nd4j-api:' <<<"$deps"; then
    echo "dependency:list of $m did not list nd4j-api: the check below would prove nothing" >&2; exit 1
  fi
  if grep -E 'nd4j-native(-platform)?:|nd4j-cuda|:(linux|macosx|windows|android)-[a-z0-9_]+:' <<<"$deps"; then
    echo "library module $m brings an ND4J backend or natives (above)" >&2; exit 1
  fi
done
echo "library modules: no ND4J backend, no native classifier"

repo=$(mktemp -d "${TMPDIR:-/tmp}/finsent-consumer-m2.XXXXXX")
trap 'rm -rf "$repo"' EXIT
# third-party artifacts come from the machine's repository (hard links, copies where links fail); FinSent's never do
cp -al "$HOME/.m2/repository/." "$repo/" 2>/dev/null || cp -a "$HOME/.m2/repository/." "$repo/"
rm -rf "$repo/org/finsent"
mvn -B -q -Dmaven.repo.local="$repo" -DskipTests install -pl "$libs" -am
# (no `cmd | grep -q` under pipefail: grep -q exits at the first match and the writer may die of SIGPIPE)
installed=$(ls "$repo/org/finsent/finsent-train/0.1.0-SNAPSHOT/")
grep -q -- '-sources.jar' <<<"$installed" || { echo "no sources jar installed" >&2; exit 1; }
grep -q -- '-javadoc.jar' <<<"$installed" || { echo "no javadoc jar installed" >&2; exit 1; }
manifest=$(unzip -p "$repo/org/finsent/finsent-core/0.1.0-SNAPSHOT/finsent-core-0.1.0-SNAPSHOT.jar" META-INF/MANIFEST.MF)
grep -q 'Automatic-Module-Name: org.finsent.core' <<<"$manifest" || { echo "no Automatic-Module-Name in finsent-core" >&2; exit 1; }
out=$(mvn -B -q -Dmaven.repo.local="$repo" -Djavacpp.platform.host -f tools/consumer/pom.xml compile exec:java 2>&1) \
  || { printf '%s\n' "$out"; echo "the consumer project failed" >&2; exit 1; }
printf '%s\n' "$out"
grep -q 'consumer OK' <<<"$out" || { echo "the consumer did not finish" >&2; exit 1; }
echo "consumer project: built against the installed artifacts, trained, saved, loaded, predicted"
