#!/usr/bin/env bash
# Rewrites README.md's generated number blocks (<!-- numbers:NAME -->) from the result files in docs/results/.
# After a new demo run: cp runs/demo/report.json docs/results/demo/report.json && docs/readme_numbers.sh
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,3p' "$0" | sed 's/^# //'; echo "usage: docs/readme_numbers.sh   (no arguments; rewrites README.md in place)"; exit 0 ;;
  "") ;;
  *) echo "docs/readme_numbers.sh takes no arguments (got '$1'); see --help" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mvn -q -o -B test-compile >&2 || mvn -q -B test-compile >&2
"$JAVA_HOME/bin/java" -cp "target/classes:target/test-classes:target/lib/*" conta.docs.ReadmeNumbers --write README.md
