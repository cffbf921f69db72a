#!/usr/bin/env bash
# Packs conta for a GPU machine without Java: a jlink runtime, the jars that the CUDA self-test, the backend conformance
# suite (conta-tests.jar with src/selftest + the JUnit platform), the benchmarks and the demo need, and the scripts,
# into target/conta-gpu.tar.xz. xz: with the ~11 MiB checkout it must stay under the device tool's 64 MiB (51.9 MiB in
# session 16). oneDNN and OpenCL (CPU convolutions, ~27 MB) are left out: the GPU runs cuDNN, and the CPU reference
# backend of the self-test falls back to OpenBLAS convolutions with one warning.
# Usage: bench/pack-gpu.sh   (then see bench/gpu-selftest.sh and bench/gpu-demo.sh)
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
ls target/classes/conta/tensor/cuda/kernels/index.txt >/dev/null 2>&1 || echo "warning: no CUDA kernels built (nvcc missing?)" >&2
# tests compiled (not run): target/conta-tests.jar holds the op tests and the self-test harness of src/selftest
mvn -q -B -o package -DskipTests
stage="target/conta-gpu"
rm -rf "$stage" target/conta-gpu.tgz target/conta-gpu.tar.xz target/test-lib
mkdir -p "$stage/lib" "$stage/bench"
cp target/conta.jar target/conta-tests.jar "$stage/lib/"
# the JUnit platform that conta.tensor.Conformance launches the suite with (test scope: not in target/lib)
mvn -q -B -o dependency:copy-dependencies -DincludeScope=test -DoutputDirectory=target/test-lib
for j in target/test-lib/*.jar; do
  case "$(basename "$j")" in junit-*|opentest4j-*|apiguardian-*) cp "$j" "$stage/lib/" ;; esac
done
for j in target/lib/*.jar; do
  case "$(basename "$j")" in dnnl-*|opencl-*) ;; *) cp "$j" "$stage/lib/" ;; esac
done
# Native jars keep only the libraries conta loads: the CUDA preset's JNI jar carries bindings for all of CUDA (NPP,
# cuFFT, ...); OpenCV's carries every module (image decode/resize needs core, imgproc, imgcodecs, so that the demo and
# the pipeline run there); OpenBLAS's carries headers and a second LAPACK binding (OpenCV loads jniopenblas, conta
# jniopenblas_nolapack). They are rewritten uncompressed (stored): xz then packs the libraries far better than deflate.
python3 - "$stage"/lib/cuda-*-linux-x86_64.jar "$stage"/lib/opencv-*-linux-x86_64.jar "$stage"/lib/openblas-*-linux-x86_64.jar <<'PYEOF'
import re, shutil, sys, zipfile
keep = {"cuda": r"libjnicu(dart|blas|dnn)\.so$",
        "opencv": r"lib(jni)?opencv_(core|imgproc|imgcodecs)\.so(\.\d+)?$",
        "openblas": r"lib(openblas\.so\.0|gfortran\.so\.5|jniopenblas(_nolapack)?\.so)$"}
for src in sys.argv[1:]:
    pattern = next(v for k, v in keep.items() if "/" + k + "-" in src)
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(src + ".tmp", "w", zipfile.ZIP_STORED) as zo:
        for i in zi.infolist():
            native = re.search(r"\.so(\.\d+)*$", i.filename) or "/include/" in i.filename or "/share/" in i.filename \
                     or "/python/" in i.filename
            if not native or re.search(pattern, i.filename):
                data = zi.read(i.filename)
                i.compress_type = zipfile.ZIP_STORED # after the read: the entry's own deflate would win over the archive's
                zo.writestr(i, data)
    shutil.move(src + ".tmp", src)
PYEOF
# modules the code needs (jdeps), plus the incubating Vector API and sun.misc.Unsafe (JavaCPP) that jdeps cannot see
mods="$("$JAVA_HOME/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps --add-modules jdk.incubator.vector \
        --class-path "$stage/lib/*" target/conta.jar target/conta-tests.jar)"
mods="$mods,jdk.incubator.vector,jdk.unsupported,java.logging,jdk.zipfs" # the JUnit platform: logging, and zipfs to scan conta-tests.jar
echo "jlink modules: $mods"
"$JAVA_HOME/bin/jlink" --add-modules "$mods" --strip-debug --no-man-pages --no-header-files --compress=zip-0 --output "$stage/jre"
cp bench/gpu-selftest.sh bench/gpu-env.sh bench/gpu-demo.sh bench/frozen-bn.sh bench/torch_gpu_compare.py bench/torch_resnet50_gpu.py "$stage/bench/"
# xz, not gzip: the jlink image is stored uncompressed (zip-0) and xz packs it ~15% smaller (57.5 -> 46.6 MiB)
tar -C target -cf - conta-gpu | xz -T0 -9 > target/conta-gpu.tar.xz
size=$(stat -c %s target/conta-gpu.tar.xz)
printf 'target/conta-gpu.tar.xz: %.1f MiB (runtime %s, jars %s)\n' "$(echo "$size / 1048576" | bc -l)" "$(du -sh "$stage/jre" | cut -f1)" "$(du -sh "$stage/lib" | cut -f1)"
# the device tool sends the checkout (tracked and untracked-not-ignored files) with the package: 64 MiB in all
tree=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
total=$((size + tree))
printf 'with the checkout (%.1f MiB): %.1f MiB of the device tool'"'"'s 64\n' "$(echo "$tree / 1048576" | bc -l)" "$(echo "$total / 1048576" | bc -l)"
[ "$total" -lt $((64 << 20)) ] || { echo "error: package + checkout are over the device tool's 64 MiB; trim the package or the tree" >&2; exit 1; }
[ "$total" -lt $((62 << 20)) ] || echo "warning: less than 2 MiB left under the device tool's 64 MiB" >&2
