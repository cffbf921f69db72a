package conta.tensor.cpu;

import static conta.tensor.cpu.DnnlGraphTest.rand;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import conta.tensor.ConvSpec;
import conta.tensor.LayerGraph.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.Test;

/**
 * The plan's call loop in C (PlanLoop, native/src/plan.c) against the Java loop it replaces, which stays as its
 * reference: the same graph compiled once for each loop gives bit-for-bit the same output, on every kind of op the C
 * loop dispatches (oneDNN primitives: the input and output reorders, max pooling, bf16 convolutions; the
 * Winograd kernel, fp32 and, where the CPU has AVX512-BF16, bf16; the small-map kernel with bias, ReLU, the residual
 * sum and its prefetch of the next op's weights), and a failing oneDNN call reported by its op. The ops' own numbers are tested against float64 and PyTorch
 * elsewhere (DnnlGraphTest, WinogradTest, GemmConvTest, the plan parity tests), which now run through the C loop.
 */
class PlanLoopTest {

    @Test
    void cLoopGivesTheJavaLoopsNumbers() {
        assumeTrue(PlanLoop.available(), "the C loop: " + PlanLoop.unavailableReason());
        float[][] v = values();
        float[] want = run(true, false, false, v), got = run(false, false, false, v);
        assertArrayEquals(want, got);
        double sum = 0;
        for (float g : got) sum += Math.abs(g);
        assertTrue(sum > 0, "a zero map would match whatever ran"); // the ReLU output of random weights is not all zeros
    }

    @Test
    void cLoopGivesTheJavaLoopsNumbersInBf16() {
        assumeTrue(PlanLoop.available(), "the C loop: " + PlanLoop.unavailableReason());
        assumeTrue(Winograd.bf16Available(), "bf16 Winograd kernel: " + Winograd.bf16UnavailableReason());
        float[][] v = values();
        assertArrayEquals(run(true, true, true, v), run(false, true, true, v));
    }

    /**
     * A failing oneDNN call stops the loop there and comes back as its op's index and status (the final wait: index
     * n), with upcalls in oneDNN's place that count their calls: execute fails on the second op, then wait on the end.
     */
    @Test
    void failedCallStopsTheLoopAndIsNamed() throws Exception {
        assumeTrue(PlanLoop.available(), "the C loop: " + PlanLoop.unavailableReason());
        MethodHandles.Lookup l = MethodHandles.lookup();
        Linker linker = Linker.nativeLinker();
        try (Arena arena = Arena.ofConfined(); LongPointer table = PlanLoop.table(3); IntPointer status = new IntPointer(1)) {
            MemorySegment execute = linker.upcallStub(l.findStatic(PlanLoopTest.class, "execute",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, int.class, MemorySegment.class)),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS), arena);
            MemorySegment wait = linker.upcallStub(l.findStatic(PlanLoopTest.class, "await", MethodType.methodType(int.class, MemorySegment.class)),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS), arena);
            for (int i = 0; i < 3; i++) PlanLoop.put(table, i, PlanLoop.DNNL, 100 + i, 2, 0);
            executed.clear();
            failAt = 101;
            waitStatus = 0;
            assertEquals(1, PlanLoop.run(table, 3, 7, execute.address(), wait.address(), status)); // op 1 failed
            assertEquals(3, status.get());
            assertEquals(List.of(100L, 101L), executed); // op 2 never ran
            executed.clear();
            failAt = -1;
            waitStatus = 5;
            assertEquals(3, PlanLoop.run(table, 3, 7, execute.address(), wait.address(), status)); // the final wait failed
            assertEquals(5, status.get());
            assertEquals(List.of(100L, 101L, 102L), executed);
            waitStatus = 0;
            assertEquals(-1, PlanLoop.run(table, 3, 7, execute.address(), wait.address(), status));
        }
    }

    /**
     * DnnlGraph.dryRun: the call path run without its work (the JIT warm-up at a plan's compile, CallPathWarmup) writes
     * nothing to the caller's output and changes nothing a real call gives; with the Java loop it does not turn on.
     */
    @Test
    void warmCallsRunNoWork() {
        assumeTrue(PlanLoop.available(), "the C loop: " + PlanLoop.unavailableReason());
        assumeTrue(Winograd.available(), "Winograd kernel: " + Winograd.unavailableReason());
        float[][] v = values();
        float[] other = rand(v[0].length, 2);
        for (boolean javaLoop : new boolean[]{false, true}) {
            boolean was = PlanLoop.javaLoop(javaLoop);
            try (DnnlGraph g = new DnnlGraph(false, null, true, true)) {
                Value a = g.conv(g.input(1, 16, 24, 24), v[1], new int[]{32, 16, 1, 1}, v[2], ConvSpec.of(1, 1, 0, 1), null, false);
                g.output(g.conv(a, v[3], new int[]{64, 32, 3, 3}, v[4], ConvSpec.of(3, 1, 1, 1), null, true));
                g.compile();
                float[] before = new float[64 * 24 * 24], warm = new float[before.length], after = new float[before.length];
                g.run(v[0], before);
                java.util.Arrays.fill(warm, Float.NaN);
                boolean dry = g.dryRun(true);
                assertEquals(!javaLoop, dry, "dry calls with the C loop only");
                if (dry) {
                    for (int k = 0; k < 50; k++) g.run(other, warm);
                    g.dryRun(false);
                    for (float w : warm) assertTrue(Float.isNaN(w), "a dry call wrote the caller's output");
                }
                g.run(v[0], after);
                assertArrayEquals(before, after); // the real calls before and after give the same bits
                g.run(other, warm);
                assertTrue(!java.util.Arrays.equals(before, warm), "the other input gives other numbers: the check above can fail");
            } finally {
                PlanLoop.javaLoop(was);
            }
        }
    }

    /** The input conversion of a warm call (n = 0 images) writes nothing. */
    @Test
    void inputConversionOfNoImagesWritesNothing() {
        assumeTrue(Layout.available(), "libconta_cpu.so");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment y = arena.allocate(3L * 4 * Float.BYTES, 64);
            y.fill((byte) 0x7f);
            float[] x = rand(12, 1);
            Layout.nchwToNhwc(x, 0, 3, 4, y, 2);
            for (long i = 0; i < y.byteSize(); i++) assertEquals((byte) 0x7f, y.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i));
            Layout.nchwToNhwc(x, 1, 3, 4, y, 2); // and one image: y[p][ch] = x[ch][p]
            for (int p = 0; p < 4; p++)
                for (int ch = 0; ch < 3; ch++) assertEquals(x[ch * 4 + p], y.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, p * 3L + ch));
        }
    }

    private static final List<Long> executed = new ArrayList<>();
    private static long failAt;
    private static int waitStatus;

    /** oneDNN's dnnl_primitive_execute stand-in: records the primitive, checks what the table gave it, fails at failAt. */
    static int execute(MemorySegment prim, MemorySegment stream, int nargs, MemorySegment args) {
        if (stream.address() != 7 || nargs != 2) return 99;
        executed.add(prim.address());
        return prim.address() == failAt ? 3 : 0;
    }

    /** dnnl_stream_wait's stand-in. */
    static int await(MemorySegment stream) { return stream.address() == 7 ? waitStatus : 98; }

    /** The input and the weights and biases, drawn once: both loops run the same graph on the same numbers. */
    private static float[][] values() {
        return new float[][]{rand(16 * 24 * 24, 1), rand(32 * 16, 0.3), rand(32, 0.2), rand(64 * 32 * 9, 0.1), rand(64, 0.2),
                rand(64 * 64 * 9, 0.05), rand(128 * 64, 0.1), rand(128, 0.2), rand(64 * 128, 0.1), rand(64, 0.2)};
    }

    /**
     * x (16 x 24 x 24) -> 1x1 (32) -> Winograd 3x3 (64, ReLU) -> max pool 2 -> 12x12 -> 3x3 stride 2 (64, 6x6) -> 1x1
     * (128, ReLU) -> 1x1 (64) + the 6x6 map summed in, ReLU: in fp32 the last three on the small-map kernel (in bf16 on
     * oneDNN); run twice (buffers reused), the second output returned after checking it equals the first.
     */
    private static float[] run(boolean javaLoop, boolean bf16, boolean bf16Winograd, float[][] v) {
        assumeTrue(Winograd.available(), "Winograd kernel: " + Winograd.unavailableReason());
        assumeTrue(GemmConv.available(), "one-GEMM kernel: " + GemmConv.unavailableReason());
        boolean was = PlanLoop.javaLoop(javaLoop);
        try (DnnlGraph g = new DnnlGraph(bf16, null, bf16Winograd, true)) {
            ConvSpec one = ConvSpec.of(1, 1, 0, 1);
            Value t = g.conv(g.input(1, 16, 24, 24), v[1], new int[]{32, 16, 1, 1}, v[2], one, null, false);
            Value a = g.conv(t, v[3], new int[]{64, 32, 3, 3}, v[4], ConvSpec.of(3, 1, 1, 1), null, true);
            Value p = g.maxPool(a, ConvSpec.of(2, 2, 0, 1), false);
            Value s = g.conv(p, v[5], new int[]{64, 64, 3, 3}, null, ConvSpec.of(3, 2, 1, 1), null, false);
            Value b = g.conv(s, v[6], new int[]{128, 64, 1, 1}, v[7], one, null, true);
            g.output(g.conv(b, v[8], new int[]{64, 128, 1, 1}, v[9], one, s, true));
            g.compile();
            String plan = g.describe();
            assertTrue(plan.contains("winograd") && plan.contains("maxpool") && (bf16 || plan.contains("gemm +sum")), plan); // bf16 plans: no small-map kernel
            float[] out = new float[64 * 6 * 6], again = new float[out.length];
            g.run(v[0], out);
            g.run(v[0], again);
            assertArrayEquals(out, again);
            return again;
        } finally {
            PlanLoop.javaLoop(was);
        }
    }
}
