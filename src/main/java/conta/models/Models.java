package conta.models;

import conta.nn.Conv2d;
import conta.nn.Init;
import conta.tensor.Backend;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Named architectures and the options that resize them (small widths/depths for CPU tests). */
public final class Models {
    private Models() { }

    public static final List<String> ARCHS = List.of("resnet18", "resnet34", "resnet50", "resnet101", "resnet50-os16",
            "resnet50-caffe", "deeplabv2-resnet101");

    /** Overrides of a named architecture; null fields keep the architecture's value. */
    public record Options(Integer width, int[] blocks, Integer classes, int[] strides, int[] dilations, double[] scales, Long seed) {
        public static Options none() { return new Options(null, null, null, null, null, null, null); }
    }

    /** The ResNet configuration of a named classifier architecture, before options. */
    public static ResNetConfig resnetConfig(String arch) {
        return switch (arch) {
            case "resnet18" -> ResNetConfig.torchvision(false, 2, 2, 2, 2);
            case "resnet34" -> ResNetConfig.torchvision(false, 3, 4, 6, 3);
            case "resnet50" -> ResNetConfig.torchvision(true, 3, 4, 6, 3);
            case "resnet101" -> ResNetConfig.torchvision(true, 3, 4, 23, 3);
            case "resnet50-os16" -> ResNetConfig.torchvision(true, 3, 4, 6, 3).withStrides(new int[]{1, 2, 2, 1})
                    .withFrozenBn(true).withHead(ResNetConfig.Head.CAM, 20);
            case "resnet50-caffe" -> ResNetConfig.torchvision(true, 3, 4, 6, 3).withMsra(true, true, 1e-3f);
            default -> throw new IllegalArgumentException("unknown architecture '" + arch + "' (known: " + String.join(", ", ARCHS) + ")");
        };
    }

    /** The ResNet configuration of a named classifier architecture, or null for the segmentation ones. */
    public static ResNetConfig resnetConfigOrNull(String arch) {
        return arch.startsWith("deeplab") ? null : resnetConfig(arch);
    }

    public static Network build(String arch, Options o, Backend b) {
        long seed = o.seed() == null ? 0 : o.seed();
        if (arch.equals("deeplabv2-resnet101")) {
            ResNetConfig c = DeepLabV2.backboneConfig(64, new int[]{3, 4, 23, 3});
            c = apply(c, o);
            double[] scales = o.scales() == null ? new double[]{0.5, 0.75} : o.scales();
            return deepLab(c, o.classes() == null ? 21 : o.classes(), scales, seed, b);
        }
        ResNetConfig c = apply(resnetConfig(arch), o);
        if (o.classes() != null) c = c.withHead(c.head(), o.classes());
        ResNet m = new ResNet(b, c);
        Init.torchvision(m, seed);
        nameParameters(m);
        return m;
    }

    /**
     * The one DeepLab-v2 builder: the backbone as configured, ASPP rates 6/12/18/24, weights initialised as
     * deeplab-pytorch (torchvision's init, ASPP N(0, 0.01) with zero bias) from the seed, parameters named.
     */
    public static DeepLabV2 deepLab(ResNetConfig backbone, int classes, double[] scales, long seed, Backend b) {
        DeepLabV2 m = new DeepLabV2(b, backbone, classes, scales);
        Init.torchvision(m, seed);
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (var e : m.children().get("aspp").children().values()) { // deeplab-pytorch: N(0, 0.01), bias 0
            Conv2d c2 = (Conv2d) e;
            Init.normal(c2.weight, 0.01, r);
        }
        nameParameters(m);
        return m;
    }

    /** Gives every parameter and buffer its full internal name (optimizer state and error messages use it). */
    static void nameParameters(conta.nn.Module m) { m.visit("", (n, t, p) -> t.name = n); }

    private static ResNetConfig apply(ResNetConfig c, Options o) {
        if (o.width() != null) c = c.withWidth(o.width());
        if (o.blocks() != null) c = c.withBlocks(check("blocks", o.blocks()));
        if (o.strides() != null) c = c.withStrides(check("strides", o.strides()));
        if (o.dilations() != null) c = c.withDilations(check("dilations", o.dilations()));
        return c;
    }

    private static int[] check(String what, int[] v) {
        if (v.length != 4) throw new IllegalArgumentException("--" + what + " needs 4 values (one per stage), got " + Arrays.toString(v));
        for (int x : v) if (x < 1 && !what.equals("blocks")) throw new IllegalArgumentException("--" + what + " values must be >= 1: " + Arrays.toString(v));
        return v;
    }
}
