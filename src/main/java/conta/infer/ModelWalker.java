package conta.infer;

import conta.models.DeepLabV2;
import conta.models.Network;
import conta.models.ResNet;
import conta.nn.BatchNorm2d;
import conta.nn.Conv2d;
import conta.nn.Linear;
import conta.nn.Module;
import conta.tensor.LayerGraph;
import conta.tensor.LayerGraph.Value;
import java.util.Map;

/**
 * Emits a model's eval forward into a {@link LayerGraph}, reading the layers from the model's own module tree (the
 * same Conv2d / BatchNorm2d / Linear objects and child names the training graph runs: conv1, bn1, layer1..4 of
 * blocks with conv1..3 / bn1..3 / downsample.{0,1}, fc or classifier, DeepLab's aspp.c0..c3), so the plan has no
 * description of the architectures of its own. What it does repeat is the dataflow of a block, a stem and the heads as
 * written in Block.forward, ResNet.stem/head and DeepLabV2.trainOutputs: InferencePlanTest compares every architecture
 * with those forwards.
 */
final class ModelWalker {
    private final LayerGraph g;

    ModelWalker(LayerGraph g) { this.g = g; }

    Value network(Network model, Value x) {
        Module m = model.module();
        if (m instanceof DeepLabV2 d) return deeplab(d, x);
        if (m instanceof ResNet r) return head(r, features(r, x));
        throw new IllegalArgumentException("no inference plan for " + m.getClass().getSimpleName() + " (ResNet and DeepLabV2 are planned)");
    }

    /**
     * The class activation maps of a CAM classifier: relu(classifier(features)) at feature resolution, N x classes x
     * h x w, as WsssOps.cam computes them from ResNet.features and camWeight (no bias: IRNet's classifier has none).
     * ctx: CONTA's context map (null without), joined as in {@link #features} and, at block 5, read by the classifier.
     */
    Value cam(ResNet r, Value x, Value ctx) {
        Conv2d cls = (Conv2d) r.children().get("classifier");
        if (cls == null) throw new IllegalArgumentException("no CAM plan for a ResNet without the CAM classifier (head " + r.config.head() + ")");
        if (cls.bias != null) throw new IllegalArgumentException("no CAM plan for a classifier with a bias (CAMs use the weight only)");
        Value f = features(r, x, ctx);
        int classes = cls.weight.dim(0), in = cls.weight.dim(1), k = r.config.contextAt(5) ? r.config.contextChannels() : 0;
        float[] w = cls.weight.toArray();
        conta.tensor.ConvSpec one = conta.tensor.ConvSpec.of(1, 1, 0, 1);
        int[] ws = {classes, in, 1, 1};
        return k == 0 ? g.conv(f, w, ws, null, one, null, true) : contextConv(f, onGridOf(ctx, f), k, w, ws, null, one, true);
    }

    /** ResNet.features without context: stem, then every block of layer1..layer4. */
    Value features(ResNet r, Value x) { return features(r, x, null); }

    /**
     * ResNet.features: stem, then every block of layer1..layer4; where CONTA's context joins after layer s-1
     * (contextAt(s), s in 2..4) the first block of layer s also reads ctx, resized to its input's grid.
     */
    Value features(ResNet r, Value x, Value ctx) {
        if (r.config.contextChannels() > 0 && ctx == null)
            throw new IllegalArgumentException("no inference plan for a network with CONTA's context input (" + r.config.contextChannels()
                    + " channels) without its context map: compile the CAM plan with the context's shape, or run its forward");
        if (r.config.contextChannels() == 0 && ctx != null) throw new IllegalArgumentException("a network without context input takes no context map");
        Map<String, Module> ch = r.children();
        Value y = convBn(x, null, (Conv2d) ch.get("conv1"), (BatchNorm2d) ch.get("bn1"), null, true);
        y = g.maxPool(y, ResNet.STEM_POOL, r.config.poolCeil());
        for (int s = 1; s <= 4; s++) {
            Value m = s >= 2 && r.config.contextAt(s) ? onGridOf(ctx, y) : null;
            for (Module blk : ch.get("layer" + s).children().values()) {
                y = block(blk, y, m);
                m = null; // only the stage's first block reads [x, M]
            }
        }
        return y;
    }

    /**
     * Marks as the graph's outputs, in this order, the stem's output (after max pooling) and each stage's, as
     * BoundaryNet reads them (no context). Each is marked as soon as it is made: its copy out is taken before a later
     * block may sum its shortcut into that buffer in place (a basic block without downsample does).
     */
    void stages(ResNet r, Value x) {
        if (r.config.contextChannels() > 0) throw new IllegalArgumentException("no stage plan for a network with CONTA's context input");
        Map<String, Module> ch = r.children();
        Value y = convBn(x, null, (Conv2d) ch.get("conv1"), (BatchNorm2d) ch.get("bn1"), null, true);
        g.output(y = g.maxPool(y, ResNet.STEM_POOL, r.config.poolCeil()));
        for (int s = 1; s <= 4; s++) {
            for (Module blk : ch.get("layer" + s).children().values()) y = block(blk, y, null);
            g.output(y);
        }
    }

    /** The context map resized bilinearly to x's grid, as ResNet's join does (kept as it is when the grids agree). */
    private Value onGridOf(Value ctx, Value x) {
        int[] c = ctx.shape(), s = x.shape();
        return c[2] == s[2] && c[3] == s[3] ? ctx : g.resizeBilinear(ctx, s[2], s[3]);
    }

    /**
     * Block.forward: relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut), basic blocks without conv3.
     * m: the context map on x's grid for the first block of a stage where M joins (conv1 and the downsample conv read
     * [x, m]; an identity shortcut keeps x alone), else null.
     *
     * <p>A bottleneck's downsample conv runs right before conv3, which sums its output in place, not before conv2:
     * the shortcut is then fresh in cache when the sum reads it. Session 30, alternating runs: the CAM network @448
     * 107.0 / 107.0 against 108.3 / 109.5 ms (its first block's conv3 1.40-1.44 against 1.83-1.89 ms, the downsample
     * itself 1.16-1.21 against 1.53-1.57), ResNet-50 @224 19.9-20.0 against 20.2-20.4 ms, DeepLab-v2 @321 level.
     */
    private Value block(Module b, Value x, Value m) {
        Map<String, Module> c = b.children();
        Value y = convBn(x, m, (Conv2d) c.get("conv1"), (BatchNorm2d) c.get("bn1"), null, true);
        Module down = c.get("downsample");
        if (c.containsKey("conv3")) {
            y = convBn(y, null, (Conv2d) c.get("conv2"), (BatchNorm2d) c.get("bn2"), null, true);
            return convBn(y, null, (Conv2d) c.get("conv3"), (BatchNorm2d) c.get("bn3"), shortcut(x, m, down), true);
        }
        return convBn(y, null, (Conv2d) c.get("conv2"), (BatchNorm2d) c.get("bn2"), shortcut(x, m, down), true);
    }

    /** The block's shortcut: x itself, or its downsample conv + BN (reading [x, m] where the context map joins). */
    private Value shortcut(Value x, Value m, Module down) {
        return down == null ? x
                : convBn(x, m, (Conv2d) down.children().get("0"), (BatchNorm2d) down.children().get("1"), null, false);
    }

    /** ResNet.head: global average pool then fc (with bias) or the bias-free CAM classifier; NONE: the features. */
    private Value head(ResNet r, Value feats) {
        return switch (r.config.head()) {
            case NONE -> feats;
            case FC -> {
                Linear fc = (Linear) r.children().get("fc");
                yield g.linear(g.globalAvgPool(feats), fc.weight.toArray(), fc.weight.dim(0), fc.bias == null ? null : fc.bias.toArray());
            }
            case CAM -> {
                Conv2d cls = (Conv2d) r.children().get("classifier");
                yield g.linear(g.globalAvgPool(feats), cls.weight.toArray(), cls.outChannels(), cls.bias == null ? null : cls.bias.toArray());
            }
        };
    }

    /** DeepLabV2.forward: base at scale 1, then each extra scale's base resized back and max-fused. */
    private Value deeplab(DeepLabV2 d, Value x) {
        Value logits = base(d, x);
        int[] xs = x.shape(), ls = logits.shape();
        Value max = logits;
        for (double p : d.scales()) {
            Value l = base(d, g.resizeBilinear(x, DeepLabV2.scaledSize(xs[2], p), DeepLabV2.scaledSize(xs[3], p)));
            max = g.max(max, g.resizeBilinear(l, ls[2], ls[3]));
        }
        return max;
    }

    /** DeepLabV2.base: backbone features, the ASPP convs summed (each later conv adds onto the running sum in place). */
    private Value base(DeepLabV2 d, Value x) {
        Value f = features(d.backbone, x, null);
        Value y = null;
        for (Module m : d.children().get("aspp").children().values()) {
            Conv2d c = (Conv2d) m;
            y = g.conv(f, c.weight.toArray(), c.weight.shape(), c.bias == null ? null : c.bias.toArray(), c.spec, y, false);
        }
        return y;
    }

    /**
     * relu?(bn(conv(x)) [+ addInto]) as one convolution: bn's running statistics folded into the weights and bias, in
     * double, w' = w * s and b' = beta + (b - mean) * s with s = gamma / sqrt(var + eps). A conv with context inputs
     * (m: the context map on x's grid) is two: m through the weight's context channels, summed into x's convolution
     * (the concatenated input's sum, split by input channels; the folded bias once).
     */
    private Value convBn(Value x, Value m, Conv2d conv, BatchNorm2d bn, Value addInto, boolean relu) {
        if ((conv.contextIn > 0) != (m != null))
            throw new IllegalArgumentException(conv.contextIn > 0 ? "no inference plan for a conv with context input channels without the context map"
                    : "context map given to a conv without context inputs");
        float[] w = conv.weight.toArray(), gamma = bn.weight.toArray(), beta = bn.bias.toArray();
        float[] mean = bn.runningMean.toArray(), var = bn.runningVar.toArray();
        float[] b = conv.bias == null ? null : conv.bias.toArray();
        int out = conv.outChannels(), per = w.length / out;
        float[] fw = new float[w.length], fb = new float[out];
        for (int o = 0; o < out; o++) {
            double s = gamma[o] / Math.sqrt((double) var[o] + bn.eps);
            for (int i = 0; i < per; i++) fw[o * per + i] = (float) (w[o * per + i] * s);
            fb[o] = (float) (beta[o] + ((b == null ? 0 : b[o]) - (double) mean[o]) * s);
        }
        int[] ws = conv.weight.shape();
        if (m == null) return g.conv(x, fw, ws, fb, conv.spec, addInto, relu);
        if (addInto != null) throw new IllegalArgumentException("a context conv takes no residual sum");
        return contextConv(x, m, conv.contextIn, fw, ws, fb, conv.spec, relu);
    }

    /**
     * relu?(conv([x, m], w) + bias) for weights w [out, in, kh, kw] whose last k input channels read m, without the
     * concatenation: m through those channels first, then x through the rest with the bias, summing the first in.
     */
    private Value contextConv(Value x, Value m, int k, float[] w, int[] ws, float[] bias, conta.tensor.ConvSpec spec, boolean relu) {
        int out = ws[0], cin = ws[1] - k, taps = ws[2] * ws[3];
        Value mv = g.conv(m, inputChannels(w, out, ws[1], cin, k, taps), new int[]{out, k, ws[2], ws[3]}, null, spec, null, false);
        return g.conv(x, inputChannels(w, out, ws[1], 0, cin, taps), new int[]{out, cin, ws[2], ws[3]}, bias, spec, mv, relu);
    }

    /** Input channels [from, from + n) of weights [out, in, taps] (row-major), as [out, n, taps]. */
    private static float[] inputChannels(float[] w, int out, int in, int from, int n, int taps) {
        float[] r = new float[out * n * taps];
        for (int o = 0; o < out; o++) System.arraycopy(w, (o * in + from) * taps, r, o * n * taps, n * taps);
        return r;
    }
}
