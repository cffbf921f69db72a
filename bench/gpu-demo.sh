#!/usr/bin/env bash
# The synthetic demo pipeline (./conta demo: classifier, CAMs, IR labels, DeepLab-v2, report) on the GPU, from the
# package bench/gpu-selftest.sh unpacked (CONTA_GPU_DIR, default /tmp/conta-gpu-run): the whole pipeline's device path,
# with the mIoU to set beside the CPU's (README; float rounding moves one seed by points). One line per method.
# Usage: bench/gpu-demo.sh [METHOD ...]   (cam, conta, c2am, conta+c2am; default cam)
# Env: DEVICE (default cuda:0), DEMO_TIMEOUT (seconds per method, default 300), OUT (logs and report.json copies),
#      PYTHON (the Python holding PyTorch's CUDA wheels, default python3), CONTA_JAVA_OPTS
set -uo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
work="${CONTA_GPU_DIR:-/tmp/conta-gpu-run}"; root="$work/conta-gpu"; PY="${PYTHON:-python3}"
[ -x "$root/jre/bin/java" ] || { echo "no unpacked package in $root (run bench/gpu-selftest.sh first)"; exit 2; }
. "$(dirname "$0")/gpu-env.sh"
out="${OUT:-$work}"; dev="${DEVICE:-cuda:0}"; mkdir -p "$out"
methods=("$@"); [ ${#methods[@]} -gt 0 ] || methods=(cam)
rc=0
for m in "${methods[@]}"; do
  start=$(date +%s)
  timeout -k 10 "${DEMO_TIMEOUT:-300}" "${java[@]}" conta.cli.Main demo --device "$dev" --method "$m" --data "$work/synth" \
      --out "$work/demo-$m" > "$out/demo-$m.log" 2>&1; st=$?
  secs=$(( $(date +%s) - start ))
  cp "$work/demo-$m/report.json" "$out/demo-$m-report.json" 2>/dev/null
  # the last mIoU lines the run printed (seeds, pseudo-masks, segmentation), progress bars dropped
  miou="$(tr '\r' '\n' < "$out/demo-$m.log" | grep -E '^\s*mIoU ' | sed 's/^ *//; s/ *(.*//' | tail -3 | paste -sd, -)"
  echo "demo --method $m on $dev: exit $st, $secs s; ${miou:-no mIoU printed}"
  # the graph path's measured engine choices, kept in the run folder (CudaBackend.useRunFolder)
  ch="$work/demo-$m/cuda-graph-choices.tsv"
  [ -f "$ch" ] && { cp "$ch" "$out/demo-$m-graph-choices.tsv"; echo "  engine choices saved in the run folder: $(wc -l < "$ch") ($(cut -f5 "$ch" | sort | uniq -c | tr -s ' ' | paste -sd, -))"; }
  [ "$st" = 0 ] || rc=1
done
exit $rc
