package conta.models;

import conta.autograd.F;
import conta.nn.BatchNorm2d;
import conta.nn.Container;
import conta.nn.Conv2d;
import conta.nn.Linear;
import conta.nn.Module;
import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * ResNet with torchvision parameter names (conv1, bn1, layer1..4, fc) and the variants WSSS needs: output stride 16/8
 * by stage strides and dilations, frozen BN, MSRA/Caffe blocks, a bias-free 1x1 CAM classifier, and CONTA's context map
 * M concatenated channel-wise to the features of the blocks in {@link ResNetConfig#contextBlocks()} (CONTA's block b
 * = layer(b-1); its features, resized M appended, feed layer b, or the head for block 5), see
 * {@link #features(Tensor, Tensor)}.
 */
public class ResNet extends Module implements Network {
    public final ResNetConfig config;
    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final List<List<Block>> stages = new ArrayList<>();
    private final Linear fc;
    private final Conv2d classifier;

    public ResNet(Backend b, ResNetConfig c) {
        super(b);
        this.config = c;
        conv1 = child("conv1", new Conv2d(b, 3, c.width(), 7, 2, 3, 1, c.convBias()));
        bn1 = child("bn1", new BatchNorm2d(b, c.width(), c.bnEps(), 0.1f, c.frozenBn()));
        int in = c.width();
        for (int s = 0; s < 4; s++) {
            Container layer = child("layer" + (s + 1), new Container(b));
            List<Block> blocks = new ArrayList<>();
            int planes = c.width() * (1 << s);
            for (int i = 0; i < c.blocks()[s]; i++) {
                blocks.add(layer.add(Integer.toString(i), new Block(b, c, in, planes, i == 0 ? c.strides()[s] : 1, c.dilations()[s],
                        i == 0 ? c.stageExtraIn(s) : 0)));
                in = planes * c.expansion();
            }
            stages.add(blocks);
        }
        int feat = in + c.headExtraIn();
        fc = c.head() == ResNetConfig.Head.FC ? child("fc", new Linear(b, feat, c.classes(), true)) : null;
        classifier = c.head() == ResNetConfig.Head.CAM ? child("classifier", new Conv2d(b, feat, c.classes(), 1, 1, 0, 1, false, c.headExtraIn())) : null;
    }

    /** The stem's max pool window (ceil mode per {@link ResNetConfig#poolCeil()}). */
    public static final ConvSpec STEM_POOL = ConvSpec.of(3, 2, 1, 1);

    /** conv1 + bn1 + relu + max pool. */
    public Tensor stem(Tensor x) {
        Tensor y = bn1.forwardRelu(conv1.forward(x));
        return F.maxPool2d(y, STEM_POOL, config.poolCeil());
    }

    /** Runs stage s (0-based: layer1..layer4). */
    public Tensor stage(int s, Tensor x) {
        for (Block blk : stages.get(s)) x = blk.forward(x);
        return x;
    }

    /** Last-stage features (block 5 in the paper's counting) of a network whose context, if any, joins at block 5 only. */
    public Tensor features(Tensor x) { return features(x, null); }

    /**
     * Last-stage features (layer4's output, block 5 in CONTA's counting). For each CONTA block b in 2..4 of the config's
     * context blocks, the context map, resized bilinearly (align_corners=False) to the grid of block b's output (that of
     * layer(b-1)), is concatenated to it, so layer b's first block reads [x, M]. Block 5's concatenation (before the
     * head) is {@link #withContext}'s.
     *
     * @param context N x k x h x w, or null for a network without context (or with context at block 5 only)
     */
    public Tensor features(Tensor x, Tensor context) {
        x = stem(x);
        for (int s = 0; s < 4; s++) {
            x = stage(s, x);
            if (s < 3 && config.contextAt(s + 2)) x = join(x, context, s + 2);
        }
        return x;
    }

    /** Appends a context map (N x K x h x w, resized bilinearly to the feature grid) to the features (block 5). */
    public Tensor withContext(Tensor feats, Tensor context) {
        if (!config.contextAt(5)) {
            if (context != null && config.contextChannels() == 0)
                throw new IllegalArgumentException("context has " + context.dim(1) + " channels, the head expects 0");
            return feats;
        }
        return join(feats, context, 5);
    }

    /** [x, resize(context)] at CONTA block b. */
    private Tensor join(Tensor x, Tensor context, int block) {
        String where = block == 5 ? "the head" : "layer" + block + " (after block " + block + ")";
        if (context == null)
            throw new IllegalArgumentException("this network expects a " + config.contextChannels() + "-channel context map"
                    + (block == 5 ? "" : " at " + where));
        if (context.dim(1) != config.contextChannels())
            throw new IllegalArgumentException("context has " + context.dim(1) + " channels, " + where + " expects " + config.contextChannels());
        Tensor ctx = context.dim(2) == x.dim(2) && context.dim(3) == x.dim(3)
                ? context : F.resizeBilinear(context, x.dim(2), x.dim(3), false);
        return F.concatChannels(List.of(x, ctx));
    }

    /** Head over (features [+ context]): N x classes logits. */
    public Tensor head(Tensor feats) {
        return switch (config.head()) {
            case FC -> fc.forward(F.globalAvgPool(feats));
            case CAM -> {
                Tensor pooled = F.globalAvgPool(feats);
                Tensor y = classifier.forward(pooled);
                yield F.reshape(y, y.dim(0), y.dim(1));
            }
            case NONE -> feats;
        };
    }

    /** The CAM classifier's weight [classes, F(+K), 1, 1], or null. */
    public Tensor camWeight() { return classifier == null ? null : classifier.weight; }

    public Tensor forward(Tensor x, Tensor context) { return head(withContext(features(x, context), context)); }

    @Override
    public Tensor forward(Tensor x) { return forward(x, null); }

    @Override
    public List<Tensor> trainOutputs(Tensor x) { return List.of(forward(x)); }

    /**
     * Freezes the first n of IRNet's stages (stage 1 = stem + layer1, stage 2 = layer2, ...): IRNet trains only layer3,
     * layer4 and the head (n = 2). Frozen parameters get no gradient, so nothing before them is differentiated.
     *
     * <p>The convs that read CONTA's context map (conv1 and downsample.0 of the first block of a stage where M joins)
     * stay trainable in a frozen stage: their context channels start at zero from pretrained weights, and frozen they
     * would keep M out of the network for good.
     *
     * @return the names of the context convs kept trainable inside frozen stages
     */
    public List<String> freezeStages(int n) {
        conv1.setTrainable(n == 0);
        bn1.setTrainable(n == 0);
        List<String> kept = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            boolean on = s >= n;
            for (int i = 0; i < stages.get(s).size(); i++) {
                Block blk = stages.get(s).get(i);
                blk.setTrainable(on);
                if (!on) for (Conv2d cv : blk.contextConvs()) {
                    cv.setTrainable(true);
                    kept.add("layer" + (s + 1) + "." + i + "." + (cv == blk.contextConvs().getFirst() ? "conv1" : "downsample.0"));
                }
            }
        }
        return kept;
    }
}
