package conta.infer;

import conta.io.SystemProps;
import conta.tensor.cpu.DnnlGraph;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * Once per process, at a plan's compile: the plan's call path, run without its work ({@link DnnlGraph#dryRun}) as
 * many times as HotSpot needs to compile it in both tiers, then a wait until the JIT is idle.
 *
 * <p>Why: a plan call runs a few Java methods (InferencePlan.run, DnnlGraph.run, the downcalls and the method handles'
 * invokers) once each. HotSpot compiles each when its count passes a threshold: C1 around the 128th to 500th call, C2
 * after thousands. A compile takes one core for milliseconds, and on a 2-core machine the op in flight waits for it: in
 * a 600-call ResNet-50 run, 5 of the 14 calls over p50 + 2.5 ms fell on a compiler thread (bench/RESULTS-latency.md,
 * session 32). Here they happen before the first call. The methods are shared by every plan, so the first plan of each
 * kind (one input and output, or several) warms them. -Dconta.plan.jitwarmup=N sets the calls (0: off).
 */
final class CallPathWarmup {
    /**
     * Enough for C2 (HotSpot's tier-4 thresholds are 5000 invocations, or 15000 with loops, scaled by its queue): with
     * 12000, C2 still compiled two of the path's methods during the first 200 real calls (session 32). ~4 us each.
     * At most 50000 (SystemProps): under the interpreter's 60000 back-edges for an on-stack compile of warm()'s loops.
     */
    static final int CALLS = (int) SystemProps.count("conta.plan.jitwarmup", 30_000);
    /** How long the JIT must finish nothing before the wait ends, and the longest wait. */
    private static final long QUIET_MS = 50, MAX_WAIT_MS = 3_000;
    private static boolean single, multi;

    private CallPathWarmup() { }

    /**
     * Warms plan's call path (run(float[], float[]) for one input and output, else run(float[][], float[][])) unless
     * done. The loops call plan.run here, in a method that runs once and so stays in the interpreter, which inlines
     * nothing: InferencePlan.run counts its own calls and is compiled now. Called from a lambda, it was inlined into
     * the lambda's compile and left for the first real calls, where its C2 compile took a core for 16.6 ms (call 197 of
     * 600, bench/latency_join.py; session 32).
     */
    static void warm(InferencePlan plan, DnnlGraph graph) {
        int[][] ins = plan.inputShapes(), outs = plan.outputShapes();
        boolean one = ins.length == 1 && outs.length == 1;
        synchronized (CallPathWarmup.class) {
            // done, or the Java loop (it runs Java per op anyway): nothing to warm
            if (CALLS <= 0 || (one ? single : multi) || !graph.dryRun(true)) return;
            try {
                float[][] in = new float[ins.length][], out = new float[outs.length][];
                for (int i = 0; i < in.length; i++) in[i] = new float[InferencePlan.numel(ins[i])];
                for (int i = 0; i < out.length; i++) out[i] = new float[InferencePlan.numel(outs[i])];
                awaitIdleJit(); // the compiles the plan's build queued: while C2's queue is long, HotSpot raises its thresholds
                if (one) for (int k = 0; k < CALLS; k++) plan.run(in[0], out[0]);
                else for (int k = 0; k < CALLS; k++) plan.run(in, out);
            } finally {
                graph.dryRun(false);
            }
            if (one) single = true;
            else multi = true;
        }
        awaitIdleJit();
    }

    /** Until the JIT's total compile time stands still for QUIET_MS (the compiles queued by the warm-up done), at most MAX_WAIT_MS. */
    private static void awaitIdleJit() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) return;
        long end = System.nanoTime() + MAX_WAIT_MS * 1_000_000, last = jit.getTotalCompilationTime(), quietSince = System.nanoTime();
        while (System.nanoTime() < end) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long t = jit.getTotalCompilationTime();
            if (t != last) {
                last = t;
                quietSince = System.nanoTime();
            } else if (System.nanoTime() - quietSince >= QUIET_MS * 1_000_000) return;
        }
    }
}
