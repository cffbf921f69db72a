#!/usr/bin/env bash
# Training-step throughput of the three frozen-BN networks the pipeline trains, with what ran on the device:
#   resnet50-os16 (IRNet's CAM classifier: batch 16, 512 px crops, multi-label soft margin, 20 classes),
#   irn-boundary (IRNet's boundary branch: batch 32, 512 px, the affinity loss on the host) and
#   deeplabv2-resnet101 (DeepLab-v2 MSC: batch 10, 321 px crops, per-pixel cross-entropy, 21 classes).
# On CUDA, conta's bench also prints the device, cuDNN and cuBLAS versions and the convolution algorithm chosen per shape;
# this script keeps those lines in $LOG and prints a Markdown table (one row per network) on stdout.
# Usage: bench/frozen-bn.sh [DEVICE=cuda:0] [ITERS=5]
# Env: CONTA_JAVA   the command that runs conta's CLI main (default ./conta; bench/gpu-selftest.sh passes its packed java)
#      SMALL=1      tiny widths/sizes (a CPU dry run of the script path: SMALL=1 bench/frozen-bn.sh cpu 1)
#      LOG          where the full output goes (default /tmp/conta-frozen-bn.log)
#      TIMEOUT      seconds per network (default 600)
set -uo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.." || exit 2
device="${1:-cuda:0}"; iters="${2:-5}"
log="${LOG:-/tmp/conta-frozen-bn.log}"; : > "$log"
read -r -a java <<< "${CONTA_JAVA:-./conta}"
runs=("resnet50-os16 16 512 20" "irn-boundary 32 512 20" "deeplabv2-resnet101 10 321 21")
extra=()
if [ "${SMALL:-0}" = 1 ]; then
  runs=("resnet50-os16 2 64 20" "irn-boundary 2 96 20" "deeplabv2-resnet101 2 65 21")
  extra=(--width 8 --blocks 1,1,1,1)
fi
echo "| network (frozen BN) | batch x size | device | images/s | s/iter |"
echo "|---|---|---|---|---|"
rc=0
for r in "${runs[@]}"; do
  read -r arch batch size classes <<< "$r"
  out="$(timeout "${TIMEOUT:-600}" "${java[@]}" bench train --arch "$arch" --batch "$batch" --size "$size" --classes "$classes" \
        --iters "$iters" --warmup 2 --device "$device" "${extra[@]}" 2>>"$log")"; st=$?
  echo "$out" >> "$log"
  line="$(grep -m1 'images/s' <<< "$out")"
  ips="$(sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p' <<< "$line")"
  spi="$(sed -n 's/.*(\([0-9.]*\) s\/iter.*/\1/p' <<< "$line")"
  [ "$st" = 0 ] && [ -n "$ips" ] || { rc=1; ips="FAIL (exit $st)"; }
  echo "| $arch | $batch x $size | $device | $ips | ${spi:--} |"
done
dev="$(grep -m1 '^device: ' "$log" | sed 's/^device: //')"
[ -n "$dev" ] && echo && echo "Device and libraries: $dev"
n="$(grep -c '^algorithm: ' "$log")"
if [ "$n" -gt 0 ]; then
  echo; echo "Convolution algorithms chosen ($n shape/direction pairs; full list in $log):"; echo
  grep '^algorithm: ' "$log" | sed 's/^algorithm: /- /' | head -40
fi
exit $rc
