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
        assertTrue(out.isEmpty() || out.equals("no CUDA device: " + why + "; running on CPU" + System.lineSeparator()), out);
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

    @Test
    void badSpecsAreRejectedBeforeProbing() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Backends.select("gpu")).getMessage().contains("cpu, cuda, cuda:N or auto"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Backends.select("cuda:x")).getMessage().contains("cuda:N"));
        assertThrows(IllegalArgumentException.class, () -> Backends.select("cuda:-1"));
    }
}
