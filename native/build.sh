#!/usr/bin/env bash
# Builds libconta.so (the C ABI, native/include/conta.h) and the example program with the system C compiler.
# usage: native/build.sh OUT_DIR JAVA_HOME DEFAULT_CLASSPATH   (Maven calls it in the compile phase)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$1"; jh="$2"; cp="$3"
cc="${CC:-gcc}"
if ! command -v "$cc" >/dev/null; then echo "[native] no C compiler ($cc): libconta.so not built"; exit 0; fi
mkdir -p "$out"
# rebuild only when a source is newer than the library
if [ -f "$out/libconta.so" ] && [ -z "$(find "$here" -newer "$out/libconta.so" -name '*.[ch]' -print -quit)" ]; then
  echo "[native] libconta.so up to date"; exit 0
fi
"$cc" -O2 -g -Wall -Wextra -fPIC -shared -o "$out/libconta.so" "$here/src/conta.c" \
  -I"$here/include" -I"$jh/include" -I"$jh/include/linux" \
  -DCONTA_BUILD_JAVA_HOME="\"$jh\"" -DCONTA_BUILD_CLASSPATH="\"$cp\"" -ldl -lpthread
"$cc" -O2 -Wall -o "$out/conta-segment" "$here/examples/segment.c" -I"$here/include" -L"$out" -lconta -Wl,-rpath,'$ORIGIN'
echo "[native] built $out/libconta.so and $out/conta-segment"
