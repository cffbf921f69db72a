package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import conta.tensor.cpu.CpuBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/** Device selection: runs everywhere; the fallback cases are skipped on a machine that has a usable GPU. */
class BackendsTest {
    private static final String CPU_HINT = " (--device cpu goes there without looking)";

    @Test
    void cpuSpec() {
        assertInstanceOf(CpuBackend.class, Backends.select("cpu"));
        assertInstanceOf(CpuBackend.class, Backends.select(" CPU "));
    }

    @Test
    void autoFallsBackToCpuAndSaysWhyOnce() {
        String why = Backends.unavailableReason("cuda");
        assumeTrue(why != null, "a CUDA device is present, so auto does not fall back");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = Backends.log;
        Backends.log = new PrintStream(buf, true);
        try {
            assertInstanceOf(CpuBackend.class, Backends.select("auto"));
            assertInstanceOf(CpuBackend.class, Backends.select("auto"));
        } finally {
            Backends.log = old;
        }
        String out = buf.toString();
        // said at most once per process (another test may have triggered it first), and in this form
        assertTrue(out.isEmpty() || out.equals("device auto: no CUDA device: " + why + "; running on CPU" + CPU_HINT + System.lineSeparator()), out);
        assertTrue(out.lines().count() <= 1, out);
        assertTrue(!why.isBlank() && !why.contains("\n"), why);
    }

    @Test
    void cudaWithoutDeviceIsAClearError() {
        String why = Backends.unavailableReason("cuda");
        assumeTrue(why != null, "a CUDA device is present");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.select("cuda:0"));
        assertEquals("cuda:0 requested but no CUDA device: " + why + " (use --device cpu or auto)", e.getMessage());
        assertThrows(IllegalStateException.class, () -> Backends.select("cuda"));
    }

    /** A CUDA provider whose probe says {@code probe} (null = a device is there) and whose start runs {@code open}. */
    private static BackendProvider fakeCuda(String probe, java.util.function.Supplier<Backend> open) {
        return new BackendProvider() {
            @Override public String kind() { return "cuda"; }
            @Override public int autoPriority() { return 10; }
            @Override public String unavailableReason() { return probe; }
            @Override public Backend open(int index) { return open.get(); }
        };
    }

    private static Backend autoWith(String probe, java.util.function.Supplier<Backend> open) {
        return Backends.auto(java.util.List.of(fakeCuda(probe, open), Backends.provider("cpu")));
    }

    @Test
    void bf16SelectsOneDnnBf16ConvolutionsOnTheCpu() {
        try (Backend plain = Backends.select("cpu")) {
            assumeTrue(((CpuBackend) plain).convImpl() == CpuBackend.ConvImpl.DNNL, "oneDNN not loadable here");
        }
        try (Backend bf = Backends.select("cpu", true)) {
            assertEquals(CpuBackend.ConvImpl.DNNL_BF16, ((CpuBackend) bf).convImpl());
        }
        // a usable provider without bf16 is passed over under auto, with its reason, and the CPU's bf16 is taken
        Backend fellBack = Backends.auto(java.util.List.of(fakeCuda(null, () -> { throw new AssertionError("opened without bf16"); }),
                Backends.provider("cpu")), true);
        assertEquals(CpuBackend.ConvImpl.DNNL_BF16, ((CpuBackend) fellBack).convImpl());
        fellBack.close();
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> fakeCuda(null, () -> null).open(0, true));
        assertEquals("the cuda backend has no bf16 convolutions yet", e.getMessage());
    }

    @Test
    void autoFallsBackWhenAnyCudaPartFailsToLoad() {
        // the device probe passes, then the backend's set-up fails as it does without cuDNN, cuBLAS or the kernels
        String[] failures = {
                "cannot load cuDNN 9 (libcudnn*.so.9 on LD_LIBRARY_PATH?): no libcudnn.so.9",
                "cannot load cuBLAS (libcublas.so.13, libcublasLt.so.13 on LD_LIBRARY_PATH?): no libcublas.so.13",
                "kernel file /conta/tensor/cuda/kernels/index.txt is not in the jar: build conta where nvcc is installed"};
        for (String f : failures) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            PrintStream old = Backends.log;
            Backends.log = new PrintStream(buf, true);
            Backends.resetWarningForTest();
            try {
                Backend b = autoWith(null, () -> { throw new IllegalStateException(f, new UnsatisfiedLinkError("dlopen failed")); });
                assertInstanceOf(CpuBackend.class, b);
            } finally {
                Backends.log = old;
            }
            assertEquals("device auto: no CUDA device: the CUDA backend failed to start: " + f + " <- dlopen failed; running on CPU" + CPU_HINT + System.lineSeparator(),
                    buf.toString());
        }
        // a linkage error (a missing JNI library) is a reason too, and the probe's own reason still comes first
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = Backends.log;
        Backends.log = new PrintStream(buf, true);
        Backends.resetWarningForTest();
        try {
            assertInstanceOf(CpuBackend.class, autoWith(null, () -> { throw new NoClassDefFoundError("org/bytedeco/cuda/global/cudnn"); }));
            Backends.resetWarningForTest();
            assertInstanceOf(CpuBackend.class, autoWith("the CUDA driver reports no GPU", () -> { throw new AssertionError("not tried"); }));
        } finally {
            Backends.log = old;
        }
        assertEquals("device auto: no CUDA device: the CUDA backend failed to start: org/bytedeco/cuda/global/cudnn; running on CPU" + CPU_HINT
                + System.lineSeparator() + "device auto: no CUDA device: the CUDA driver reports no GPU; running on CPU" + CPU_HINT + System.lineSeparator(),
                buf.toString());
    }

    @Test
    void autoOnThisMachine() {
        // whatever this machine has, auto gives a working backend: CUDA only if it started completely
        try (Backend b = Backends.select("auto")) {
            assertTrue(b.name().equals("cpu") || b.name().startsWith("cuda:"), b.name());
            if (Backends.unavailableReason("cuda") != null) assertInstanceOf(CpuBackend.class, b);
        }
    }

    @Test
    void badSpecsAreRejectedBeforeProbing() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Backends.select("gpu")).getMessage().contains("cpu, cuda, cuda:N or auto"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Backends.select("cuda:x")).getMessage().contains("cuda:N"));
        assertThrows(IllegalArgumentException.class, () -> Backends.select("cuda:-1"));
    }
}
