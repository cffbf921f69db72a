package conta.models;

import conta.autograd.F;
import conta.nn.Container;
import conta.nn.Conv2d;
import conta.nn.Module;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * DeepLab-v2: a ResNet backbone at output stride 8 (stages strided 1,2,1,1 and dilated 1,1,2,4, MSRA blocks, frozen
 * BN), ASPP of four 3x3 convs with rates 6/12/18/24 summed, and multi-scale inputs (1 plus 0.5 and 0.75 by default)
 * fused by an elementwise max. Exported under kazuto1011/deeplab-pytorch names (layer1.conv1.conv.weight,
 * layer2.block1.reduce.conv.weight, aspp.c0.weight, ...).
 */
public final class DeepLabV2 extends Module implements Network {
    public static final int[] RATES = {6, 12, 18, 24};
    public final ResNet backbone;
    private final List<Conv2d> aspp = new ArrayList<>();
    private final double[] scales;

    public DeepLabV2(Backend b, ResNetConfig backboneConfig, int classes, double[] scales) {
        super(b);
        this.backbone = child("backbone", new ResNet(b, backboneConfig.withHead(ResNetConfig.Head.NONE, 0)));
        Container a = child("aspp", new Container(b));
        for (int i = 0; i < RATES.length; i++)
            aspp.add(a.add("c" + i, new Conv2d(b, backboneConfig.featureChannels(), classes, 3, 1, RATES[i], RATES[i], true)));
        this.scales = scales.clone();
    }

    public static ResNetConfig backboneConfig(int width, int[] blocks) {
        return new ResNetConfig(true, blocks, width, new int[]{1, 2, 1, 1}, new int[]{1, 1, 2, 4},
                true, false, 1e-5f, true, true, ResNetConfig.Head.NONE, 0, 0);
    }

    public int classes() { return aspp.getFirst().outChannels(); }

    /** The extra input scales of multi-scale inference (empty: single scale). */
    public double[] scales() { return scales.clone(); }

    /** The side of an input scaled by p (deeplab-pytorch's int(H * p)). */
    public static int scaledSize(int size, double p) { return (int) Math.floor(size * p); }

    /** Single-scale score map. */
    public Tensor base(Tensor x) {
        Tensor f = backbone.features(x);
        Tensor y = aspp.getFirst().forward(f);
        for (int i = 1; i < aspp.size(); i++) y = F.add(y, aspp.get(i).forward(f));
        return y;
    }

    /** [logits at scale 1, logits of each extra scale (own size), max over all resized to scale 1]. */
    @Override
    public List<Tensor> trainOutputs(Tensor x) {
        Tensor logits = base(x);
        List<Tensor> out = new ArrayList<>();
        out.add(logits);
        if (scales.length == 0) return out;
        Tensor max = logits;
        for (double p : scales) {
            int h = scaledSize(x.dim(2), p), w = scaledSize(x.dim(3), p);
            Tensor l = base(F.resizeBilinear(x, h, w, false));
            out.add(l);
            max = Fusion.max(max, F.resizeBilinear(l, logits.dim(2), logits.dim(3), false));
        }
        out.add(max);
        return out;
    }

    /** Multi-scale max-fused score map (the last of {@link #trainOutputs}). */
    @Override
    public Tensor forward(Tensor x) { return trainOutputs(x).getLast(); }

    // ---- kazuto1011/deeplab-pytorch naming ----
    private static final String[] PART = {"reduce", "conv3x3", "increase"};
    private static final Pattern BLOCK = Pattern.compile("backbone\\.layer(\\d)\\.(\\d+)\\.(conv|bn)(\\d)\\.(.+)");
    private static final Pattern DOWN = Pattern.compile("backbone\\.layer(\\d)\\.(\\d+)\\.downsample\\.(\\d)\\.(.+)");
    private static final Pattern EXT_BLOCK = Pattern.compile("layer(\\d)\\.block(\\d+)\\.(reduce|conv3x3|increase|shortcut)\\.(conv|bn)\\.(.+)");

    @Override
    public String externalName(String n) {
        if (n.startsWith("backbone.conv1.")) return "layer1.conv1.conv." + n.substring(15);
        if (n.startsWith("backbone.bn1.")) return "layer1.conv1.bn." + n.substring(13);
        Matcher m = BLOCK.matcher(n);
        if (m.matches()) {
            int layer = Integer.parseInt(m.group(1)) + 1, blk = Integer.parseInt(m.group(2)) + 1;
            return "layer" + layer + ".block" + blk + "." + PART[Integer.parseInt(m.group(4)) - 1] + "." + m.group(3) + "." + m.group(5);
        }
        m = DOWN.matcher(n);
        if (m.matches()) {
            int layer = Integer.parseInt(m.group(1)) + 1, blk = Integer.parseInt(m.group(2)) + 1;
            return "layer" + layer + ".block" + blk + ".shortcut." + (m.group(3).equals("0") ? "conv" : "bn") + "." + m.group(4);
        }
        return n; // aspp.cK.*
    }

    @Override
    public String internalName(String e) {
        if (e.startsWith("base.")) e = e.substring(5); // deeplab-pytorch's MSC wrapper prefix
        if (e.startsWith("module.")) e = e.substring(7);
        if (e.startsWith("layer1.conv1.conv.")) return "backbone.conv1." + e.substring(18);
        if (e.startsWith("layer1.conv1.bn.")) return "backbone.bn1." + e.substring(16);
        Matcher m = EXT_BLOCK.matcher(e);
        if (m.matches()) {
            int layer = Integer.parseInt(m.group(1)) - 1, blk = Integer.parseInt(m.group(2)) - 1;
            String p = "backbone.layer" + layer + "." + blk + ".";
            if (m.group(3).equals("shortcut")) return p + "downsample." + (m.group(4).equals("conv") ? "0" : "1") + "." + m.group(5);
            int idx = List.of(PART).indexOf(m.group(3)) + 1;
            return p + m.group(4) + idx + "." + m.group(5);
        }
        return e;
    }
}
