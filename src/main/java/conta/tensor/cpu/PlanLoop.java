package conta.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The inference plan's call loop in C (native/src/plan.c, in libconta_cpu.so): a plan call is one downcall that
 * runs every op, instead of one JNI or FFM call per op with Java around each.
 *
 * <p>Why: HotSpot compiles that Java in tiers during a plan's first ~500 calls, each compile taking one core for
 * 3-200 ms, and on a 2-core machine the op in flight waits for it (bench/RESULTS-latency.md, session 31; plan.c says
 * more). The Java loop stays for the per-op profile (-Dconta.plan.profile) and where the library is not built;
 * -Dconta.plan.nativeloop=false keeps it everywhere (to compare).
 */
public final class PlanLoop {
    /** Op kinds (plan.c's enum). */
    static final int DNNL = 0, WINO = 1, WINO_BF16 = 2, GEMM = 3;
    /** 64-bit slots per op (plan.c's CONTA_PLAN_SLOTS). */
    static final int SLOTS;
    private static final MethodHandle RUN;
    /** oneDNN's dnnl_primitive_execute and dnnl_stream_wait, which plan.c calls through these addresses. */
    private static final long EXECUTE, WAIT;
    private static final String UNAVAILABLE;

    static {
        MethodHandle run = null;
        long execute = 0, wait = 0;
        int slots = 0;
        String why = !conta.io.SystemProps.flag("conta.plan.nativeloop", true) ? "off (-Dconta.plan.nativeloop=false)" : Winograd.LIBRARY_UNAVAILABLE;
        if (why == null) {
            try {
                slots = (int) Winograd.bind("conta_plan_slots", FunctionDescriptor.of(JAVA_INT)).invokeExact();
                run = Winograd.bind("conta_plan_run", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
                Pointer e = org.bytedeco.javacpp.Loader.addressof("dnnl_primitive_execute"), w = org.bytedeco.javacpp.Loader.addressof("dnnl_stream_wait");
                if (e == null || w == null || e.address() == 0 || w.address() == 0) why = "oneDNN's dnnl_primitive_execute not found";
                else {
                    execute = e.address();
                    wait = w.address();
                }
            } catch (Throwable t) {
                why = t.getClass().getSimpleName() + ": " + t.getMessage();
            }
        }
        SLOTS = slots;
        RUN = run;
        EXECUTE = execute;
        WAIT = wait;
        UNAVAILABLE = why;
    }

    private PlanLoop() { }

    /** Whether plans can run their ops from the C loop here (libconta_cpu.so loaded, not switched off). */
    static boolean available() { return UNAVAILABLE == null; }

    private static volatile boolean javaLoop;

    /**
     * Whether plans compiled now run the C loop: available, not switched off by {@link #javaLoop(boolean)}, and no
     * per-op profile (-Dconta.plan.profile times each op from the Java loop).
     */
    static boolean on() { return available() && !javaLoop && !PlanProfile.ON; }

    /** What plans compiled now call their ops from, for a user: "C", or "Java (why)". */
    public static String chosen() {
        return on() ? "C" : "Java (" + (PlanProfile.ON ? "the per-op profile times each op from Java" : javaLoop ? "set by a test" : UNAVAILABLE) + ")";
    }

    /** Plans compiled after this run the Java loop (true) or the C loop where available (false); returns the previous setting. For tests. */
    static boolean javaLoop(boolean java) {
        boolean was = javaLoop;
        javaLoop = java;
        return was;
    }

    /** Null where the C loop can run plans, else why not (one line). */
    static String unavailableReason() { return UNAVAILABLE; }

    /** ops op tables of SLOTS longs each, zeroed. */
    static LongPointer table(int ops) {
        LongPointer p = new LongPointer((long) ops * SLOTS);
        p.zero();
        return p;
    }

    /** Writes op i's kind and fields (pointers as addresses, ints and flags as longs) into the table. */
    static void put(LongPointer table, int i, int kind, long... fields) {
        if (fields.length >= SLOTS) throw new IllegalArgumentException(fields.length + " fields, " + (SLOTS - 1) + " slots");
        long base = (long) i * SLOTS;
        table.put(base, kind);
        for (int k = 0; k < fields.length; k++) table.put(base + 1 + k, fields[k]);
    }

    /** Runs ops 0 .. n-1 of the table on the stream and waits for it; -1, or the failed op's index (n: the final wait) with its status in status. */
    static int run(LongPointer table, int n, long stream, IntPointer status) { return run(table, n, stream, EXECUTE, WAIT, status); }

    /** The same with other functions in oneDNN's place (tests: a failing one). */
    static int run(LongPointer table, int n, long stream, long execute, long wait, IntPointer status) {
        try {
            return (int) RUN.invokeExact(table.address(), n, stream, execute, wait, status.address()); // longs: no segment per call
        } catch (Throwable e) { throw Winograd.rethrow(e); }
    }
}
