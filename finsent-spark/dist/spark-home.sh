#!/usr/bin/env bash
# Builds a Spark 4.0.1 installation (SPARK_HOME) from Spark's Maven Central artifacts, for machines without a Spark
# distribution: jars/ holds the runtime closure of spark-sql and spark-mllib as Spark's own POMs resolve it (no
# FinSent dependency management applies), and bin/ holds spark-class, spark-submit and the standalone cluster's
# start commands, which run the launcher exactly as a distribution's scripts do (org.apache.spark.launcher.Main builds
# the java command line; the script executes it). Used by .ci/spark-submit.sh; see docs/SPARK.md.
#
#   finsent-spark/dist/spark-home.sh DIR        # then: DIR/bin/spark-submit --class ... finsent.jar ...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
home=${1:?usage: spark-home.sh DIR}
version=$(cd "$here/../.." && sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' pom.xml)
scala=$(cd "$here/../.." && sed -n 's:.*<scala.binary.version>\(.*\)</scala.binary.version>.*:\1:p' pom.xml)
mkdir -p "$home/jars" "$home/bin" "$home/conf" "$home/work"
home=$(cd "$home" && pwd)
if [ ! -f "$home/jars/spark-core_$scala-$version.jar" ]; then
  pom=$(mktemp -d)
  trap 'rm -rf "$pom"' EXIT
  cat > "$pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>spark-home</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-sql_$scala</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-mllib_$scala</artifactId><version>$version</version></dependency>
  </dependencies>
</project>
POM
  mvn -B -q -f "$pom/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$home/jars"
fi
echo "Spark $version (Scala $scala), assembled from Maven artifacts" > "$home/RELEASE"

# bin/spark-class: what a distribution's spark-class does (minus its optional env files)
cat > "$home/bin/spark-class" <<'SH'
#!/usr/bin/env bash
export SPARK_HOME="$(cd "$(dirname "$0")/.." && pwd)"
export SPARK_SCALA_VERSION=${SPARK_SCALA_VERSION:-2.13}
export SPARK_CONF_DIR=${SPARK_CONF_DIR:-$SPARK_HOME/conf}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
# the launcher prints its messages, an empty line, then the command's arguments separated by NUL
CMD=()
DELIM=$'\n'
STARTED=false
while IFS= read -d "$DELIM" -r ARG; do
  if [ "$STARTED" = true ]; then CMD+=("$ARG")
  elif [ -z "$ARG" ]; then DELIM=''; STARTED=true
  else echo "$ARG"
  fi
done < <("$JAVA" -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main "$@"; printf '%d\0' $?)
LAST=$((${#CMD[@]} - 1))
[ "${CMD[$LAST]}" = 0 ] || exit "${CMD[$LAST]}"
exec "${CMD[@]:0:$LAST}"
SH
printf '#!/usr/bin/env bash\nexec "$(dirname "$0")/spark-class" org.apache.spark.deploy.SparkSubmit "$@"\n' > "$home/bin/spark-submit"
chmod +x "$home/bin/spark-class" "$home/bin/spark-submit"
echo "SPARK_HOME=$home ($(ls "$home/jars" | wc -l) jars)"
