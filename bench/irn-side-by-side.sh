#!/usr/bin/env bash
# IRNet's own CAM code beside conta's on the CONTA benchmark (issue 17, item 4; README "IRNet parity").
#   git clone https://github.com/jiwoon-ahn/irn /tmp/irn && git -C /tmp/irn checkout a2ece00   (never committed here)
#   IRN=/tmp/irn SEEDS="0 1 2" bench/irn-side-by-side.sh                 (STAGES="cam walk" is the default)
# Per seed: conta's round 0 up to its CAM stage (OUT/cam/seedK, shared with bench/conta-study.sh, skipped when done),
# IRNet's train_cam + make_cam through bench/irn_side_by_side.py (runs/irn/irn-seedK, skipped when done), conta eval's
# threshold sweep over IRNet's CAMs. For the first seed also IRNet's make_cam on conta's classifier and the pixel
# agreement of the two codes' seeds. Result files go to KEEP; then docs/readme_numbers.sh rewrites README's table.
# STAGES=walk: per seed, IRNet's train_irn on conta's IR labels of that seed (same ImageNet ResNet-50) and its
# make_sem_seg_labels walk over conta's CAMs, scored by conta eval; for the first seed also IRNet's walk with conta's
# own boundary net (the walk code alone) and its pixel agreement with conta's pseudo-masks.
# Needs /usr/bin/python3 with torch 1.13, torchvision, imageio (Debian: python3-torch python3-imageio).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
IRN=${IRN:?set IRN to a checkout of jiwoon-ahn/irn at a2ece00}
SEEDS=${SEEDS:-0 1 2}; STAGES=${STAGES:-cam walk}; OUT=${OUT:-runs/bench}; DATA=${DATA:-runs/synth-bench}; KEEP=${KEEP:-docs/results/irn-side-by-side}
CONTA=${CONTA:-./conta}; IMAGENET=${IMAGENET:-$HOME/.cache/conta/weights/resnet50-imagenet.safetensors}
[ -f "$DATA/synth.json" ] || $CONTA synth --out "$DATA" --train 600 --val 150 --size 112 --bias 0.8
[ -f "$IMAGENET" ] || $CONTA weights fetch resnet50-imagenet
mkdir -p "$KEEP" runs/irn
PY="/usr/bin/python3 bench/irn_side_by_side.py"
# conta-bench.conf's walk (rw.*) and boundary crop (irn.crop); IRNet's own make_sem_seg_labels arguments otherwise
WALK="--crop 112 --beta 10 --exp-times 4 --radius 5 --bg 0.55"
first=""
if [[ " $STAGES " == *" cam "* ]]; then
for s in $SEEDS; do
  run="$OUT/cam/seed$s"
  [ -f "$run/round0/cam/done.json" ] || $CONTA pipeline --config models/conta-bench.conf --data "$DATA" --out "$run" --method cam --seed "$s" --until round0/cam
  cp "$run/round0/cam/done.json" "$KEEP/conta-seed$s-cam.json"
  if [ ! -f "runs/irn/irn-seed$s/done" ]; then
    /usr/bin/python3 bench/irn_side_by_side.py train --irn "$IRN" --data "$DATA" --imagenet "$IMAGENET" --seed "$s" --out "runs/irn/irn-seed$s"
    touch "runs/irn/irn-seed$s/done"
  fi
  cp "runs/irn/irn-seed$s/train_log.jsonl" "$KEEP/irn-seed$s-train_log.jsonl"
  $CONTA eval --cam "runs/irn/irn-seed$s/cams" --gt "$DATA" --split train --sweep 0.05:0.95:0.01 --json "$KEEP/irn-seed$s-cam.json" | tail -1
  [ -n "$first" ] || first=$s
done
w="$OUT/cam/seed$first/round0/cls/model.safetensors"
[ -f "runs/irn/conta-seed$first-cams/done" ] || {
  /usr/bin/python3 bench/irn_side_by_side.py make-cams --irn "$IRN" --data "$DATA" --weights "$w" --out "runs/irn/conta-seed$first-cams"
  touch "runs/irn/conta-seed$first-cams/done"; }
/usr/bin/python3 bench/irn_side_by_side.py agree --a "runs/irn/conta-seed$first-cams" --b "$OUT/cam/seed$first/round0/cam" --threshold 0.55 | tee "$KEEP/agree-seed$first.json"
$CONTA eval --cam "runs/irn/conta-seed$first-cams" --gt "$DATA" --split train --sweep 0.05:0.95:0.01 --json "$KEEP/irn-code-conta-weights-seed$first-cam.json" | tail -1
fi
if [[ " $STAGES " == *" walk "* ]]; then
first=""
for s in $SEEDS; do
  run="$OUT/cam/seed$s"
  [ -f "$run/round0/pseudo/done.json" ] || $CONTA pipeline --config models/conta-bench.conf --data "$DATA" --out "$run" --method cam --seed "$s" --until round0/pseudo
  cp "$run/round0/pseudo/done.json" "$KEEP/conta-seed$s-pseudo.json"
  d="runs/irn/irn-walk-seed$s"
  if [ ! -f "$d/done" ]; then
    $PY train-irn --irn "$IRN" --data "$DATA" --imagenet "$IMAGENET" --ir-labels "$run/round0/ir" --cams "$run/round0/cam" --seed "$s" --out "$d" $WALK
    touch "$d/done"
  fi
  cp "$d/train_log.jsonl" "$KEEP/irn-seed$s-boundary_train_log.jsonl"
  $CONTA eval --pred "$d/pseudo" --gt "$DATA" --split train --json "$KEEP/irn-seed$s-pseudo.json" | tail -1
  [ -n "$first" ] || first=$s
done
d="runs/irn/walk-conta-net-seed$first"; run="$OUT/cam/seed$first"
if [ ! -f "$d/done" ]; then
  $PY walk --irn "$IRN" --data "$DATA" --edge "$run/round0/irn/model.safetensors" --cams "$run/round0/cam" --out "$d" $WALK
  touch "$d/done"
fi
$PY agree-masks --a "$d/pseudo" --b "$run/round0/pseudo" | tee "$KEEP/walk-agree-seed$first.json"
$CONTA eval --pred "$d/pseudo" --gt "$DATA" --split train --json "$KEEP/irn-walk-conta-net-seed$first-pseudo.json" | tail -1
fi
docs/readme_numbers.sh
