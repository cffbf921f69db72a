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

    /**
     * Loads tensors by external name. Missing or unexpected keys and shape mismatches are errors when strict (listed
     * together); PyTorch's {@code num_batches_tracked} counters are ignored.
     */
    public LoadReport loadState(Map<String, HostArray> src, boolean strict) {
        Map<String, Tensor> mine = state();
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), badShape = new ArrayList<>();
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
            if (!Arrays.equals(a.shape(), e.getValue().shape()) && a.numel() == e.getValue().numel()
                    && squeezeEq(a.shape(), e.getValue().shape())) {
                e.getValue().backend().upload(e.getValue(), a.data()); // e.g. [C] vs [C,1,1,1]
            } else if (!Arrays.equals(a.shape(), e.getValue().shape())) {
                badShape.add(externalName(e.getKey()) + " file " + a.shapeString() + " model " + e.getValue().shapeString());
            } else {
                e.getValue().backend().upload(e.getValue(), a.data());
            }
        }
        LoadReport r = new LoadReport(missing, unexpected, badShape);
        if (strict && !r.ok()) throw new IllegalArgumentException(r.describe());
        if (!badShape.isEmpty()) throw new IllegalArgumentException(r.describe());
        return r;
    }

    private static boolean squeezeEq(int[] a, int[] b) {
        return Arrays.equals(Arrays.stream(a).filter(d -> d != 1).toArray(), Arrays.stream(b).filter(d -> d != 1).toArray());
    }

    public record LoadReport(List<String> missing, List<String> unexpected, List<String> badShape) {
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
