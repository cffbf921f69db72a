package conta.train;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Simulated kills for resume tests: with -Dconta.test.killAt=N the N-th unit of progress (a training step or a
 * finished image, anywhere in the pipeline) throws {@link Killed} after its outputs are written, as a SIGKILL there
 * would leave them. Off unless the property is set.
 */
public final class Faults {
    private Faults() { }

    private static final AtomicLong EVENTS = new AtomicLong();

    public static final class Killed extends RuntimeException {
        Killed(String where, long n) { super("simulated kill at progress event " + n + " (" + where + ")"); }
    }

    static void tick(String where) {
        long at = conta.io.SystemProps.count("conta.test.killAt", -1);
        if (at < 0) return;
        long n = EVENTS.incrementAndGet();
        if (n == at) throw new Killed(where, n);
    }

    /** Restarts the event count (tests). */
    public static void reset() { EVENTS.set(0); }
}
