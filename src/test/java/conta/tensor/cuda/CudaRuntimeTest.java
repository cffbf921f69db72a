package conta.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The fallback reason in a user's words, from the dynamic linker's messages as glibc writes them (dlerror). */
class CudaRuntimeTest {
    @Test
    void aMachineWithoutTheDriverIsSaidPlainly() {
        assertEquals("no NVIDIA driver here (libcuda.so.1 not found)",
                CudaRuntime.plain("libcuda.so.1: cannot open shared object file: No such file or directory"));
    }

    @Test
    void missingToolkitLibrariesNameTheLibraryAndTheFix() {
        assertEquals("the CUDA libraries are not found (libcudart.so.13; put them on LD_LIBRARY_PATH)",
                CudaRuntime.plain("libcudart.so.13: cannot open shared object file: No such file or directory"));
    }

    @Test
    void otherLinkerErrorsAreKeptWhole() {
        String m = "libcuda.so.1: undefined symbol: cuGetProcAddress_v2";
        assertEquals("cannot load the CUDA runtime: " + m, CudaRuntime.plain(m));
    }

    @Test
    void theJniLibraryCachePathIsDropped() {
        assertEquals("libcuda.so.1: cannot open shared object file: No such file or directory",
                CudaRuntime.rootCause(new UnsatisfiedLinkError("/root/.javacpp/cache/x/libjnicudart.so: libcuda.so.1: cannot open shared object file: No such file or directory")));
    }
}
