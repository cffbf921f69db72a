package conta.nn;

import conta.io.HostArray;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A tree of named parameters, buffers and child modules, named like PyTorch's state_dict ("layer1.0.conv1.weight").
 * Parameters and buffers are owned here and freed by {@link #close()}.
 */
public abstract class Module implements AutoCloseable {
    protected final Backend backend;
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    protected boolean training = true;

    protected Module(Backend backend) { this.backend = backend; }

    public Backend backend() { return backend; }

    protected Tensor param(String name, int... shape) {
        Tensor t = Tensor.zeros(backend, shape);
        t.requiresGrad = true;
        t.name = name;
        params.put(name, t);
        return t;
    }

    protected Tensor buffer(String name, int... shape) {
        Tensor t = Tensor.zeros(backend, shape);
        t.name = name;
        buffers.put(name, t);
        return t;
    }

    protected <M extends Module> M child(String name, M m) {
        children.put(name, m);
        return m;
    }

    public Map<String, Module> children() { return children; }

    /** Visits every parameter (true) and buffer (false) with its full name, in registration order. */
    public void visit(String prefix, StateVisitor v) {
        params.forEach((k, t) -> v.visit(prefix + k, t, true));
        buffers.forEach((k, t) -> v.visit(prefix + k, t, false));
        children.forEach((k, m) -> m.visit(prefix + k + ".", v));
    }

    @FunctionalInterface
    public interface StateVisitor {
        void visit(String name, Tensor t, boolean isParam);
    }

    /** Name of a tensor in exported files; models with foreign naming conventions override. */
    public String externalName(String internal) { return internal; }

    /** Inverse of {@link #externalName}; returns null for names this model does not know. */
    public String internalName(String external) { return external; }

    /** Parameters and buffers by internal name. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        visit("", (n, t, p) -> m.put(n, t));
        return m;
    }

    /** Parameters (trainable or frozen) by internal name. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        visit("", (n, t, p) -> { if (p) m.put(n, t); });
        return m;
    }

    public List<Tensor> trainableParameters() {
        List<Tensor> l = new ArrayList<>();
        visit("", (n, t, p) -> { if (p && t.requiresGrad) l.add(t); });
        return l;
    }

    /** Copies the state to host arrays under external names (the PyTorch state_dict). */
    public Map<String, HostArray> exportState() {
        Map<String, HostArray> m = new LinkedHashMap<>();
        visit("", (n, t, p) -> m.put(externalName(n), new HostArray(t.shape(), t.toArray())));
        return m;
    }

    /** Visits this module and every descendant with its name prefix ("" for this one, "layer1.0." for a block). */
    public void visitModules(String prefix, BiConsumer<String, Module> v) {
        v.accept(prefix, this);
        children.forEach((k, m) -> m.visitModules(prefix + k + ".", v));
    }

    /**
     * Loads tensors by external name. Missing or unexpected keys and shape mismatches are errors when strict (listed
     * together); PyTorch's {@code num_batches_tracked} counters are ignored. A non-strict load (pretrained weights)
     * also fills a context-widened conv ({@link Conv2d#contextIn} = k, weight [o, i + k, kh, kw]) from the weight of the
     * network without context, [o, i, kh, kw]: the file's values go to the first i input channels and the k context
     * channels are zeroed, so the widened network computes exactly what the pretrained one does until M's weights
     * learn. Strict loads (our own checkpoints) need the full widened shape.
     */
    public LoadReport loadState(Map<String, HostArray> src, boolean strict) {
        Map<String, Tensor> mine = state();
        Map<String, Integer> contextIn = new LinkedHashMap<>();
        visitModules("", (n, m) -> { if (m instanceof Conv2d cv && cv.contextIn > 0) contextIn.put(n + "weight", cv.contextIn); });
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), badShape = new ArrayList<>(), widened = new ArrayList<>();
        Map<String, HostArray> byInternal = new LinkedHashMap<>();
        for (var e : src.entrySet()) {
            if (e.getKey().endsWith("num_batches_tracked")) continue;
            String in = internalName(e.getKey());
            if (in == null || !mine.containsKey(in)) unexpected.add(e.getKey());
            else byInternal.put(in, e.getValue());
        }
        for (var e : mine.entrySet()) {
            HostArray a = byInternal.get(e.getKey());
            if (a == null) { missing.add(externalName(e.getKey())); continue; }
            int[] ms = e.getValue().shape();
            Integer k = contextIn.get(e.getKey());
            if (k != null && !Arrays.equals(a.shape(), ms)) {
                int[] plain = ms.clone();
                plain[1] -= k;
                if (!strict && Arrays.equals(a.shape(), plain)) {
                    e.getValue().backend().upload(e.getValue(), widenInputs(a.data(), ms[0], plain[1], k, ms[2] * ms[3]));
                    widened.add(externalName(e.getKey()));
                } else {
                    badShape.add(externalName(e.getKey()) + " file " + a.shapeString() + " model " + e.getValue().shapeString() + " (a conv with "
                            + k + " context input channels: the file must hold " + e.getValue().shapeString()
                            + (strict ? "" : " or the weight without context " + Arrays.toString(plain)) + ")");
                }
            } else if (!Arrays.equals(a.shape(), ms) && a.numel() == e.getValue().numel() && squeezeEq(a.shape(), ms)) {
                e.getValue().backend().upload(e.getValue(), a.data()); // e.g. [C] vs [C,1,1,1]
            } else if (!Arrays.equals(a.shape(), ms)) {
                badShape.add(externalName(e.getKey()) + " file " + a.shapeString() + " model " + e.getValue().shapeString());
            } else {
                e.getValue().backend().upload(e.getValue(), a.data());
            }
        }
        mine.values().forEach(Tensor::markModified); // caches derived from the values (BatchNorm2d's fold) are stale now
        LoadReport r = new LoadReport(missing, unexpected, badShape, widened);
        if (strict && !r.ok()) throw new IllegalArgumentException(r.describe());
        if (!badShape.isEmpty()) throw new IllegalArgumentException(r.describe());
        return r;
    }

    /** [o, i, hw] -> [o, i + k, hw] with the k new input channels zero. */
    static float[] widenInputs(float[] w, int o, int i, int k, int hw) {
        float[] out = new float[o * (i + k) * hw];
        for (int r = 0; r < o; r++) System.arraycopy(w, r * i * hw, out, r * (i + k) * hw, i * hw);
        return out;
    }

    private static boolean squeezeEq(int[] a, int[] b) {
        return Arrays.equals(Arrays.stream(a).filter(d -> d != 1).toArray(), Arrays.stream(b).filter(d -> d != 1).toArray());
    }

    /** widened: context-widened convs filled from weights without context (their context channels zeroed). */
    public record LoadReport(List<String> missing, List<String> unexpected, List<String> badShape, List<String> widened) {
        public LoadReport(List<String> missing, List<String> unexpected, List<String> badShape) { this(missing, unexpected, badShape, List.of()); }

        public boolean ok() { return missing.isEmpty() && unexpected.isEmpty() && badShape.isEmpty(); }

        public String describe() {
            StringBuilder b = new StringBuilder("checkpoint does not match the model:");
            if (!missing.isEmpty()) b.append(" missing keys ").append(head(missing)).append(';');
            if (!unexpected.isEmpty()) b.append(" unexpected keys ").append(head(unexpected)).append(';');
            if (!badShape.isEmpty()) b.append(" wrong shapes ").append(head(badShape)).append(';');
            return b.toString();
        }

        private static String head(List<String> l) {
            return l.size() <= 5 ? l.toString() : l.subList(0, 5) + " and " + (l.size() - 5) + " more";
        }
    }

    public void train(boolean on) {
        training = on;
        children.values().forEach(c -> c.train(on));
    }

    public boolean isTraining() { return training; }

    /** Marks every parameter of this subtree trainable or frozen. */
    public void setTrainable(boolean on) {
        visit("", (n, t, p) -> { if (p) t.requiresGrad = on; });
    }

    /** Fills every parameter/buffer via an initialiser that sees the name and tensor. */
    public void initWith(BiConsumer<String, Tensor> init) { visit("", (n, t, p) -> init.accept(n, t)); }

    @Override
    public void close() {
        params.values().forEach(Tensor::close);
        buffers.values().forEach(Tensor::close);
        children.values().forEach(Module::close);
    }
}
