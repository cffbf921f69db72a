#!/usr/bin/env bash
# Packs conta for a GPU machine without Java: a jlink runtime + the jars the CUDA self-test, the backend conformance suite
# (conta-tests.jar with src/selftest + the JUnit platform) and the ResNet-50 benchmark need + the scripts, into
# target/conta-gpu.tgz (must stay under 64 MiB). OpenCV (image decode) is left out: neither
# the self-test nor the benchmark reads images. oneDNN and OpenCL (CPU convolutions, ~27 MB) are left out too: the GPU
# runs cuDNN, and the CPU reference backend of the self-test falls back to OpenBLAS convolutions with one warning. Usage: bench/pack-gpu.sh   (then see bench/gpu-selftest.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
ls target/classes/conta/tensor/cuda/kernels/index.txt >/dev/null 2>&1 || echo "warning: no CUDA kernels built (nvcc missing?)" >&2
# tests compiled (not run): target/conta-tests.jar holds the op tests and the self-test harness of src/selftest
mvn -q -B -o package -DskipTests
stage="target/conta-gpu"
rm -rf "$stage" target/conta-gpu.tgz target/test-lib
mkdir -p "$stage/lib" "$stage/bench"
cp target/conta.jar target/conta-tests.jar "$stage/lib/"
# the JUnit platform that conta.tensor.Conformance launches the suite with (test scope: not in target/lib)
mvn -q -B -o dependency:copy-dependencies -DincludeScope=test -DoutputDirectory=target/test-lib
for j in target/test-lib/*.jar; do
  case "$(basename "$j")" in junit-*|opentest4j-*|apiguardian-*) cp "$j" "$stage/lib/" ;; esac
done
for j in target/lib/*.jar; do
  case "$(basename "$j")" in opencv-*|dnnl-*|opencl-*) ;; *) cp "$j" "$stage/lib/" ;; esac
done
# the preset's JNI jar carries bindings for all of CUDA (NPP, cuFFT, ...): keep the three conta loads
jni="$(ls "$stage"/lib/cuda-*-linux-x86_64.jar)"
python3 - "$jni" <<'PYEOF'
import shutil, sys, zipfile
src = sys.argv[1]
keep = ("libjnicudart.so", "libjnicublas.so", "libjnicudnn.so")
with zipfile.ZipFile(src) as zi, zipfile.ZipFile(src + ".tmp", "w", zipfile.ZIP_DEFLATED) as zo:
    for i in zi.infolist():
        if not (i.filename.endswith(".so") and not i.filename.endswith(keep)):
            zo.writestr(i, zi.read(i.filename))
shutil.move(src + ".tmp", src)
PYEOF
# modules the code needs (jdeps), plus the incubating Vector API and sun.misc.Unsafe (JavaCPP) that jdeps cannot see
mods="$("$JAVA_HOME/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps --add-modules jdk.incubator.vector \
        --class-path "$stage/lib/*" target/conta.jar target/conta-tests.jar)"
mods="$mods,jdk.incubator.vector,jdk.unsupported,java.logging,jdk.zipfs" # the JUnit platform: logging, and zipfs to scan conta-tests.jar
echo "jlink modules: $mods"
"$JAVA_HOME/bin/jlink" --add-modules "$mods" --strip-debug --no-man-pages --no-header-files --compress=zip-0 --output "$stage/jre"
cp bench/gpu-selftest.sh bench/frozen-bn.sh bench/torch_gpu_compare.py bench/torch_resnet50_gpu.py "$stage/bench/"
tar -C target -czf target/conta-gpu.tgz conta-gpu
size=$(stat -c %s target/conta-gpu.tgz)
printf 'target/conta-gpu.tgz: %.1f MiB (runtime %s, jars %s)\n' "$(echo "$size / 1048576" | bc -l)" "$(du -sh "$stage/jre" | cut -f1)" "$(du -sh "$stage/lib" | cut -f1)"
[ "$size" -lt $((64 << 20)) ] || { echo "error: the package is over 64 MiB" >&2; exit 1; }
