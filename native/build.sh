#!/usr/bin/env bash
# Builds libconta.so (the C ABI, native/include/conta.h), the example program, libconta_cpu.so (the CPU plan's
# Winograd kernel) and conta-spin (the launcher's OpenMP spin, src/spin.h) with the system C compiler.
# usage: native/build.sh OUT_DIR JAVA_HOME DEFAULT_CLASSPATH [KERNEL_DIR [VERSION]]   (Maven calls it in the compile phase)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$1"; jh="$2"; cp="$3"
cc="${CC:-gcc}"
if ! command -v "$cc" >/dev/null; then echo "[native] no C compiler ($cc): libconta.so not built"; exit 0; fi
mkdir -p "$out"
# libconta_cpu.so: the CPU plan's own kernels (src/winograd.c, src/gemmconv.c and their shared src/rx32.h; the input
# conversion src/layout.c; the plan's call loop src/plan.c), loaded by conta.tensor.cpu.Winograd from the classpath
# (so it travels in the jar). Baseline x86-64 code; the AVX-512 kernels are compiled for AVX-512 by a target pragma
# and only called where the CPU has it (conta_wino_supported). OpenMP: libgomp, the runtime oneDNN's preset loads.
kernel_src=(winograd.c gemmconv.c layout.c plan.c)
kernel_deps=("${kernel_src[@]}" rx32.h)
kdir="${4:-}"
if [ -n "$kdir" ]; then
  mkdir -p "$kdir"
  stale=0
  [ -f "$kdir/libconta_cpu.so" ] || stale=1
  for f in "${kernel_deps[@]}"; do [ "$here/src/$f" -nt "$kdir/libconta_cpu.so" ] && stale=1; done
  if [ "$stale" = 1 ]; then
    if "$cc" -O3 -Wall -Wextra -fPIC -shared -fopenmp -o "$kdir/libconta_cpu.so" "${kernel_src[@]/#/$here/src/}"; then
      echo "[native] built $kdir/libconta_cpu.so"
    else # the plan then runs oneDNN's direct convolutions (conta.tensor.cpu.Winograd says why)
      rm -f "$kdir/libconta_cpu.so"; echo "[native] libconta_cpu.so not built: the plan runs without its Winograd kernel"
    fi
  fi
fi
# conta-spin: the GOMP_SPINCOUNT that spins ~100 us on this CPU, for the launcher's inference commands (src/spin.h)
if [ ! -x "$out/conta-spin" ] || [ "$here/src/spin.c" -nt "$out/conta-spin" ] || [ "$here/src/spin.h" -nt "$out/conta-spin" ]; then
  "$cc" -O2 -Wall -Wextra -o "$out/conta-spin" "$here/src/spin.c" && echo "[native] built $out/conta-spin"
fi
# rebuild only when a source is newer than the library
if [ -f "$out/libconta.so" ] && [ -z "$(find "$here" -newer "$out/libconta.so" \( -name '*.[ch]' -o -name build.sh \) \
     $(printf "! -name %s " "${kernel_deps[@]}" spin.c) -print -quit)" ]; then
  exit 0 # up to date: nothing to say on every build
fi
"$cc" -O2 -g -Wall -Wextra -fPIC -shared -o "$out/libconta.so" "$here/src/conta.c" \
  -I"$here/include" -I"$jh/include" -I"$jh/include/linux" \
  -DCONTA_BUILD_JAVA_HOME="\"$jh\"" -DCONTA_BUILD_CLASSPATH="\"$cp\"" -DCONTA_BUILD_VERSION="\"${5:-dev}\"" -ldl -lpthread \
  -Wl,-z,nodelete   # never unmapped by dlclose: the JVM's threads and the per-thread detach hook keep running its code
"$cc" -O2 -Wall -o "$out/conta-segment" "$here/examples/segment.c" -I"$here/include" -L"$out" -lconta -Wl,-rpath,'$ORIGIN'
echo "[native] built $out/libconta.so and $out/conta-segment"
