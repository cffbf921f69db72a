package conta.tensor;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The backend the conformance tests run on: {@code -Dconta.test.backend=cpu|cuda:N} (surefire passes it through;
 * {@code cpu} by default), made through the provider lookup of {@link Backends}. A named device that is absent skips
 * the calling test class with the reason instead of failing it.
 */
public final class TestBackends {
    private TestBackends() { }

    /** The spec under test, e.g. "cpu" or "cuda:0". */
    public static String spec() {
        String s = System.getProperty("conta.test.backend", "").strip();
        return s.isEmpty() ? "cpu" : s;
    }

    /** Whether the tests run on the host backend (some checks, e.g. bit-exact oneDNN paths, hold only there). */
    public static boolean onCpu() { return spec().equalsIgnoreCase("cpu"); }

    /** Why the named device cannot run here (the skip message), or null when it can. */
    public static String absentReason() {
        String s = spec();
        String kind = (s.contains(":") ? s.substring(0, s.indexOf(':')) : s).toLowerCase(java.util.Locale.ROOT);
        String why = kind.equals("auto") ? null : Backends.unavailableReason(kind);
        return why == null ? null : "-Dconta.test.backend=" + s + ": device absent (" + why + "); the conformance tests skip";
    }

    /** A new backend for {@link #spec()}; the caller closes it. Skips (JUnit assumption) when that device is absent. */
    public static Backend open() {
        String why = absentReason();
        assumeTrue(why == null, why);
        return Backends.select(spec());
    }
}
