#!/usr/bin/env bash
# One ablation or control of the CONTA benchmark on one seed, CAM stage only, from the study's round 0 of that seed:
# copies runs/bench/METHOD/seedS/round0 (the baseline's stages; bench/conta-study.sh makes it), runs the pipeline with
# the setting up to UNTIL (resumable; a finished run is only re-read), and writes the CAM stage's result with the
# setting and the command to docs/results/conta-bench/ablations/NAME-seedS.json, from which README's ablation table is
# generated (docs/readme_numbers.sh).
#
#   bench/conta-ablation.sh q1 conta.concat=mask                 # Q1: the raw predicted mask instead of M
#   UNTIL=round4/cam bench/conta-ablation.sh q2-round4 conta.rounds=4   # Q2: a fourth round after the study's three
#   bench/conta-ablation.sh q3-block4 conta.blocks=4             # Q3: M joins after layer3
#   bench/conta-ablation.sh q4-pseudo conta.confounder_source=pseudo
#   bench/conta-ablation.sh zero conta.concat=zero               # control: CONTA's channels, all zero
#   METHOD=c2am UNTIL=round0/cam bench/conta-ablation.sh c2am-lse c2am.aggregation=lse
#   METHOD=cam UNTIL=round0/cam bench/conta-ablation.sh head-seed cls.head_seed=1000   # the baseline with another head init
# Environment: SEED (0), METHOD (conta), UNTIL (round1/cam), WHAT (a description for the table), CONTA, DATA, KEEP.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
NAME=$1; shift
SEED=${SEED:-0}; METHOD=${METHOD:-conta}; UNTIL=${UNTIL:-round1/cam}; CONTA=${CONTA:-./conta}
DATA=${DATA:-runs/synth-bench}; KEEP=${KEEP:-docs/results/conta-bench/ablations}
out=runs/bench-$NAME/$METHOD/seed$SEED
src=runs/bench/$METHOD/seed$SEED/round0; [ -d "$src" ] || src=runs/bench/cam/seed$SEED/round0
[ -d "$src/cls" ] || { echo "no round 0 of seed $SEED under runs/bench: run bench/conta-study.sh first" >&2; exit 2; }
mkdir -p "$out"
if [ ! -d "$out/round0" ]; then  # what the setting does not change: CONTA all of round 0, C²AM the classifier, the baseline nothing
  case $METHOD in
    c2am|conta+c2am) mkdir -p "$out/round0"; cp -r "$src/cls" "$out/round0/" ;;
    cam) ;;
    *) if [[ $# -eq 1 && $1 == conta.rounds=* && -d runs/bench/$METHOD/seed$SEED/round1 ]]; then
         # Q2, more rounds: they change no finished round, so the run goes on from the study's whole run
         cp -r "runs/bench/$METHOD/seed$SEED/." "$out/"; rm -f "$out/run.lock"
       else
         cp -r "$src" "$out/"
       fi ;;
  esac
fi
sets=(); for s in "$@"; do sets+=(--set "$s"); done
cmd=(pipeline --config models/conta-bench.conf --data "$DATA" --out "$out" --method "$METHOD" --seed "$SEED" --until "$UNTIL" "${sets[@]}")
$CONTA "${cmd[@]}"
stage=$out/${UNTIL%/*}/cam/done.json
[ -f "$stage" ] || { echo "no $stage: the run did not reach the CAM stage" >&2; exit 1; }
mkdir -p "$KEEP"
python3 - "$KEEP/$NAME-seed$SEED.json" "$stage" "$NAME" "$METHOD" "$SEED" "${UNTIL%/*}" "${WHAT:-}" "conta ${cmd[*]}" "$@" <<'PY'
import json, sys
dst, stage, name, method, seed, rnd, what, cmd = sys.argv[1:9]
cam = json.load(open(stage))
json.dump({"name": name, "method": method, "seed": int(seed), "round": int(rnd.replace("round", "")), "settings": sys.argv[9:],
           "what": what, "command": cmd, "cam": cam}, open(dst, "w"), indent=1)
print("wrote", dst)
PY
