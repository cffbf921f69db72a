#!/usr/bin/env bash
# Regenerates the CONTA benchmark's tables (docs/results/conta-bench/comparison.{md,json,html}) and README's generated
# blocks from the committed per-seed reports, running nothing: every method with the seeds it has finished, paired
# rows paired by seed (`conta compare --tables-only`). For a study whose methods are at different seeds (e.g. C²AM
# behind the baseline and CONTA); bench/conta-study.sh writes the tables of the methods it runs.
#
#   bench/conta-tables.sh
# Environment: KEEP (docs/results/conta-bench), DATA (runs/synth-bench; made if missing, for the context-coupled
# classes), CONTA (the conta command).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
KEEP=${KEEP:-docs/results/conta-bench}; DATA=${DATA:-runs/synth-bench}; CONTA=${CONTA:-./conta}
[ -f "$DATA/synth.json" ] || $CONTA synth --out "$DATA" --train 600 --val 150 --size 112 --bias 0.8
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
methods=""; seeds=0
for m in cam conta c2am conta+c2am; do                      # the baseline first: the paired rows are against it
  n=0
  for f in "$KEEP/$m"/seed*/report.json; do
    [ -f "$f" ] || continue
    k=${f%/report.json}; k=${k##*/seed}
    mkdir -p "$tmp/$m/seed$k"; cp "$f" "$tmp/$m/seed$k/"
    n=1; [ $((k + 1)) -gt "$seeds" ] && seeds=$((k + 1))
  done
  [ "$n" = 1 ] && methods="${methods:+$methods,}$m"
done
[ -n "$methods" ] || { echo "no per-seed reports under $KEEP" >&2; exit 2; }
$CONTA compare --config models/conta-bench.conf --data "$DATA" --out "$tmp" --methods "$methods" --seeds "$seeds" --tables-only
for f in comparison.md comparison.json comparison.html; do cp "$tmp/$f" "$KEEP/$f"; done
docs/readme_numbers.sh
