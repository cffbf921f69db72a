package conta.tensor;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Backend that forwards every call to another one and adds up, per op, the calls and the wall time they took, for
 * {@code conta bench train --profile host|device}. Two modes answer two questions about a GPU step:
 * <ul>
 *   <li><b>host</b> (no synchronisation): the host's time to issue each op. The device runs asynchronously, so if these
 *       times add up to about the step time, the host cannot keep the device fed and the step is host-bound.</li>
 *   <li><b>device</b>: the backend is drained before and after each op, so each op's time is its own run (kernels plus
 *       launches), without any overlap; the sum is then larger than an unprofiled step.</li>
 * </ul>
 * On the CPU both modes measure the ops themselves. Like {@link CountingBackend}, a dynamic proxy, so that ops added to
 * Backend later are timed without edits; tensors it makes carry it as their backend, so every op on them passes here.
 * Ops a backend calls on itself, and the WSSS ops behind {@code wsss()}, are not seen.
 */
public final class OpTimingBackend {
    /** Calls and nanoseconds of one op. */
    public record OpTime(String op, long calls, long nanos) { }

    /** -Dconta.profile.shapes=true: one row per op and shape of its first tensor argument (which call of an op is slow). */
    private static final boolean BY_SHAPE = conta.io.SystemProps.flag("conta.profile.shapes", false);

    public final Backend backend;
    private final boolean sync;
    private final Map<String, AtomicLong[]> times = new ConcurrentHashMap<>();

    public OpTimingBackend(Backend inner, boolean sync) {
        this.sync = sync;
        backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (proxy, m, args) -> {
            String op = m.getName();
            boolean timed = !op.equals("synchronize") && !op.equals("close") && !op.equals("name") && m.getDeclaringClass() != Object.class;
            if (timed && sync) inner.synchronize();
            long t0 = System.nanoTime();
            Object r;
            try {
                r = m.invoke(inner, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (timed) {
                if (sync) inner.synchronize();
                String key = BY_SHAPE && args != null && args.length > 0 && args[0] instanceof Tensor t ? op + " " + t.shapeString() : op;
                AtomicLong[] s = times.computeIfAbsent(key, k -> new AtomicLong[]{new AtomicLong(), new AtomicLong()});
                s[0].incrementAndGet();
                s[1].addAndGet(System.nanoTime() - t0);
            }
            if (op.equals("empty")) { // the same memory, owned by a tensor that names this backend
                Tensor t = (Tensor) r;
                return new Tensor((Backend) proxy, t.storage(), t.dtype(), t.layout(), t.shape());
            }
            return r;
        });
    }

    public boolean synchronising() { return sync; }

    /** Forgets what was timed so far (after the warm-up steps). */
    public void reset() { times.clear(); }

    /** Every op timed so far, the slowest first. */
    public List<OpTime> ops() {
        List<OpTime> l = new ArrayList<>();
        times.forEach((op, s) -> l.add(new OpTime(op, s[0].get(), s[1].get())));
        l.sort((a, b) -> Long.compare(b.nanos(), a.nanos()));
        return l;
    }

    /**
     * Markdown table: op, calls per step, ms per step, share of the step time, and a last row with the ops' sum against
     * the step. steps: how many steps were timed; stepSeconds: their mean wall time.
     */
    public String table(int steps, double stepSeconds) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "op profile (%s, %d steps, %.2f ms a step):%n", sync
                ? "device: drained before and after each op" : "host: time to issue each op, no synchronisation", steps, stepSeconds * 1e3));
        b.append("| op | calls/step | ms/step | % of step |\n|---|---|---|---|\n");
        long sum = 0;
        for (OpTime t : ops()) {
            sum += t.nanos();
            double ms = t.nanos() / 1e6 / steps;
            b.append(String.format(Locale.ROOT, "| %s | %.1f | %.3f | %.1f |%n", t.op(), (double) t.calls() / steps, ms, 100 * ms / (stepSeconds * 1e3)));
        }
        double ms = sum / 1e6 / steps;
        b.append(String.format(Locale.ROOT, "| all ops | | %.3f | %.1f |%n", ms, 100 * ms / (stepSeconds * 1e3)));
        return b.toString();
    }
}
