package conta.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernels written without a GPU at hand (session 19: the two-pass max-pool backward, the fused frozen-BN backward)
 * run on the CPU through kernels/emu (g++, a thread per CUDA thread, a barrier for __syncthreads) against the
 * GPU-validated kernels they replace. Their logic, not their speed or their behaviour on a real GPU: the GPU self-test
 * (SelfTest with -Dconta.cuda.maxPoolBackward=argmax -Dconta.cuda.fusedAffineBackward=true) checks those.
 * Skipped where g++ is missing.
 */
class KernelEmulationTest {
    @TempDir Path dir;

    static boolean gxx() {
        try {
            return new ProcessBuilder("g++", "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void newKernelsMatchTheKernelsTheyReplace() throws Exception {
        assumeTrue(gxx(), "no g++");
        Process p = new ProcessBuilder("kernels/emu/run.sh", dir.resolve("check").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8); // run.sh bounds the run (timeout 300)
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("\n0 failed"), out);
        assertEquals(23, out.lines().filter(l -> l.startsWith("ok ")).count(), out);
    }
}
