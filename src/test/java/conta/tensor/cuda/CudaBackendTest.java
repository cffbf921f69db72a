package conta.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Needs a GPU: skipped with the probe's reason elsewhere. The full comparison is SelfTest (bench/gpu-selftest.sh). */
class CudaBackendTest {
    @BeforeEach
    void needDevice() {
        String why = CudaRuntime.unavailableReason();
        assumeTrue(why == null, () -> "no CUDA device: " + why);
    }

    @Test
    void roundTripAndConv() {
        try (CudaBackend b = new CudaBackend(0, false);
             Tensor x = Tensor.of(b, new float[]{1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 1, 3, 3);
             Tensor w = Tensor.of(b, new float[]{1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 1, 3, 3); Tensor y = b.empty(1, 1, 3, 3)) {
            b.conv2d(x, w, null, ConvSpec.of(3, 1, 1, 1), y);
            assertEquals("[4.0, 6.0, 4.0, 6.0, 9.0, 6.0, 4.0, 6.0, 4.0]", java.util.Arrays.toString(y.toArray()));
        }
    }

    @Test
    void shapeErrorsAreJavaExceptionsNamingTheShapes() {
        try (CudaBackend b = new CudaBackend(0); Tensor x = b.empty(1, 3, 8, 8); Tensor w = b.empty(4, 2, 3, 3); Tensor y = b.empty(1, 4, 8, 8)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.conv2d(x, w, null, ConvSpec.of(3, 1, 1, 1), y));
            assertTrue(e.getMessage().contains("[4, 2, 3, 3]"), e.getMessage());
        }
    }

    @Test
    void selfTestPasses() {
        Process p;
        try {
            p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                    "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), SelfTest.class.getName())
                    .inheritIO().start();
            assertEquals(0, p.waitFor(), "conta.tensor.cuda.SelfTest failed (see its output)");
        } catch (java.io.IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
