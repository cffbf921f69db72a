#!/usr/bin/env bash
# Reruns the three seeds of the CONTA benchmark that ran with a newer jar's defaults (CONTA seed 4, C²AM seeds 3-4;
# docs/conta-benchmark.md, "Not done") with the study's own jar (commit 095a440) and its config. Each finished seed's
# report is kept in docs/results/conta-bench-rerun/ (commit it: a later sitting on another machine restores it and
# goes on); once all three are done they replace the mixed ones in docs/results/conta-bench/ and the tables and
# README's blocks are regenerated with this checkout's conta (bench/conta-tables.sh), all in one change, so the
# tables never mix the two (done in sessions 24-25: docs/conta-benchmark.md). Resumable across sittings: run it again. About 3.5 hours on 2 cores in
# all; the baseline's round 0 of seeds 3 and 4 is remade first, for C²AM and CONTA to copy (it must reproduce the
# committed baseline reports exactly: runs are deterministic per jar, and the script stops if one differs).
#
#   bench/conta-rerun.sh
# Environment: STUDY (/tmp/study-jar: a worktree of 095a440, added if missing; its launcher builds it), OUT
# (runs/bench; the mixed seeds' folders are moved to OUT-mixed/), DATA (runs/synth-bench; made if missing).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
STUDY=${STUDY:-/tmp/study-jar}; OUT=${OUT:-runs/bench}; DATA=${DATA:-runs/synth-bench}; KEEP=docs/results/conta-bench
STAGED=docs/results/conta-bench-rerun
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
RERUN="conta/seed4 c2am/seed3 c2am/seed4"; BASE="cam/seed3 cam/seed4"
[ -f "$DATA/synth.json" ] || ./conta synth --out "$DATA" --train 600 --val 150 --size 112 --bias 0.8
[ -d "$STUDY" ] || git worktree add "$STUDY" 095a440
[ "$(git -C "$STUDY" rev-parse --short=7 HEAD)" = 095a440 ] || { echo "bench/conta-rerun.sh: $STUDY is not a checkout of 095a440 (STUDY=...)" >&2; exit 2; }

# the other seeds, and the rerun seeds finished in an earlier sitting, as finished results (compare only re-reads a
# folder holding its report.json), as bench/conta-study.sh does
for f in "$KEEP"/*/seed*/report.json "$STAGED"/*/seed*/report.json; do
  [ -f "$f" ] || continue
  d=${f#"$KEEP"/}; d=${d#"$STAGED"/}; d=${d%/report.json}
  case " $RERUN $BASE " in *" $d "*) [ "${f#"$STAGED"/}" != "$f" ] || continue ;; esac
  [ -e "$OUT/$d" ] || { mkdir -p "$OUT/$d"; cp "$f" "$OUT/$d/"; }
done
# the baseline of a seed whose rerun seeds are all staged is only re-read (it is remade only for them to copy)
for k in 3 4; do
  need="c2am/seed$k"; [ "$k" = 4 ] && need="conta/seed4 c2am/seed4"
  all=1; for d in $need; do [ -f "$STAGED/$d/report.json" ] || all=0; done
  [ "$all" = 1 ] && [ ! -e "$OUT/cam/seed$k" ] && { mkdir -p "$OUT/cam/seed$k"; cp "$KEEP/cam/seed$k/report.json" "$OUT/cam/seed$k/"; }
done
# folders of the mixed recipe, and baseline folders holding only their report, go aside once (OUT-mixed/, never over
# an earlier one) so that compare remakes them; a folder of this rerun in progress has no report yet and stays
for d in $RERUN $BASE; do
  [ -d "$OUT/$d" ] || continue
  k=${d##*seed}; staged=0; [ "${d%/*}" = cam ] && [ -f "$STAGED/c2am/seed$k/report.json" ] && { [ "$k" = 3 ] || [ -f "$STAGED/conta/seed4/report.json" ]; } && staged=1
  if { [ -f "$OUT/$d/report.json" ] && grep -q '"seg.train_bn": "false"' "$OUT/$d/report.json"; } || { [ "${d%/*}" = cam ] && [ ! -d "$OUT/$d/round0" ] && [ "$staged" = 0 ]; }; then
    aside="${OUT%/}-mixed/$d"; [ -e "$aside" ] && aside="$aside.$(date +%s)"
    mkdir -p "$(dirname "$aside")"; mv "$OUT/$d" "$aside"
  fi
done

abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
DATA_ABS=$(abs "$DATA"); OUT_ABS=$(abs "$OUT")   # here, before the cd below
(cd "$STUDY" && nice -n 5 ./conta compare --config models/conta-bench.conf --data "$DATA_ABS" --out "$OUT_ABS" \
  --methods cam,conta,c2am --seeds 5)

done_=0
same() { # two reports equal apart from their timings and the data folder's spelling
  python3 -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
k = lambda r: {x: y for x, y in r.items() if x not in ("timings", "data")}
sys.exit(0 if k(a) == k(b) else 1)' "$1" "$2"
}
for d in $BASE $RERUN; do
  f=$OUT/$d/report.json
  [ -f "$f" ] && ! grep -q '"stopped_after"' "$f" || continue
  if [ "${d%/*}" = cam ]; then
    same "$f" "$KEEP/$d/report.json" || {
      echo "bench/conta-rerun.sh: $f differs from the committed $KEEP/$d/report.json beyond its timings: not the study's jar or data?" >&2; exit 1; }
  else
    mkdir -p "$STAGED/$d"; cp "$f" "$STAGED/$d/report.json"; done_=$((done_ + 1))
  fi
done
echo "bench/conta-rerun.sh: $done_ of 3 seeds rerun, kept in $STAGED (commit them)"
if [ "$done_" -eq 3 ]; then   # a partial run is not a failure: run the script again
  for d in $RERUN; do cp "$STAGED/$d/report.json" "$KEEP/$d/report.json"; done
  rm -rf "$STAGED"
  bench/conta-tables.sh
  echo "bench/conta-rerun.sh: the three seeds replace the mixed ones in $KEEP; tables and README regenerated (commit them)"
fi
