package conta.wsss;

import conta.error.UserError;
import conta.models.DeepLabV2;
import conta.models.ResNet;
import conta.models.ResNetConfig;
import conta.nn.Conv2d;
import conta.nn.Init;
import conta.nn.Module;
import conta.tensor.Backend;
import conta.wsss.irn.BoundaryNet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The architecture of one network the pipeline trains, with every size, stride and dilation: the one description
 * both the pipeline (to build what it trains) and a model bundle (to rebuild what was trained) use, so the two cannot
 * drift apart. {@link #build} gives the initialisation the pipeline trains from (a bundle overwrites it with weights).
 *
 * @param kind     classifier (CAM ResNet), boundary (IRNet's class-boundary branch) or deeplabv2
 * @param backbone the ResNet (for a classifier: with its CAM head and classes)
 * @param classes  outputs: object classes for a classifier, classes + background for DeepLab, 1 for the boundary branch
 * @param msc      DeepLab's extra input scales fused by max (empty for the others)
 * @param radius   the boundary branch's training pair radius (0 for the others)
 */
public record ModelSpec(Kind kind, ResNetConfig backbone, int classes, double[] msc, int radius) {
    public enum Kind {
        CLASSIFIER("classifier"), BOUNDARY("boundary"), DEEPLAB("deeplabv2");
        public final String id;

        Kind(String id) { this.id = id; }

        static Kind of(String s) {
            for (Kind k : values()) if (k.id.equals(s)) return k;
            throw new IllegalArgumentException("unknown model kind '" + s + "' (classifier, boundary or deeplabv2)");
        }
    }

    public ModelSpec {
        msc = msc == null ? new double[0] : msc.clone();
    }

    public static ModelSpec classifier(ResNetConfig rc) { return new ModelSpec(Kind.CLASSIFIER, rc, rc.classes(), null, 0); }

    public static ModelSpec boundary(ResNetConfig rc, int radius) { return new ModelSpec(Kind.BOUNDARY, rc, 1, null, radius); }

    public static ModelSpec deeplab(ResNetConfig backbone, int classesWithBg, double[] msc) {
        return new ModelSpec(Kind.DEEPLAB, backbone, classesWithBg, msc, 0);
    }

    /**
     * The network with the pipeline's initial weights for seed (torchvision init; DeepLab's ASPP N(0, 0.01) as
     * deeplab-pytorch; the boundary head as IRNet), every parameter named.
     */
    public Module build(Backend b, long seed) {
        return switch (kind) {
            case CLASSIFIER -> {
                ResNet net = new ResNet(b, backbone);
                Init.torchvision(net, seed);
                net.visit("", (n, t, p) -> t.name = n);
                yield net;
            }
            case BOUNDARY -> new BoundaryNet(b, backbone, radius, seed);
            case DEEPLAB -> {
                DeepLabV2 m = new DeepLabV2(b, backbone, classes, msc);
                Init.torchvision(m, seed);
                SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
                for (var e : m.children().get("aspp").children().values()) Init.normal(((Conv2d) e).weight, 0.01, r);
                m.visit("", (n, t, p) -> t.name = n);
                yield m;
            }
        };
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind.id);
        m.put("classes", classes);
        if (kind == Kind.DEEPLAB) m.put("msc_scales", list(msc));
        if (kind == Kind.BOUNDARY) m.put("pair_radius", radius);
        ResNetConfig c = backbone;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("block", c.bottleneck() ? "bottleneck" : "basic");
        r.put("blocks", list(c.blocks()));
        r.put("width", c.width());
        r.put("strides", list(c.strides()));
        r.put("dilations", list(c.dilations()));
        r.put("stride_on_1x1", c.strideOn1x1());
        r.put("conv_bias", c.convBias());
        r.put("bn_eps", Double.parseDouble(Float.toString(c.bnEps()))); // 1e-05 as written, not the float's double 9.99999974e-06
        r.put("frozen_bn", c.frozenBn());
        r.put("pool_ceil", c.poolCeil());
        r.put("head", c.head().name().toLowerCase(java.util.Locale.ROOT));
        r.put("head_classes", c.classes());
        r.put("context_channels", c.contextChannels());
        r.put("context_blocks", list(c.contextBlocks()));
        r.put("output_stride", c.outputStride());
        m.put("backbone", r);
        return m;
    }

    /** The spec a bundle describes; a missing or malformed field is a UserError naming it and the file. */
    @SuppressWarnings("unchecked")
    public static ModelSpec fromJson(Map<String, Object> m, String where) {
        try {
            Map<String, Object> r = (Map<String, Object>) need(m, "backbone", where);
            ResNetConfig c = new ResNetConfig(str(r, "block", where).equals("bottleneck"), ints(r, "blocks", where), num(r, "width", where).intValue(),
                    ints(r, "strides", where), ints(r, "dilations", where), bool(r, "stride_on_1x1", where), bool(r, "conv_bias", where),
                    num(r, "bn_eps", where).floatValue(), bool(r, "frozen_bn", where), bool(r, "pool_ceil", where),
                    ResNetConfig.Head.valueOf(str(r, "head", where).toUpperCase(java.util.Locale.ROOT)), num(r, "head_classes", where).intValue(),
                    num(r, "context_channels", where).intValue(), ints(r, "context_blocks", where));
            Kind k = Kind.of(str(m, "kind", where));
            double[] msc = k == Kind.DEEPLAB ? doubles(m, "msc_scales", where) : null;
            int radius = k == Kind.BOUNDARY ? num(m, "pair_radius", where).intValue() : 0;
            int classes = num(m, "classes", where).intValue();
            checkSizes(c, classes, where);
            return new ModelSpec(k, c, classes, msc, radius);
        } catch (ClassCastException | IllegalArgumentException e) {
            throw new UserError(where + ": malformed model description (" + e.getMessage() + ")");
        }
    }

    /** The largest sizes a description may give: far above any real network, low enough that building one fits in memory. */
    public static final int MAX_WIDTH = 1024, MAX_BLOCKS = 256, MAX_CLASSES = 100_000; // as config cls.width, *.blocks

    /** Refuses a description whose network could not be built (a foreign or damaged file) before anything is allocated. */
    private static void checkSizes(ResNetConfig c, int classes, String where) {
        String bad = c.width() < 1 || c.width() > MAX_WIDTH ? "width " + c.width() + " (1.." + MAX_WIDTH + ")"
                : classes < 1 || classes > MAX_CLASSES ? "classes " + classes + " (1.." + MAX_CLASSES + ")"
                : java.util.Arrays.stream(c.blocks()).anyMatch(n -> n < 1 || n > MAX_BLOCKS)
                        ? "blocks " + java.util.Arrays.toString(c.blocks()) + " (1.." + MAX_BLOCKS + " a stage)" : null;
        if (bad != null) throw new UserError(where + ": the model description's " + bad + " is out of range; it is not a bundle conta wrote (export it again)");
    }

    static Object need(Map<String, Object> m, String k, String where) {
        Object v = m.get(k);
        if (v == null) throw new UserError(where + ": the model description lacks '" + k + "'");
        return v;
    }

    static String str(Map<String, Object> m, String k, String where) { return String.valueOf(need(m, k, where)); }

    static Number num(Map<String, Object> m, String k, String where) { return (Number) need(m, k, where); }

    static boolean bool(Map<String, Object> m, String k, String where) { return (Boolean) need(m, k, where); }

    static int[] ints(Map<String, Object> m, String k, String where) {
        return ((List<?>) need(m, k, where)).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }

    static double[] doubles(Map<String, Object> m, String k, String where) {
        return ((List<?>) need(m, k, where)).stream().mapToDouble(o -> ((Number) o).doubleValue()).toArray();
    }

    static List<Object> list(int[] v) {
        List<Object> l = new ArrayList<>();
        for (int x : v) l.add(x);
        return l;
    }

    static List<Object> list(double[] v) {
        List<Object> l = new ArrayList<>();
        for (double x : v) l.add(x);
        return l;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec s && s.kind == kind && s.classes == classes && s.radius == radius && Arrays.equals(s.msc, msc)
                && s.backbone.toString().equals(backbone.toString()) && s.backbone.convBias() == backbone.convBias()
                && s.backbone.bnEps() == backbone.bnEps() && s.backbone.poolCeil() == backbone.poolCeil();
    }

    @Override
    public int hashCode() { return kind.hashCode() * 31 + classes; }
}
