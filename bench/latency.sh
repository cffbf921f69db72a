#!/usr/bin/env bash
# Batch-1 inference latency (p50/p90/p99 over ITERS calls after WARMUP) of one image through
#   plan  - conta's InferencePlan (conta bench latency --impl plan); plan-bf16 the same in bfloat16; plan-direct
#           the fp32 plan without its Winograd 3x3 kernel (-Dconta.plan.winograd=false: oneDNN everywhere),
#           plan-bf16-direct the bf16 plan without its bf16 Winograd kernel (-Dconta.plan.winograd.bf16=false);
#           plan-spin the fp32 plan with GOMP_SPINCOUNT=$SPIN (3000) instead of the launcher's ~100 us (the rounds
#           target/native/conta-spin measures), plan-spinN with GOMP_SPINCOUNT=N, plan-passive with
#           OMP_WAIT_POLICY=passive; plan-nogemm / plan-gemm the fp32 plan with its one-GEMM kernel for small maps off / on
#           (-Dconta.plan.gemmconv=false|true; by default it is on where a core's L2 holds 2 MB); plan-narrowblocks /
#           plan-wideblocks the fp32 plan with its Winograd layers whose transformed weights exceed L2 in blocks of
#           256 KB / of half of L2 (-Dconta.plan.winograd.wideblocks=false|true; by default wide where L2 holds 2 MB);
#           plan-javaloop the fp32 plan with its ops called from the Java loop instead of the C one
#           (-Dconta.plan.nativeloop=false: one JNI/FFM call per op, as before session 31); plan-nojitwarmup the fp32
#           plan without the JIT warm-up at its compile (-Dconta.plan.jitwarmup=0, as before session 32)
#   graph - conta's training-graph eval forward (--impl graph)
#   ort   - ONNX Runtime 1.23.2 for Java (conta.bench.OrtLatency, a test-scope main), the torch.onnx export, with its
#           default spinning thread pool; ort-nospin with session.intra_op.allow_spinning=0
#   torch - PyTorch eager (bench/latency_torch.py)
#   floor - the machine's own tail without an engine (bench/stall_floor.c): calls of 55 parallel regions, as long as
#           the fp32 plan's (its quiet p50 from the latest plan run on that model in this log; before one, FLOOR_MS,
#           else the plan's p50 on session 30's AMX host), that read as many bytes from memory as the model's weights
#           (the .pth) and compute in registers for the rest, with the same threads and OpenMP spin: the p99 / p50 a
#           call of that length gets on this machine, against which the quiet-tail target (p99 <= 1.25x p50) reads
#   api   - the Java API, ContaModel.segment: RGB bytes -> label map (conta bench latency --impl api), and
#   capi  - the C ABI, conta_segment_rgb8 (bench/capi_latency.c), both on a bundle of the same weights
#           (conta export --arch): segmentation models only (deeplabv2-*); preprocessing, MSC fusion, upsampling and
#           argmax included, which the other engines' raw forward leaves out
# all on the same weights (bench/latency_torch.py export: seeded twin model -> .pth for conta, .onnx for ORT), all with
# THREADS threads, quiet and under a competing load (a second process keeping both cores busy), in ROUNDS rounds
# whose order of engines rotates; prints each run and the medians over rounds (bench/latency_summary.py).
#
#   bench/latency.sh                      # all models, 3 rounds
#   MODELS="resnet50:224" ROUNDS=5 bench/latency.sh
#   bench/latency.sh knobs                # OpenMP wait policy / spin / threads for the plan under load, ORT spinning
#                                         # (on ResNet-50 @224, or on each model of MODELS when it is set)
# Environment: MODELS ("arch:size ..."), IMPLS ("plan graph ort torch"), CONDS ("quiet load"), ROUNDS, ITERS, WARMUP,
# GAP (ms idle after every call, untimed, as a service between requests; 0; the plan engines, graph, api, ort and floor;
# the condition is then recorded as e.g. quiet-gap50ms),
# THREADS, OUT (out/latency), TRACES (a folder: every plan/ort run also writes its per-call trace there, named
# round-cond-impl.csv, for bench/latency_tail.py; with a perf sched_switch record of the run, bench/latency_join.py
# names what held a core in each slow call). Needs /usr/bin/python3 with torch 1.13 (apt-get install -y python3-torch
# python3-torchvision) for the export and the eager timing.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  ""|knobs) ;;
  *) echo "bench/latency.sh: unknown argument '$1' (knobs, or none; --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
KNOB_MODELS=${MODELS:-"resnet50:224"}   # knobs: the models given, ResNet-50 @224 by default
MODELS=${MODELS:-"resnet50:224 resnet50-os16:448 deeplabv2-resnet101:321"}
[ "${1:-}" = knobs ] && MODELS=$KNOB_MODELS
IMPLS=${IMPLS:-"plan graph ort torch"}
CONDS=${CONDS:-"quiet load"}
ROUNDS=${ROUNDS:-3}; ITERS=${ITERS:-50}; WARMUP=${WARMUP:-10}; THREADS=${THREADS:-2}
OUT=${OUT:-out/latency}; PY=${PY:-/usr/bin/python3}; TRACES=${TRACES:-}; GAP=${GAP:-0}
case $GAP in ''|*[!0-9]*) echo "bench/latency.sh: GAP=$GAP: give the ms between calls as a whole number (0: back to back)" >&2; exit 2 ;; esac
cond_label() { if [ "$GAP" = 0 ]; then echo "$1"; else echo "$1-gap${GAP}ms"; fi; }   # a condition as the log records it
# names checked before anything is built or run: a typo used to give an empty record and exit 0
for m in $MODELS; do
  case ${m%%:*} in resnet50|resnet50-os16|deeplabv2-resnet101) ;;
    *) echo "bench/latency.sh: MODELS entry '$m': the models are resnet50, resnet50-os16 and deeplabv2-resnet101 (bench/latency_torch.py), as ARCH:SIZE" >&2; exit 2 ;;
  esac
done
for i in $IMPLS; do
  case $i in plan|graph|plan-passive|plan-bf16|plan-bf16-direct|plan-spin|plan-spin[0-9]*|plan-direct|plan-nogemm|plan-gemm|plan-narrowblocks|plan-wideblocks|plan-javaloop|plan-nojitwarmup|ort|ort-nospin|torch|floor|api|capi) ;;
    *) echo "bench/latency.sh: IMPLS entry '$i' is not an engine (plan graph plan-passive plan-bf16 plan-bf16-direct plan-spin[N] plan-direct plan-nogemm plan-gemm plan-narrowblocks plan-wideblocks plan-javaloop plan-nojitwarmup ort ort-nospin torch floor api capi)" >&2; exit 2 ;;
  esac
  case $GAP:$i in 0:*) ;; *:torch|*:capi) echo "bench/latency.sh: GAP=$GAP: the $i engine calls back to back only; leave it out of IMPLS or set GAP=0" >&2; exit 2 ;; esac
done
for c in $CONDS; do case $c in quiet|load) ;; *) echo "bench/latency.sh: CONDS entry '$c' must be quiet or load" >&2; exit 2 ;; esac; done
"$PY" -c 'import torch' 2>/dev/null || { echo "bench/latency.sh: $PY cannot import torch, which makes the shared weights and the ONNX export (apt-get install -y python3-torch python3-torchvision, or PY=...)" >&2; exit 2; }
mkdir -p "$OUT" ${TRACES:+"$TRACES"}
LOG="$OUT/latency-$(date -u +%Y%m%dT%H%M%S).log"
: > "$LOG"   # read back by floor (the plan's p50) before the first record
ERR=$(mktemp); FAILED=0   # each engine run's stderr: shown when it gives no LATENCY line

export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./conta --help >/dev/null 2>&1 || true                       # builds target/conta.jar when sources changed
mvn -o -q -B test-compile >&2
mvn -o -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/cp.txt" >&2
CP="target/classes:target/test-classes:$(cat "$OUT/cp.txt")"
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xss4m)
export OMP_NUM_THREADS=$THREADS

for m in $MODELS; do
  arch=${m%%:*}; size=${m##*:}
  [ -f "$OUT/$arch-$size.onnx" ] || "$PY" bench/latency_torch.py export "$arch" "$size" "$OUT" >&2
done

LOAD=()
load_start() { # one process, two busy shells: both cores taken for the whole run
  bash -c 'spin() { while :; do :; done; }; spin & spin & wait' & LOAD=($!)
}
load_stop() { [ ${#LOAD[@]} -gt 0 ] && { pkill -P "${LOAD[0]}" 2>/dev/null || true; kill "${LOAD[0]}" 2>/dev/null || true; wait "${LOAD[0]}" 2>/dev/null || true; }; LOAD=(); }
trap 'load_stop; rm -f "$ERR"' EXIT

# conta_latency IMPL PRECISION: conta bench latency on run()'s arch, size, iters, warmup (its locals) -> the LATENCY line
conta_latency() {
  ./conta bench latency --arch "$arch" --size "$size" --impl "$1" --precision "$2" --weights "$OUT/$arch.pth" \
    --iters "$it" --warmup "$wu" --gap-ms "$GAP" ${TRACE:+--trace "$TRACE"} 2>"$ERR" | grep '^LATENCY'
}

# run IMPL ARCH SIZE [iters] [warmup] -> one LATENCY line on stdout (environment decides the knobs)
run() {
  local impl=$1 arch=$2 size=$3 it=${4:-$ITERS} wu=${5:-$WARMUP}
  case $impl in
    plan|graph) conta_latency "$impl" fp32 ;;           # the launcher's wait policy: a ~100 us spin for bench latency
    plan-passive) # the fp32 plan with OpenMP workers that sleep at once (the launcher's default before session 12)
      OMP_WAIT_POLICY=passive conta_latency plan fp32 | sed 's/conta-plan-fp32/conta-plan-fp32-passive/' ;;
    plan-bf16) conta_latency plan bf16 ;;
    plan-bf16-direct) # the bf16 plan without the bf16 Winograd kernel (oneDNN's direct bf16 convolutions everywhere)
      CONTA_JAVA_OPTS="${CONTA_JAVA_OPTS:-} -Dconta.plan.winograd.bf16=false" conta_latency plan bf16 \
        | sed 's/conta-plan-bf16/conta-plan-bf16-direct/' ;;
    plan-spin*) # the fp32 plan with OpenMP workers that spin N iterations before sleeping (plan-spin1000: N = 1000;
      # plan-spin: N = $SPIN, 3000) instead of passive
      local n=${impl#plan-spin}; n=${n:-${SPIN:-3000}}
      GOMP_SPINCOUNT=$n conta_latency plan fp32 | sed "s/conta-plan-fp32/conta-plan-fp32-spin$n/" ;;
    plan-nogemm) # the fp32 plan without the one-GEMM kernel: oneDNN (and Winograd) on the small maps too
      CONTA_JAVA_OPTS="${CONTA_JAVA_OPTS:-} -Dconta.plan.gemmconv=false" conta_latency plan fp32 \
        | sed 's/conta-plan-fp32/conta-plan-fp32-nogemm/' ;;
    plan-gemm) # the fp32 plan with the one-GEMM kernel whatever this CPU's default (to measure it where it is off)
      CONTA_JAVA_OPTS="${CONTA_JAVA_OPTS:-} -Dconta.plan.gemmconv=true" conta_latency plan fp32 \
        | sed 's/conta-plan-fp32/conta-plan-fp32-gemm/' ;;
    plan-narrowblocks|plan-wideblocks) # the Winograd kernel's wide layers in 256 KB blocks / blocks of half of L2
      local wide=false; [ "$impl" = plan-wideblocks ] && wide=true
      CONTA_JAVA_OPTS="${CONTA_JAVA_OPTS:-} -Dconta.plan.winograd.wideblocks=$wide" conta_latency plan fp32 \
        | sed "s/conta-plan-fp32/conta-plan-fp32-${impl#plan-}/" ;;
    plan-javaloop) # the fp32 plan's ops called one by one from Java (the C loop off)
      CONTA_JAVA_OPTS="${CONTA_JAVA_OPTS:-} -Dconta.plan.nativeloop=false" conta_latency plan fp32 \
        | sed 's/conta-plan-fp32/conta-plan-fp32-javaloop/' ;;
    plan-nojitwarmup) # the fp32 plan with its call path compiled by the JIT during the real calls, not at its compile
      CONTA_JAVA_OPTS="${CONTA_JAVA_OPTS:-} -Dconta.plan.jitwarmup=0" conta_latency plan fp32 \
        | sed 's/conta-plan-fp32/conta-plan-fp32-nojitwarmup/' ;;
    plan-direct) # the fp32 plan without the Winograd kernel: oneDNN's direct convolutions everywhere
      CONTA_JAVA_OPTS="${CONTA_JAVA_OPTS:-} -Dconta.plan.winograd=false" conta_latency plan fp32 \
        | sed 's/conta-plan-fp32/conta-plan-fp32-direct/' ;;
    ort|ort-nospin)
      local spin=${ORT_SPIN:-1}; [ "$impl" = ort-nospin ] && spin=0
      ORT_TRACE=${TRACE:-} "${JAVA[@]}" -cp "$CP" conta.bench.OrtLatency "$OUT/$arch-$size.onnx" "$arch" "$size" "$it" "$wu" "$THREADS" "$spin" "$GAP" \
        2>"$ERR" | grep '^LATENCY' ;;
    floor)
      local target=${FLOOR_MS:-}
      [ -n "$target" ] || target=$(awk -v a="$arch" -v z="$size" -v q="$(cond_label quiet)" '$3 == q { for (i = 1; i < NF; i++) if ($i == "LATENCY" && $(i + 1) == "conta-plan-fp32" && $(i + 2) == a && $(i + 3) == z) for (j = i; j < NF; j++) if ($j == "p50") v = $(j + 1) } END { print v }' "$LOG")
      [ -n "$target" ] || case $arch in resnet50) target=21 ;; resnet50-os16) target=108 ;; *) target=605 ;; esac
      [ "$OUT/stall_floor" -nt bench/stall_floor.c ] || gcc -O2 -fopenmp -o "$OUT/stall_floor" bench/stall_floor.c >&2
      GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-$(target/native/conta-spin 2>/dev/null || echo 1000)} FLOOR_TRACE=${TRACE:-} \
        "$OUT/stall_floor" "$target" "$arch" "$size" "$it" "$wu" 55 "$(( $(stat -c %s "$OUT/$arch.pth") / 1000000 ))" "$GAP" \
        2>"$ERR" | grep '^LATENCY' ;;
    torch) "$PY" bench/latency_torch.py time "$arch" "$size" "$OUT" "$it" "$wu" "$THREADS" 2>"$ERR" | grep '^LATENCY' ;;
    api|capi)
      case $arch in deeplab*) ;; *) echo "$impl: segmentation bundles only, $arch skipped" >&2; return 0 ;; esac
      local bundle="$OUT/$arch.bundle.safetensors"
      [ -f "$bundle" ] || ./conta export --arch "$arch" --weights "$OUT/$arch.pth" --input raw --out "$bundle" >&2
      if [ "$impl" = api ]; then
        ./conta bench latency --impl api --arch "$arch" --size "$size" --bundle "$bundle" --iters "$it" --warmup "$wu" --gap-ms "$GAP" 2>"$ERR" | grep '^LATENCY'
      else
        [ -x "$OUT/capi_latency" ] || gcc -O2 -o "$OUT/capi_latency" bench/capi_latency.c -Inative/include -Ltarget/native -lconta \
          -Wl,-rpath,"$PWD/target/native" -lm >&2
        "$OUT/capi_latency" "$bundle" "$arch" "$size" "$it" "$wu" 2>"$ERR" | grep '^LATENCY'
      fi ;;
  esac
}

record() { # round cond line
  local l; l="$(cut -d' ' -f1 /proc/loadavg)"
  echo "round $1 $2 load1 $l $3" | tee -a "$LOG"
}

# measure LABEL IMPL [VAR=VALUE...]: one run of round $r on $arch @$size with those variables exported, recorded under
# LABEL, or its failure shown (the end of its stderr) and counted
measure() {
  local label=$1 impl=$2 line; shift 2
  : > "$ERR"
  line=$([ $# -gt 0 ] && export "$@"; run "$impl" "$arch" "$size") || true
  if [ -z "$line" ]; then
    echo "bench/latency.sh: round $r $label: $impl on $arch @$size gave no LATENCY line; the end of its stderr:" >&2
    tail -n 5 "$ERR" | sed 's/^/  /' >&2
    FAILED=$((FAILED + 1)); return 0
  fi
  record "$r" "$label" "$line"
  grep -h '^torch-eager' "$ERR" | sed "s/^/round $r $label: /" | tee -a "$LOG" >&2 || true   # its stalled-threads note
}

if [ "${1:-}" = knobs ]; then
  # the plan under the competing load with each OpenMP setting, alternating, ROUNDS rounds, per model of MODELS
  KNOBS=("OMP_WAIT_POLICY=passive" "OMP_WAIT_POLICY=active" "GOMP_SPINCOUNT=1000" "GOMP_SPINCOUNT=10000" "OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1"
         "OMP_WAIT_POLICY=passive OMP_PROC_BIND=true")
  unset OMP_WAIT_POLICY GOMP_SPINCOUNT OMP_PROC_BIND   # each run has the knob's setting alone
  for r in $(seq 1 "$ROUNDS"); do
    for m in $MODELS; do
      arch=${m%%:*}; size=${m##*:}
      load_start
      for k in "${KNOBS[@]}"; do measure "load[${k// /,}]" plan $k; done
      for s in 1 0; do measure "load[ort_spin=$s]" ort "ORT_SPIN=$s"; done
      load_stop
    done
  done
  "$PY" bench/latency_summary.py "$LOG" || true   # with no run recorded it says so; the count of failures follows
  [ "$FAILED" -eq 0 ] || { echo "bench/latency.sh: $FAILED run(s) gave no result (above); the table leaves them out" >&2; exit 1; }
  exit 0
fi

impls=($IMPLS)
for r in $(seq 1 "$ROUNDS"); do
  for m in $MODELS; do
    arch=${m%%:*}; size=${m##*:}
    for c in $CONDS; do
      [ "$c" = load ] && load_start
      n=${#impls[@]}
      for i in $(seq 0 $((n - 1))); do           # rotate the order each round
        impl=${impls[$(( (i + r - 1) % n ))]}
        case $impl in api|capi) case $arch in deeplab*) ;; *) echo "$impl: segmentation bundles only, $arch skipped" >&2; continue ;; esac ;; esac
        label=$(cond_label "$c")
        measure "$label" "$impl" "TRACE=${TRACES:+$TRACES/$r-$label-$arch-$impl.csv}"
      done
      [ "$c" = load ] && load_stop
    done
  done
done
"$PY" bench/latency_summary.py "$LOG" || true
[ "$FAILED" -eq 0 ] || { echo "bench/latency.sh: $FAILED run(s) gave no result (above); the table leaves them out" >&2; exit 1; }
