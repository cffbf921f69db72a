package conta.onnx;

import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.Storage;
import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A backend that runs every primitive on the CPU backend and records it as ONNX nodes: running a network's own forward
 * on an input made here yields its graph, so an export follows the model's code and cannot drift from it.
 *
 * <p>Tensors made here carry CPU storage (the CPU backend reads storage, not the backend field) and point back at this
 * backend, so every op of a forward comes through. The trace records ops and shapes only: activations are never
 * computed (the graph depends on them nowhere; the exported network is checked against conta's forward by the tests),
 * which makes tracing a ResNet-101 a matter of milliseconds. A tensor whose storage no traced op wrote (a parameter, a frozen
 * batch norm's scale, a bias copied into a linear layer's output) is a constant: its values at the time of use become an
 * initializer. Views (reshape) share storage and become Flatten / Reshape nodes. Frozen batch norm (a per-channel affine
 * right after a convolution whose output nothing else reads yet) is folded into the convolution's weight and bias.
 *
 * <p>Spatial sizes are dynamic: convolutions and pools take their padding and strides from the op, not the input size.
 * A bilinear resize's target size is an int in the model's code; the exporter traces the network at several input sizes
 * ({@link #others}) and takes, for each resize, the rule that gives the target at every size: a known scale factor of
 * the resize's input (DeepLab's multi-scale inputs, floor(H * s) as in the model), or the size of an earlier value
 * (CONTA's context resized to the feature grid, the MSC branches resized to scale 1); only if neither holds does it keep
 * the traced size, with a note.
 */
final class Tracer implements Backend {
    private final Backend cpu;
    final OnnxGraph g = new OnnxGraph();
    /** The shape of every value in production order (its index is the value's seq), for the other traces' checks. */
    final List<int[]> produced = new ArrayList<>();
    /** Every bilinear resize in call order: input shape, target shape. */
    final List<int[][]> resizes = new ArrayList<>();
    /** What the export could not make dynamic, for the caller to report. */
    final List<String> notes = new ArrayList<>();
    private final double[] scaleHints;
    private final boolean shapesOnly;
    private final List<Tracer> others;
    private final IdentityHashMap<Storage, Value> values = new IdentityHashMap<>();
    private final IdentityHashMap<Storage, Map<String, String>> constants = new IdentityHashMap<>();
    private final Map<String, String> shapeOf = new HashMap<>();

    /** A value of the graph: an op output or a graph input. */
    private static final class Value {
        String name;
        int[] shape;
        int seq;
        OnnxGraph.Node producer;
        /** Channel blocks written by copyChannels not yet joined into a node (concat of pieces). */
        List<String[]> pieces;
        /** The convolution this value came from, taken out of the graph when its batch norm was folded; put back if read. */
        OnnxGraph.Node detached;
        final Map<String, String> views = new HashMap<>();
    }

    /**
     * @param cpu        holds the trace's tensors (their memory; no op runs there)
     * @param scaleHints scale factors the model resizes its input by (may be empty)
     * @param others     finished traces of the same network at other input sizes (may be empty)
     */
    Tracer(Backend cpu, double[] scaleHints, List<Tracer> others) { this(cpu, scaleHints, others, false); }

    /** shapesOnly: a trace whose graph is thrown away (only {@link #produced} and {@link #resizes} are used) reads no constants. */
    Tracer(Backend cpu, double[] scaleHints, List<Tracer> others, boolean shapesOnly) {
        this.cpu = cpu;
        this.shapesOnly = shapesOnly;
        this.scaleHints = scaleHints.clone();
        this.others = others;
    }

    // ------------------------------------------------------------------ graph ports
    /** A graph input of the given shape holding data; dims gives each dimension as a number or a symbolic name. */
    Tensor input(String name, float[] data, int[] shape, Object[] dims) {
        Tensor t = empty(shape);
        cpu.upload(t, data);
        register(t, g.fresh(name), null);
        g.inputs.add(new OnnxGraph.Port(values.get(owner(t)).name, dims));
        return t;
    }

    /** Declares t a graph output under the given name. */
    void output(String name, Tensor t, Object[] dims) {
        String v = in(t);
        OnnxGraph.Node producer = null;
        for (OnnxGraph.Node n : g.nodes) if (n.outputs.contains(v)) producer = n;
        boolean isPort = g.inputs.stream().anyMatch(p -> p.name().equals(v)) || g.outputs.stream().anyMatch(p -> p.name().equals(v));
        String out = g.fresh(name);
        if (producer == null || isPort) {
            g.add("Identity", List.of(v), out);
        } else { // rename the value everywhere
            producer.outputs.replaceAll(o -> o.equals(v) ? out : o);
            for (OnnxGraph.Node n : g.nodes) n.inputs.replaceAll(i -> i.equals(v) ? out : i);
            for (Value x : values.values()) if (v.equals(x.name)) x.name = out;
        }
        g.outputs.add(new OnnxGraph.Port(out, dims));
    }

    // ------------------------------------------------------------------ values
    private static Storage owner(Tensor t) {
        Storage s = t.storage();
        return s instanceof Tensor.SharedStorage sh ? sh.owner : s;
    }

    private void register(Tensor t, String name, OnnxGraph.Node producer) {
        Value v = new Value();
        v.name = name;
        v.shape = t.shape();
        v.seq = produced.size();
        v.producer = producer;
        produced.add(t.shape());
        values.put(owner(t), v);
    }

    /** The graph name of an op input: its value (joined, reshaped as the tensor's view needs) or a constant. */
    private String in(Tensor t) {
        Value v = values.get(owner(t));
        if (v == null) return constant(t);
        materialize(v);
        if (Arrays.equals(v.shape, t.shape())) return v.name;
        return v.views.computeIfAbsent(Arrays.toString(t.shape()), k -> view(v, t.shape()));
    }

    private void materialize(Value v) {
        if (v.detached != null) {
            g.nodes.add(v.detached);
            v.detached = null;
        }
        if (v.pieces == null) return;
        List<String[]> ps = v.pieces;
        v.pieces = null;
        ps.sort(Comparator.comparingInt(p -> Integer.parseInt(p[0])));
        int c = 0;
        for (String[] p : ps) {
            if (Integer.parseInt(p[0]) != c) throw unsupported("a channel concatenation with gaps or overlaps");
            c += Integer.parseInt(p[1]);
        }
        if (c != v.shape[1]) throw unsupported("a channel concatenation that does not fill its output");
        if (ps.size() == 1) {
            g.add("Identity", List.of(ps.getFirst()[2]), v.name);
            return;
        }
        v.producer = g.add("Concat", ps.stream().map(p -> p[2]).toList(), v.name).attr("axis", 1L);
    }

    /** A view of another shape: Flatten for [N, rest], else Reshape keeping the batch dimension dynamic. */
    private String view(Value v, int[] shape) {
        String out = g.fresh(v.name + "_view");
        if (shape.length == 2 && shape[0] == v.shape[0] && v.shape.length > 2) {
            g.add("Flatten", List.of(v.name), out).attr("axis", 1L);
            return out;
        }
        long[] s = new long[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = shape[i];
        if (shape[0] == v.shape[0]) s[0] = 0; // ONNX Reshape: 0 copies the input's dimension
        g.add("Reshape", List.of(v.name, g.longs(out + "_shape", s)), out);
        return out;
    }

    private String constant(Tensor t) {
        if (shapesOnly) return g.fresh("const");
        Map<String, String> byShape = constants.computeIfAbsent(owner(t), k -> new HashMap<>());
        return byShape.computeIfAbsent(Arrays.toString(t.shape()), k -> {
            int[] s = t.shape();
            long[] dims = new long[s.length];
            for (int i = 0; i < s.length; i++) dims[i] = s[i];
            return g.floats(t.name != null ? t.name : "const", dims, t.backend().download(t));
        });
    }

    private float[] constantData(String name) {
        OnnxGraph.Constant k = g.constants.get(name);
        return k == null ? null : k.floats();
    }

    /** Emits op(inputs) -> a new value held by y's storage. */
    private OnnxGraph.Node emit(String op, List<String> inputs, Tensor y) {
        OnnxGraph.Node n = g.add(op, inputs, g.fresh(op.toLowerCase(java.util.Locale.ROOT)));
        register(y, n.outputs.getFirst(), n);
        return n;
    }

    private String temp(String op, List<String> inputs) {
        return g.add(op, inputs, g.fresh(op.toLowerCase(java.util.Locale.ROOT))).outputs.getFirst();
    }

    private static UnsupportedOperationException unsupported(String what) {
        return new UnsupportedOperationException("ONNX export: the network's forward uses " + what
                + ", which the exporter does not translate (it exports inference forwards of ResNet / DeepLab-v2 networks)");
    }

    private static UnsupportedOperationException training(String op) {
        return new UnsupportedOperationException("ONNX export traces inference only: the forward called " + op
                + " (a training op); put the network in eval mode (module().train(false))");
    }

    private void noValue(Tensor t, String op) {
        if (t != null && values.containsKey(owner(t))) throw unsupported(op + " on an activation");
    }

    private static long[] pads(ConvSpec s) { return new long[]{s.padH(), s.padW(), s.padH(), s.padW()}; }

    // ------------------------------------------------------------------ memory
    @Override public String name() { return "onnx-trace"; }

    @Override
    public Tensor empty(int... shape) {
        Tensor d = cpu.empty(shape);
        return new Tensor(this, d.storage(), d.dtype(), d.layout(), shape);
    }

    @Override
    public void upload(Tensor t, float[] src) {
        noValue(t, "a host upload");
        cpu.upload(t, src);
    }

    @Override public float[] download(Tensor t) { return cpu.download(t); }

    @Override
    public void fill(Tensor t, float value) {
        noValue(t, "a fill");
        cpu.fill(t, value);
    }

    @Override
    public void copy(Tensor src, long srcOff, Tensor dst, long dstOff, long n) {
        noValue(src, "an element-range copy (e.g. a spatial crop)");
        noValue(dst, "an element-range copy (e.g. a spatial crop)");
        cpu.copy(src, srcOff, dst, dstOff, n);
    }

    @Override
    public void copyChannels(Tensor src, int srcC0, Tensor dst, int dstC0, int count, boolean accumulate) {
        if (accumulate) throw training("copyChannels(accumulate)");
        String s = in(src);
        if (srcC0 != 0 || count != src.dim(1))
            s = temp("Slice", List.of(s, g.longs("slice_start", srcC0), g.longs("slice_end", srcC0 + count), g.longs("slice_axis", 1)));
        Value v = values.get(owner(dst));
        if (v == null) {
            register(dst, g.fresh("concat"), null);
            v = values.get(owner(dst));
            v.pieces = new ArrayList<>();
        } else if (v.pieces == null) {
            throw unsupported("a channel copy into an existing activation");
        }
        v.pieces.add(new String[]{Integer.toString(dstC0), Integer.toString(count), s});
    }

    // ------------------------------------------------------------------ elementwise
    @Override
    public void addScaled(Tensor a, float alpha, Tensor b, float beta, Tensor out) {
        String x = in(a), y = in(b);
        if (alpha == 1f && beta == 1f) emit("Add", List.of(x, y), out);
        else if (alpha == 1f && beta == -1f) emit("Sub", List.of(x, y), out);
        else {
            String sa = temp("Mul", List.of(x, g.floats("alpha", new long[0], new float[]{alpha})));
            String sb = temp("Mul", List.of(y, g.floats("beta", new long[0], new float[]{beta})));
            emit("Add", List.of(sa, sb), out);
        }
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        String x = in(a), y = in(b);
        emit("Mul", List.of(x, y), out);
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        String v = in(x);
        emit("Mul", List.of(v, g.floats("scale", new long[0], new float[]{s})), out);
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        String v = in(x);
        emit("Relu", List.of(v), y);
    }

    @Override
    public void sigmoid(Tensor x, Tensor y) {
        String v = in(x);
        emit("Sigmoid", List.of(v), y);
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        String v = in(x);
        emit("Softmax", List.of(v), y).attr("axis", 1L);
    }

    @Override
    public void addRelu(Tensor a, Tensor b, Tensor y) {
        String x = in(a), z = in(b);
        emit("Relu", List.of(temp("Add", List.of(x, z))), y);
    }

    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, Tensor y) {
        affine(x, scale, shift, y, false);
    }

    @Override
    public void channelAffineRelu(Tensor x, Tensor scale, Tensor shift, Tensor y) {
        affine(x, scale, shift, y, true);
    }

    /**
     * y = [relu](x * scale[c] + shift[c]): folded into the convolution that produced x when nothing else has read x yet
     * (frozen batch norm after a conv: W'[o] = W[o] * scale[o], b'[o] = b[o] * scale[o] + shift[o], in double), else
     * Mul and Add with [1, C, 1, 1] constants. The conv with the original weights is kept aside and put back if x is
     * read later, so folding never changes what the graph computes.
     */
    private void affine(Tensor x, Tensor scale, Tensor shift, Tensor y, boolean relu) {
        int c = x.dim(1);
        if (shapesOnly) {
            String out = temp("Mul", List.of(in(x), constant(scale)));
            if (relu) emit("Relu", List.of(out), y);
            else register(y, out, g.nodes.getLast());
            return;
        }
        float[] sc = scale.backend().download(scale), sh = shift == null ? null : shift.backend().download(shift);
        Value vx = values.get(owner(x));
        OnnxGraph.Node conv = vx == null ? null : vx.producer;
        String out;
        if (conv != null && conv.op.equals("Conv") && vx.pieces == null && vx.detached == null && Arrays.equals(vx.shape, x.shape())
                && g.readers(vx.name).isEmpty() && constantData(conv.inputs.get(1)) != null
                && (conv.inputs.size() < 3 || constantData(conv.inputs.get(2)) != null)) {
            OnnxGraph.Constant w = g.constants.get(conv.inputs.get(1));
            float[] wd = w.floats(), folded = new float[wd.length], bias = new float[c];
            int per = wd.length / c;
            float[] b0 = conv.inputs.size() < 3 ? null : constantData(conv.inputs.get(2));
            for (int o = 0; o < c; o++) {
                for (int i = 0; i < per; i++) folded[o * per + i] = (float) ((double) wd[o * per + i] * sc[o]);
                bias[o] = (float) ((b0 == null ? 0.0 : (double) b0[o] * sc[o]) + (sh == null ? 0.0 : sh[o]));
            }
            String wn = g.floats(w.name() + "+bn", w.dims(), folded), bn = g.floats(w.name() + "+bn.bias", new long[]{c}, bias);
            OnnxGraph.Node fc = new OnnxGraph.Node("Conv", List.of(conv.inputs.getFirst(), wn, bn), List.of(g.fresh("conv_bn")));
            fc.attrs.putAll(conv.attrs);
            g.nodes.remove(conv);
            vx.detached = conv;
            g.nodes.add(fc);
            out = fc.outputs.getFirst();
        } else {
            String v = in(x);
            long[] dims = new long[x.rank()];
            Arrays.fill(dims, 1);
            dims[1] = c;
            out = temp("Mul", List.of(v, g.floats("bn_scale", dims, sc)));
            if (sh != null) out = temp("Add", List.of(out, g.floats("bn_shift", dims, sh)));
        }
        if (relu) emit("Relu", List.of(out), y);
        else register(y, out, g.nodes.getLast());
    }

    // ------------------------------------------------------------------ linear algebra, convolution, pooling, resize
    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        String x = in(a), w = in(b), bias = null;
        if (beta != 0f) {
            if (values.containsKey(owner(c)) || shapesOnly) bias = in(c);
            else { // a constant C, e.g. a linear layer's bias copied into every row: one row broadcasts over any batch
                float[] d = c.backend().download(c);
                int m = c.dim(1);
                boolean rows = true;
                for (int i = m; i < d.length && rows; i++) rows = d[i] == d[i % m];
                bias = rows ? g.floats(c.name != null ? c.name : "gemm_c", new long[]{m}, Arrays.copyOf(d, m)) : constant(c);
            }
        }
        List<String> ins = bias == null ? List.of(x, w) : List.of(x, w, bias);
        emit("Gemm", ins, c).attr("alpha", alpha).attr("beta", beta).attr("transA", transA ? 1L : 0L).attr("transB", transB ? 1L : 0L);
    }

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, ConvSpec s, Tensor y) {
        String v = in(x), wn = in(w), bn = bias == null ? null : in(bias);
        emit("Conv", bn == null ? List.of(v, wn) : List.of(v, wn, bn), y)
                .attr("kernel_shape", new long[]{s.kh(), s.kw()}).attr("strides", new long[]{s.strideH(), s.strideW()})
                .attr("pads", pads(s)).attr("dilations", new long[]{s.dilH(), s.dilW()}).attr("group", 1L);
    }

    @Override
    public void maxPool2d(Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        String v = in(x);
        emit("MaxPool", List.of(v), y).attr("kernel_shape", new long[]{s.kh(), s.kw()}).attr("strides", new long[]{s.strideH(), s.strideW()})
                .attr("pads", pads(s)).attr("dilations", new long[]{s.dilH(), s.dilW()}).attr("ceil_mode", ceil ? 1L : 0L);
    }

    @Override
    public void avgPool2d(Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        String v = in(x);
        if (s.kh() == x.dim(2) && s.kw() == x.dim(3) && s.padH() == 0 && s.padW() == 0) { // F.globalAvgPool: any input size
            emit("GlobalAveragePool", List.of(v), y);
            return;
        }
        if (s.dilH() != 1 || s.dilW() != 1) throw unsupported("a dilated average pool");
        emit("AveragePool", List.of(v), y).attr("kernel_shape", new long[]{s.kh(), s.kw()}).attr("strides", new long[]{s.strideH(), s.strideW()})
                .attr("pads", pads(s)).attr("ceil_mode", ceil ? 1L : 0L).attr("count_include_pad", 1L);
    }

    /**
     * Resize (linear; align_corners or half_pixel: conta's source coordinate (o + 0.5) * in / out - 0.5, clamped at 0,
     * is ONNX half_pixel, whose linear mode clamps too; pytorch_half_pixel would differ for outputs of length 1). The
     * target size is computed in the graph; see the class comment for how its rule is chosen.
     */
    @Override
    public void resizeBilinear(Tensor x, boolean alignCorners, Tensor y) {
        String v = in(x);
        int call = resizes.size();
        resizes.add(new int[][]{x.shape(), y.shape()});
        String sizes = targetSize(call, v, x, y);
        emit("Resize", List.of(v, "", "", sizes), y).attr("mode", "linear")
                .attr("coordinate_transformation_mode", alignCorners ? "align_corners" : "half_pixel");
    }

    private String targetSize(int call, String v, Tensor x, Tensor y) {
        int h = y.dim(2), w = y.dim(3);
        String nc = temp("Slice", List.of(shape(v), g.longs("nc_start", 0), g.longs("nc_end", 2), g.longs("nc_axis", 0)));
        for (double p : scaleHints) {
            if (!scaled(x.shape(), y.shape(), p)) continue;
            boolean all = true;
            for (Tracer o : others) all &= o.resizes.size() > call && scaled(o.resizes.get(call)[0], o.resizes.get(call)[1], p);
            if (!all) continue;
            // floor(in * p) in double, as the model's (int) Math.floor(x.dim(2) * p)
            String hw = temp("Slice", List.of(shape(v), g.longs("hw_start", 2), g.longs("hw_end", 4), g.longs("hw_axis", 0)));
            String d = temp("Cast", List.of(hw));
            g.nodes.getLast().attr("to", (long) OnnxWriter.DOUBLE);
            String f = temp("Floor", List.of(temp("Mul", List.of(d, g.doubles("resize_factor", p)))));
            String i = temp("Cast", List.of(f));
            g.nodes.getLast().attr("to", (long) OnnxWriter.INT64);
            return concat0(nc, i);
        }
        // the latest earlier value with the target's spatial size in every trace
        Value best = null;
        for (Value c : values.values()) {
            if (c.name.equals(v) || c.shape.length != 4 || c.shape[2] != h || c.shape[3] != w || c.pieces != null) continue;
            boolean all = true;
            for (Tracer o : others) {
                int[] t = o.resizes.size() > call ? o.resizes.get(call)[1] : null;
                int[] s = o.produced.size() > c.seq ? o.produced.get(c.seq) : null;
                all &= t != null && s != null && s.length == 4 && s[2] == t[2] && s[3] == t[3];
            }
            if (all && (best == null || c.seq > best.seq)) best = c;
        }
        String hw;
        if (best != null) {
            materialize(best);
            hw = temp("Slice", List.of(shape(best.name), g.longs("hw_start", 2), g.longs("hw_end", 4), g.longs("hw_axis", 0)));
        } else {
            notes.add("resize " + call + " to " + h + "x" + w + " has a fixed target size (no rule matched at every traced input size)");
            hw = g.longs("resize_size", h, w);
        }
        return concat0(nc, hw);
    }

    private String concat0(String a, String b) {
        String out = temp("Concat", List.of(a, b));
        g.nodes.getLast().attr("axis", 0L);
        return out;
    }

    private static boolean scaled(int[] in, int[] out, double p) {
        return (int) Math.floor(in[2] * p) == out[2] && (int) Math.floor(in[3] * p) == out[3];
    }

    private String shape(String value) {
        return shapeOf.computeIfAbsent(value, k -> temp("Shape", List.of(k)));
    }

    // ------------------------------------------------------------------ not part of an inference forward
    @Override public void reluBackward(Tensor y, Tensor dy, Tensor dx) { throw training("reluBackward"); }

    @Override public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) { throw training("softmaxBackward"); }

    @Override public void channelSum(Tensor x, Tensor out, boolean accumulate) { throw training("channelSum"); }

    /** Frozen BN's scale/shift from its parameters: computed now on the CPU, so they are constants of the graph. */
    @Override
    public void batchNormFold(Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor scale, Tensor shift, Tensor invStd) {
        cpu.batchNormFold(gamma, beta, mean, var, eps, scale, shift, invStd);
    }

    @Override
    public void batchNormFoldGammaGrad(Tensor invStd, Tensor mean, Tensor sumG, Tensor sumGX, Tensor dgamma) { throw training("batchNormFoldGammaGrad"); }

    @Override
    public void copyWindow(Tensor src, int srcTop, int srcLeft, Tensor dst, int dstTop, int dstLeft, int h, int w, boolean accumulate) {
        throw new UnsupportedOperationException("ONNX export: a spatial crop/pad (copyWindow) inside the forward is not exportable");
    }

    @Override public void channelDot(Tensor a, Tensor b, Tensor out, boolean accumulate) { throw training("channelDot"); }

    @Override
    public double sum(Tensor x) {
        noValue(x, "a sum read back to Java");
        return cpu.sum(x);
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dx, Tensor dw, Tensor db) { throw training("conv2dBackward"); }

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps,
                               Tensor y, Tensor saveMean, Tensor saveInvStd) { throw training("batchNormTrain"); }

    @Override
    public void batchNormBackward(Tensor x, Tensor gamma, Tensor dy, Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                                  Tensor dbeta) { throw training("batchNormBackward"); }

    @Override
    public void maxPool2dBackward(Tensor x, ConvSpec s, boolean ceil, Tensor dy, Tensor dx) { throw training("maxPool2dBackward"); }

    @Override public void avgPool2dBackward(ConvSpec s, boolean ceil, Tensor dy, Tensor dx) { throw training("avgPool2dBackward"); }

    @Override public void resizeBilinearBackward(Tensor dy, boolean alignCorners, Tensor dx) { throw training("resizeBilinearBackward"); }

    @Override
    public float multilabelSoftMarginLoss(Tensor logits, Tensor targets, Tensor dlogits, float gradScale) { throw training("a loss"); }

    @Override public float bceWithLogitsLoss(Tensor logits, Tensor targets, Tensor dlogits, float gradScale) { throw training("a loss"); }

    @Override
    public float crossEntropyLoss(Tensor logits, Tensor labels, Tensor classWeights, int ignoreIndex, Tensor dlogits, float gradScale) {
        throw training("a loss");
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuf, float lr, float momentum, float weightDecay, boolean firstStep) {
        throw training("sgdStep");
    }
}
