#!/usr/bin/env bash
# The CONTA benchmark study (docs/conta-benchmark.md), one seed at a time and resumable across sittings and machines:
#   1. makes the synthetic set if it is missing (deterministic: seed 0);
#   2. restores the committed per-seed results (docs/results/conta-bench/METHOD/seedK/report.json) into OUT, where
#      `conta compare` takes a folder holding only its report.json as a finished seed of the same recipe;
#   3. for k = 1..SEEDS runs `conta compare --seeds k` (seeds already done are only re-read), copies every finished
#      seed's report.json back to docs/results/conta-bench/ and regenerates the tables there from all of them
#      (bench/conta-tables.sh: every method with its finished seeds, also those METHODS leaves out; commit them);
#   4. runs CONTA's two matched controls of the seed (CONTROLS, default "zero matched"; round 1's CAM stage from the
#      seed's round 0, ~7 minutes each; skipped with --set overrides): the zero-filled context channel
#      (bench/conta-ablation.sh zero conta.concat=zero) and the head's init matched to the baseline's
#      (matched conta.head_init=matched). They pair CONTA's context with a run that differs in the context alone
#      (README), so they are the cheap way to more paired seeds: METHODS=cam runs the baseline and both controls only.
#
#   bench/conta-study.sh 5                    # cam vs conta, seeds 0..4, with the controls
#   METHODS=cam bench/conta-study.sh 6        # more seeds of the baseline and the controls, without CONTA's rounds 2-3
#   METHODS=cam,conta,c2am bench/conta-study.sh 3
# Environment: METHODS (cam,conta), CONTROLS (zero matched; "" for none), OUT (runs/bench), DATA (runs/synth-bench),
# KEEP (docs/results/conta-bench), CONTA (the conta command; a copy of the jar keeps a long study safe from rebuilds
# of target/).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
SEEDS=${1:-5}; shift || true
METHODS=${METHODS:-cam,conta}; CONTROLS=${CONTROLS-zero matched}; OUT=${OUT:-runs/bench}; DATA=${DATA:-runs/synth-bench}; KEEP=${KEEP:-docs/results/conta-bench}
CONTA=${CONTA:-./conta}

[ -f "$DATA/synth.json" ] || $CONTA synth --out "$DATA" --train 600 --val 150 --size 112 --bias 0.8

if [ -d "$KEEP" ]; then
  for f in "$KEEP"/*/seed*/report.json; do
    [ -f "$f" ] || continue
    d="$OUT/${f#"$KEEP"/}"; d="${d%/report.json}"
    [ -e "$d" ] || { mkdir -p "$d"; cp "$f" "$d/"; echo "restored $d/report.json" >&2; }
  done
fi

keep() {
  mkdir -p "$KEEP"
  for f in "$OUT"/*/seed*/report.json; do
    [ -f "$f" ] || continue
    grep -q '"stopped_after"' "$f" && continue
    dst="$KEEP/${f#"$OUT"/}"
    mkdir -p "$(dirname "$dst")"
    # a finished seed that compare only re-read differs in its this_run_total timing alone: keep the committed one
    [ -f "$dst" ] && diff -q <(grep -v '"this_run_total"' "$f") <(grep -v '"this_run_total"' "$dst") >/dev/null && continue
    # one compare only re-read (this_run_total under a second) adds nothing either, even where a newer conta lists more config keys
    [ -f "$dst" ] && grep -Eq '"this_run_total": 0(\.[0-9]+)?$' "$f" && continue
    cp "$f" "$dst"
  done
  # the tables of every method with kept seeds, not just those of this run's METHODS (which would drop the others)
  KEEP=$KEEP DATA=$DATA CONTA=$CONTA bench/conta-tables.sh > /dev/null
  return 0
}

for k in $(seq 1 "$SEEDS"); do
  $CONTA compare --config models/conta-bench.conf --data "$DATA" --out "$OUT" --methods "$METHODS" --seeds "$k" "$@"
  keep
  # CONTA's matched controls (the same head, zeros in the context / the baseline's head init; README)
  s=$((k - 1))
  if [[ ",$METHODS," == *",cam,"* || ",$METHODS," == *",conta,"* ]] && [ $# -eq 0 ] && [ "$OUT" = runs/bench ]; then
    for c in $CONTROLS; do
      [ -f "docs/results/conta-bench/ablations/$c-seed$s.json" ] && continue
      case $c in
        zero) set_=conta.concat=zero; what="control: CONTA's channels, all zero" ;;
        matched) set_=conta.head_init=matched; what="CONTA with the baseline's head init (matched)" ;;
        *) echo "unknown control $c (zero, matched)" >&2; exit 2 ;;
      esac
      CONTA=$CONTA DATA=$DATA SEED=$s WHAT="$what" bench/conta-ablation.sh "$c" "$set_" \
        || echo "the $c control of seed $s failed (see above); the study goes on" >&2
    done
  fi
done
