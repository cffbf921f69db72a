#!/usr/bin/env bash
# Rewrites README.md's generated number blocks (<!-- numbers:NAME -->) from the result files in docs/results/.
# After a new demo run: cp runs/demo/report.json docs/results/demo/report.json && docs/readme_numbers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mvn -q -o -B test-compile >&2 || mvn -q -B test-compile >&2
"$JAVA_HOME/bin/java" -cp "target/classes:target/test-classes:target/lib/*" conta.docs.ReadmeNumbers --write README.md
