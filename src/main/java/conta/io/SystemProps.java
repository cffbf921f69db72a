package conta.io;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Every {@code -Dconta.*} system property conta reads, with the values it takes, and the one way to read them. The
 * JDK's own readers are lenient ({@code Boolean.getBoolean} takes anything but "true" as false, {@code
 * Integer.getInteger} takes "abc" or a number past int as its default), so a misspelt name or value ran with the
 * default unnoticed. Here a value is read by {@link #flag}, {@link #count}, {@link #text} or {@link #choice} against its
 * row (a value the row refuses throws, naming it), and the command line and the API check every {@code conta.*}
 * property before anything runs ({@link #problem}). SystemPropsTest keeps the sources reading through here only.
 */
public final class SystemProps {
    private SystemProps() { }

    enum Kind { FLAG, COUNT, TEXT, CHOICE }

    /**
     * A property: its kind, the values of a choice (lower case; read case-insensitively), a count's range, and what it
     * does (for `conta --help-properties`). Flags read true or false in any case.
     */
    record Prop(String name, Kind kind, List<String> choices, long min, long max, String meaning) {
        String values() {
            return switch (kind) {
                case FLAG -> "true|false";
                case COUNT -> max == Integer.MAX_VALUE || max == Long.MAX_VALUE ? "N>=" + min : "N in " + min + ".." + max;
                case TEXT -> "TEXT";
                case CHOICE -> String.join("|", choices);
            };
        }

        /** Why v is not a value of this property, or null. */
        String refusal(String v) {
            String t = v.strip().toLowerCase(java.util.Locale.ROOT);
            return switch (kind) {
                case FLAG -> t.equals("true") || t.equals("false") ? null : "expected true or false";
                case COUNT -> {
                    long n;
                    try {
                        n = t.matches("[0-9]{1,18}") ? Long.parseLong(t) : -1;
                    } catch (NumberFormatException e) {
                        n = -1;
                    }
                    yield n >= min && n <= max ? null : "expected a whole number " + (max == Integer.MAX_VALUE || max == Long.MAX_VALUE
                            ? "of at least " + min : "from " + min + " to " + max);
                }
                case CHOICE -> choices.contains(t) ? null : "expected " + or(choices);
                case TEXT -> v.isBlank() ? "expected a value" : null;
            };
        }
    }

    private static final long INT = Integer.MAX_VALUE;

    private static Prop flag(String name, String meaning) { return new Prop(name, Kind.FLAG, List.of(), 0, 0, meaning); }
    private static Prop count(String name, long min, long max, String meaning) { return new Prop(name, Kind.COUNT, List.of(), min, max, meaning); }
    private static Prop text(String name, String meaning) { return new Prop(name, Kind.TEXT, List.of(), 0, 0, meaning); }
    private static Prop choice(String name, String meaning, String... values) { return new Prop(name, Kind.CHOICE, List.of(values), 0, 0, meaning); }

    /** By name, in the order `--help-properties` prints them. */
    static final Map<String, Prop> ALL = index(
            // CPU kernels
            choice("conta.conv", "CPU convolutions: oneDNN fp32 (default), oneDNN bf16, or OpenBLAS im2col+sgemm", "dnnl", "dnnl-bf16", "blas"),
            choice("conta.blas", "matrix products: oneDNN's (default) or OpenBLAS's sgemm", "dnnl", "openblas"),
            flag("conta.cpu.blocked", "training activations kept in oneDNN's blocked layout between convolutions (default true)"),
            flag("conta.cpu.blockedWeights", "weights kept blocked for oneDNN across steps (default true)"),
            flag("conta.cpu.blocked.trace", "print where every layout conversion happens (default false)"),
            flag("conta.cpu.nhwc", "bf16 training activations held in NHWC, where oneDNN's AMX convolutions want them (default: true where the CPU has AMX)"),
            flag("conta.dnnl.plain1x1", "1x1 convolutions on plain layouts below conta.dnnl.plain1x1.minPixels (default true)"),
            count("conta.dnnl.plain1x1.minPixels", 0, INT, "output pixels from which 1x1 convolutions go blocked (default 3136; 0: always plain)"),
            count("conta.dnnl.maxPlans", 1, INT, "oneDNN convolution plans kept, least recently used first out (default 512)"),
            flag("conta.conv.centreTap", "a dilated 3x3 larger than its map runs as its centre tap, a 1x1 (default true)"),
            count("conta.conv.batchedMaxPixels", 0, INT, "BLAS path: below this many output pixels an image, one product for the batch (default 4096)"),
            count("conta.conv.dwChunk", 1, INT, "BLAS path: inner chunk of the weight-gradient product (default 2048)"),
            count("conta.host.cache", 0, 1L << 30, "MiB of freed host blocks kept for reuse (default a quarter of memory, at least 2048)"),
            // inference plans
            flag("conta.infer.plan", "inference plans (BN folded, fused post-ops) serve CPU inference (default true)"),
            count("conta.infer.planShapes", 1, 1024, "input sizes a model keeps an inference plan for, least recently used first out (default 4)"),
            flag("conta.plan.nhwc", "plans keep activations NHWC instead of oneDNN's format any (default true)"),
            flag("conta.plan.winograd", "plans run eligible 3x3 convolutions with conta's Winograd kernel (default true)"),
            flag("conta.plan.winograd.bf16", "the same for bf16 plans (default true)"),
            count("conta.plan.winograd.maxpairs", 0, Long.MAX_VALUE, "largest channel pairs (in x out) a Winograd op takes (default 262144: 512 x 512)"),
            flag("conta.plan.winograd.wideblocks", "Winograd layers whose transformed weights exceed L2 take blocks of half of L2 (default: true where a core's L2 holds 2 MB)"),
            flag("conta.plan.gemmconv", "plans run convolutions with small output maps as conta's one-GEMM kernel (default: true where a core's L2 holds 2 MB)"),
            count("conta.plan.gemmconv.maxpixels", 0, Long.MAX_VALUE, "largest output map (h x w) a gemmconv op takes (default 64)"),
            count("conta.plan.jitwarmup", 0, 50_000, "calls without work through a process's first plan's call path at compile, so that the JIT compiles it then and not during real calls (default 30000; 0: off)"),
            flag("conta.plan.nativeloop", "plans run their ops from a loop in C, one downcall a call (default true where libconta_cpu.so loaded; false: the Java loop)"),
            count("conta.report.progressSeconds", 0, Long.MAX_VALUE, "a pipeline stage that took at least this long refreshes report.html when it ends (default 60)"),
            flag("conta.plan.profile", "time every plan op; conta bench latency prints the per-op ms (default false)"),
            text("conta.plan.profile.calls", "with conta.plan.profile: a CSV file of every call's per-op ms (bench/latency_ops.py)"),
            flag("conta.profile.shapes", "op profiles get one row per op and input shape (default false)"),
            // CUDA
            flag("conta.cuda.disable", "never open the CUDA backend (default false)"),
            flag("conta.cuda.tf32", "TF32 tensor-core math for fp32 convolutions and products (default true)"),
            flag("conta.cuda.deterministic", "deterministic cuDNN algorithms only (default true)"),
            flag("conta.cuda.sync", "synchronise after every op, so a fault names its op (default false)"),
            count("conta.cuda.workspaceMiB", 0, 1L << 30, "cuDNN workspace limit in MiB (default 256)"),
            choice("conta.cuda.convSearch", "legacy API algorithm choice (default heuristic when deterministic, else auto)", "auto", "find", "heuristic"),
            choice("conta.cuda.convApi", "cuDNN convolution API (default legacy)", "legacy", "graph"),
            choice("conta.cuda.graphSearch", "graph API engine choice (default heuristic)", "heuristic", "top", "measure"),
            text("conta.cuda.graphChoices", "graph API: a JSON file the measured engine choices are read from and kept in"),
            count("conta.cuda.planCache", 1, INT, "cuDNN convolution plans kept per backend, least recently used first out (default 64)"),
            count("conta.cuda.descriptorCache", 1, INT, "cuDNN tensor descriptors kept per backend (default 256)"),
            count("conta.cuda.graphCandidates", 1, INT, "graph API, measure: engines timed per convolution (default 8)"),
            count("conta.cuda.graphWorkspaceCapMiB", 0, 1L << 30, "graph API: largest workspace an engine may ask for, MiB (default 4x conta.cuda.workspaceMiB)"),
            choice("conta.cuda.maxPoolBackward", "max-pool backward: gather from the input (default) or the saved argmax", "gather", "argmax"),
            flag("conta.cuda.fusedAffineBackward", "opt-in kernel not yet checked on a GPU (default false)"),
            flag("conta.cuda.vectorElementwise", "opt-in kernel not yet checked on a GPU (default false)"),
            flag("conta.cuda.fusedRelu", "opt-in kernel not yet checked on a GPU (default false)"),
            // elsewhere
            text("conta.npm", "the npm command that fetches ImageNet weights (default npm)"),
            // tests only
            text("conta.test.backend", "tests: the backend the op tests run on (cpu, cuda:N)"),
            text("conta.test.keepReports", "tests: a folder the browser test keeps its reports in"),
            count("conta.test.killAt", 1, Long.MAX_VALUE, "tests: a simulated kill at the Nth progress event"));

    private static Map<String, Prop> index(Prop... props) {
        Map<String, Prop> m = new java.util.LinkedHashMap<>();
        for (Prop p : props) if (m.put(p.name, p) != null) throw new IllegalStateException("listed twice: " + p.name);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The listed names. */
    public static java.util.Set<String> names() { return ALL.keySet(); }

    /** The problems of the {@code conta.*} properties in {@code props}, one line each (empty: all good). */
    public static List<String> problems(Properties props) {
        Map<String, String> ours = new TreeMap<>();
        for (String k : props.stringPropertyNames()) if (k.startsWith("conta.")) ours.put(k, props.getProperty(k));
        List<String> bad = new ArrayList<>();
        for (var e : ours.entrySet()) {
            String name = e.getKey(), v = e.getValue();
            Prop p = ALL.get(name);
            if (p == null) {
                String near = nearest(name);
                bad.add("-D" + name + ": no such conta property" + (near == null ? "" : " (did you mean -D" + near + "?)")
                        + "; conta --help-properties lists them");
                continue;
            }
            String why = p.refusal(v);
            if (why != null) bad.add("-D" + name + "=" + v + ": " + why);
        }
        return bad;
    }

    /** Property name's value: true or false in any case; dflt when unset. */
    public static boolean flag(String name, boolean dflt) {
        String v = read(name, Kind.FLAG);
        return v == null ? dflt : v.strip().equalsIgnoreCase("true");
    }

    /** Property name's whole number within its row's range; dflt when unset. */
    public static long count(String name, long dflt) {
        String v = read(name, Kind.COUNT);
        return v == null ? dflt : Long.parseLong(v.strip());
    }

    /** Property name's text, or null when unset. */
    public static String text(String name) { return read(name, Kind.TEXT); }

    /** Property name's choice, in lower case; dflt when unset. */
    public static String choice(String name, String dflt) {
        String v = read(name, Kind.CHOICE);
        return v == null ? dflt : v.strip().toLowerCase(java.util.Locale.ROOT);
    }

    /** The raw value of a listed property of this kind after its row's check (null when unset). */
    private static String read(String name, Kind kind) {
        Prop p = ALL.get(name);
        if (p == null || p.kind != kind) throw new IllegalStateException(name + " is not a listed " + kind + " property (SystemProps.ALL)");
        String v = System.getProperty(name);
        if (v == null) return null;
        String why = p.refusal(v);
        if (why != null) throw new IllegalArgumentException("-D" + name + "=" + v + ": " + why);
        return v;
    }

    /** The first problem of this JVM's {@code conta.*} properties, or null. */
    public static String problem() {
        List<String> bad = problems(System.getProperties());
        return bad.isEmpty() ? null : bad.get(0) + (bad.size() > 1 ? " (and " + (bad.size() - 1) + " more)" : "");
    }

    /** The table `conta --help-properties` prints. */
    public static String help() {
        StringBuilder s = new StringBuilder("conta's -D system properties (pass them in CONTA_JAVA_OPTS, or to java):\n");
        for (Prop p : ALL.values()) s.append(String.format("  -D%s=%s%n      %s%n", p.name, p.values(), p.meaning));
        return s.toString();
    }

    private static String or(List<String> xs) {
        return xs.size() == 1 ? xs.get(0) : String.join(", ", xs.subList(0, xs.size() - 1)) + " or " + xs.get(xs.size() - 1);
    }

    /** The listed name closest to a misspelt one (at most 2 edits, case aside), or null. */
    static String nearest(String name) {
        String best = null;
        int bestD = 3;
        for (String k : ALL.keySet()) {
            int d = distance(name.toLowerCase(java.util.Locale.ROOT), k.toLowerCase(java.util.Locale.ROOT));
            if (d < bestD) { bestD = d; best = k; }
        }
        return best;
    }

    /** Levenshtein distance: the "did you mean" of misspelt properties and command-line flags. */
    public static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++)
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }
}
