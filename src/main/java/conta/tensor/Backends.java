package conta.tensor;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Device selection from a spec string: {@code cpu}, {@code cuda[:N]} or {@code auto} (CUDA if a device and the CUDA
 * libraries are there, else CPU). {@code auto} says once per process why it fell back; {@code cuda:N} without a device is
 * an error that gives the reason. The implementations are found as {@link BackendProvider}s through ServiceLoader, so
 * this class names none of them.
 */
public final class Backends {
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    /** Where the one-time fallback message goes (tests swap it); null: System.err as it is at the time (a run's log). */
    static volatile PrintStream log;
    private static volatile List<BackendProvider> providers;

    private Backends() { }

    public static Backend select(String spec) { return select(spec, false); }

    /** The same with bf16 convolutions where {@code bf16} ({@link BackendProvider#open(int, boolean)}); under auto a provider without them is skipped with the reason. */
    public static Backend select(String spec, boolean bf16) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) return require("cpu", spec).open(0, bf16);
        if (s.equals("auto")) return auto(providers(), bf16);
        if (s.equals("cuda") || s.startsWith("cuda:")) {
            int dev = parseDevice(spec, s);
            String why = unavailableReason("cuda");
            if (why != null) throw new IllegalStateException(spec + " requested but no CUDA device: " + why + " (use --device cpu or auto)");
            return require("cuda", spec).open(dev, bf16);
        }
        throw new IllegalArgumentException("unknown device '" + spec + "': expected cpu, cuda, cuda:N or auto");
    }

    /** Why device kind {@code kind} cannot run here (one line), or null when it can. */
    public static String unavailableReason(String kind) {
        BackendProvider p = provider(kind);
        return p == null ? "no " + kind + " backend on the class path (META-INF/services/" + BackendProvider.class.getName() + ")"
                         : p.unavailableReason();
    }

    /** The provider of device kind {@code kind}, or null when none is on the class path. */
    public static BackendProvider provider(String kind) {
        for (BackendProvider p : providers()) if (p.kind().equals(kind)) return p;
        return null;
    }

    /** Every provider on the class path, most preferred under auto first. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> ps = providers;
        if (ps == null) {
            List<BackendProvider> found = new ArrayList<>();
            var it = ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).iterator();
            for (int bad = 0; bad < 16; ) {
                try {
                    if (!it.hasNext()) break;
                    found.add(it.next());
                } catch (ServiceConfigurationError e) { // a listed provider whose classes are absent: the others still count
                    bad++;
                }
            }
            found.sort(Comparator.comparingInt(BackendProvider::autoPriority).reversed());
            providers = ps = List.copyOf(found);
        }
        return ps;
    }

    /** The most preferred provider that is usable and opens; a skipped one is reported once with its reason. */
    static Backend auto(List<BackendProvider> candidates) { return auto(candidates, false); }

    /** auto over the given providers (most preferred first); any failure of a provider's set-up is a reason, not an error. */
    static Backend auto(List<BackendProvider> candidates, boolean bf16) {
        List<String> skipped = new ArrayList<>();
        for (BackendProvider p : candidates) {
            String why = p.unavailableReason();
            if (why == null) {
                try {
                    Backend b = p.open(0, bf16);
                    if (!skipped.isEmpty() && WARNED.compareAndSet(false, true))
                        (log != null ? log : System.err).println("device auto: " + String.join("; ", skipped) + "; running on " + p.kind().toUpperCase(Locale.ROOT)
                                + " (--device " + p.kind() + " goes there without looking)");
                    return b;
                } catch (UnsupportedOperationException e) {
                    why = e.getMessage();
                } catch (RuntimeException | LinkageError e) {
                    why = "the " + p.kind().toUpperCase(Locale.ROOT) + " backend failed to start: " + reason(e);
                }
            }
            skipped.add("no " + p.kind().toUpperCase(Locale.ROOT) + " device: " + why);
        }
        throw new IllegalStateException("no usable backend: " + String.join("; ", skipped));
    }

    /** One line from an exception chain: each cause's first message line, innermost last (at most 400 characters). */
    static String reason(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null && sb.length() < 400; t = t.getCause()) {
            String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().lines().findFirst().orElse("");
            if (!sb.isEmpty()) sb.append(" <- ");
            sb.append(m);
        }
        return sb.length() > 400 ? sb.substring(0, 400) + "..." : sb.toString();
    }

    /** Lets a test see the one-time message again; returns whether it had been said. */
    static boolean resetWarningForTest() { return WARNED.getAndSet(false); }

    private static BackendProvider require(String kind, String spec) {
        BackendProvider p = provider(kind);
        if (p == null) throw new IllegalStateException(spec + ": " + unavailableReason(kind));
        return p;
    }

    private static int parseDevice(String spec, String s) {
        if (s.equals("cuda")) return 0;
        try {
            int d = Integer.parseInt(s.substring(5));
            if (d >= 0) return d;
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("bad CUDA device in '" + spec + "': expected cuda:N with N >= 0");
    }
}
