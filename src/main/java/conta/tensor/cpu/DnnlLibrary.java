package conta.tensor.cpu;

import org.bytedeco.javacpp.Loader;

/**
 * Whether the oneDNN preset loads. Kept apart from {@link DnnlConv} so that asking links none of the preset's classes:
 * the GPU package leaves the dnnl and opencl jars out, and its CPU reference backend then falls back to OpenBLAS.
 */
final class DnnlLibrary {
    private static final String UNAVAILABLE = load();

    private DnnlLibrary() { }

    private static String load() {
        try {
            Loader.load(Class.forName("org.bytedeco.dnnl.global.dnnl"));
            return null;
        } catch (Throwable e) { // ClassNotFoundException, UnsatisfiedLinkError, NoClassDefFoundError, ...
            String m = String.valueOf(e.getMessage());
            int nl = m.indexOf('\n');
            return e.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
        }
    }

    /** Null when the oneDNN library loaded, else why not (one line). */
    static String unavailableReason() { return UNAVAILABLE; }
}
