# Sourced by the GPU scripts (gpu-selftest.sh, gpu-demo.sh) with $root = the unpacked package (bench/pack-gpu.sh) and
# $PY = the Python that holds PyTorch: points the loader at the CUDA/cuDNN/cuBLAS libraries of PyTorch's environment
# (nvidia-* wheels) and sets java=(...), the packed runtime's command line with conta's jars.
# every folder of PyTorch's environment holding CUDA libraries: site-packages/nvidia/*/lib (cudnn, cublas, cuda_runtime,
# or the single nvidia/cu13/lib of newer wheels) and torch/lib
libdirs="$("$PY" - <<'PYEOF'
import glob, os
dirs = []
try:
    import nvidia
    for base in list(nvidia.__path__):
        for d in sorted(glob.glob(os.path.join(base, "**", "lib"), recursive=True)):
            if glob.glob(os.path.join(d, "lib*.so*")):
                dirs.append(d)
except ImportError:
    pass
try:
    import torch
    dirs.append(os.path.join(os.path.dirname(torch.__file__), "lib"))
except ImportError:
    pass
print(":".join(dict.fromkeys(dirs)))
PYEOF
)"
[ -n "$libdirs" ] || echo "warning: no nvidia-* wheels or torch found by $PY; relying on the system's CUDA libraries"
export LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
java=("$root/jre/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xss4m
      -Dorg.bytedeco.javacpp.pathsFirst=true "-Djava.library.path=$libdirs" ${CONTA_JAVA_OPTS:-} -cp "$root/lib/*")
