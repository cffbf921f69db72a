package conta.wsss.irn;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.data.Batch;
import conta.models.ResNet;
import conta.models.ResNetConfig;
import conta.nn.Container;
import conta.nn.Conv2d;
import conta.nn.GroupNorm;
import conta.nn.Init;
import conta.nn.Module;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * IRNet's class-boundary branch (net/resnet50_irn.py, edge layers): a frozen ResNet (eval BN, no gradients) whose
 * five side outputs (stem after max pool, layer1..layer4) each pass a 1x1 conv to 32 channels, GroupNorm(4) and
 * ReLU, are upsampled to the stride-4 grid (before the ReLU, as IRNet) and cropped to it, concatenated (160) and
 * mapped by a 1x1 conv with bias to one boundary logit. IRNet's displacement branch is left out: it only serves
 * instance segmentation. Head names match IRNet's state dict (fc_edge1.0.weight, fc_edge1.1.weight, ...); the
 * backbone keeps torchvision names under {@code backbone.}, so ImageNet weights load with {@code backbone().loadState}.
 */
public final class BoundaryNet extends Module {
    /** IRNet: crop 512, so pairs on the 128 x 128 grid within radius 10. */
    public static final int TRAIN_RADIUS = 10;

    private final ResNet backbone;
    private final List<Conv2d> sideConv = new ArrayList<>();
    private final List<GroupNorm> sideNorm = new ArrayList<>();
    private final int[] upscale = new int[5];
    private final Conv2d fuse;
    private final PathIndex pairs;
    /** The frozen backbone's stage plans (null: its forward on the training graph), and their last outputs (reused). */
    private conta.infer.PlanCache backbonePlans;
    private List<conta.infer.PlanCache.Result> sideOutputs;

    /** IRNet's network: ResNet-50 with strides (2,2,2,1) (output stride 16, layer4 not dilated), frozen BN. */
    public static BoundaryNet irnet(Backend b, long seed) {
        ResNetConfig c = ResNetConfig.torchvision(true, 3, 4, 6, 3).withStrides(new int[]{1, 2, 2, 1}).withFrozenBn(true)
                .withHead(ResNetConfig.Head.NONE, 0);
        return new BoundaryNet(b, c, TRAIN_RADIUS, seed);
    }

    /** A boundary net over any ResNet whose layer1 keeps stride 4; pairRadius is the training pairs' radius. */
    public BoundaryNet(Backend b, ResNetConfig c, int pairRadius, long seed) {
        super(b);
        if (c.strides()[0] != 1) throw new IllegalArgumentException("layer1 must keep stride 4 (strides[0] = 1), got " + c);
        backbone = child("backbone", new ResNet(b, c.withHead(ResNetConfig.Head.NONE, 0).withFrozenBn(true)));
        Init.torchvision(backbone, seed);
        backbone.setTrainable(false);
        int[] in = {c.width(), c.stageOut(0), c.stageOut(1), c.stageOut(2), c.stageOut(3)};
        int stride = 1;
        SplittableRandom r = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        for (int i = 0; i < 5; i++) {
            if (i >= 1) stride *= c.strides()[i - 1];
            upscale[i] = stride;
            Container seq = child("fc_edge" + (i + 1), new Container(b));
            sideConv.add(seq.add("0", torchDefault(new Conv2d(b, in[i], 32, 1, 1, 0, 1, false), r)));
            sideNorm.add(seq.add("1", new GroupNorm(b, 4, 32, 1e-5f)));
        }
        fuse = child("fc_edge6", torchDefault(new Conv2d(b, 160, 1, 1, 1, 0, 1, true), r));
        pairs = new PathIndex(pairRadius);
        visit("", (n, t, p) -> t.name = n);
    }

    /** PyTorch's default conv init (kaiming_uniform a = sqrt 5): U(+-1/sqrt(fan_in)) for weight and bias. */
    private static Conv2d torchDefault(Conv2d conv, SplittableRandom r) {
        double bound = 1 / Math.sqrt(conv.inChannels());
        Init.uniform(conv.weight, bound, r);
        if (conv.bias != null) Init.uniform(conv.bias, bound, r);
        return conv;
    }

    public ResNet backbone() { return backbone; }

    /** The training pairs' path index (radius 10 for IRNet). */
    public PathIndex pairIndex() { return pairs; }

    /** The head's parameters: what an optimizer should update (IRNet's edge_layers). */
    public List<Tensor> headParameters() { return trainableParameters(); }

    /** IRNet keeps the backbone in eval mode whatever the mode of the net. */
    @Override
    public void train(boolean on) {
        super.train(on);
        backbone.train(false);
    }

    /**
     * From now on the frozen backbone's five outputs come from inference plans (PlanCache.Output.STAGES of
     * {@link #backbone()}: BN folded, fused convolutions; its forward's numbers to float rounding, ~1.5x faster on the
     * CPU), or from its forward on the training graph again with null. The backbone never trains, so one cache serves
     * the whole training; make it after the backbone's weights are loaded. The caller closes it.
     */
    public void useBackbonePlans(conta.infer.PlanCache plans) {
        backbonePlans = plans;
        sideOutputs = null;
    }

    /** Boundary logits N x 1 x ceil(H/4) x ceil(W/4) for normalised images N x 3 x H x W. */
    public Tensor logits(Tensor images) {
        if (images.rank() != 4 || images.dim(1) != 3)
            throw new IllegalArgumentException("images must be N x 3 x H x W, got " + images.shapeString());
        List<Tensor> sides = new ArrayList<>(5);
        if (backbonePlans != null) {
            sideOutputs = backbonePlans.runAll(images.toArray(), images.shape(), sideOutputs);
            for (var r : sideOutputs) sides.add(Tape.track(Tensor.of(backend, r.data(), r.shape())));
            return head(sides);
        }
        Tensor x = backbone.stem(images); // no parameter or input needs a gradient: nothing is recorded here
        sides.add(x);
        for (int s = 0; s < 4; s++) sides.add(x = backbone.stage(s, x));
        return head(sides);
    }

    /** The head over the five side features (exposed for gradient checks with fixed features). */
    public Tensor head(List<Tensor> sides) {
        int h = sides.get(1).dim(2), w = sides.get(1).dim(3);
        List<Tensor> outs = new ArrayList<>(5);
        for (int i = 0; i < 5; i++) {
            Tensor y = sideNorm.get(i).forward(sideConv.get(i).forward(sides.get(i)));
            int u = upscale[i];
            if (u > 1) y = F.cropSpatial(F.resizeBilinear(y, y.dim(2) * u, y.dim(3) * u, false), h, w);
            outs.add(F.relu(y));
        }
        return fuse.forward(F.concatChannels(outs));
    }

    /**
     * IRNet's affinity loss of one training batch under the caller's gradient tape: images N x 3 x H x W, IR labels
     * N x h x w on the logits' stride-4 grid (0 bg, k class, 255 ignore). Back-propagating the total reaches the head only.
     */
    public Affinity.Loss loss(Tensor images, byte[] irLabels) {
        Tensor logits = logits(images);
        int h = logits.dim(2), w = logits.dim(3);
        if (irLabels.length != (long) images.dim(0) * h * w)
            throw new IllegalArgumentException(irLabels.length + " IR labels, the boundary grid is " + images.dim(0) + " x " + w + "x" + h);
        return Affinity.boundaryLoss(F.sigmoid(logits), irLabels, pairs);
    }

    /** The same from a loader batch: full-resolution IR-label masks are reduced to the stride-4 grid (nearest). */
    public Affinity.Loss loss(Batch batch) {
        if (!Tape.recording()) throw new IllegalStateException("open a gradient tape (Tape.open(true)) around the training step");
        if (batch.masks() == null) throw new IllegalArgumentException("batch " + batch.ids() + " has no IR-label masks");
        Tensor images = Tape.track(Tensor.of(backend, batch.images(), batch.n(), 3, batch.h(), batch.w()));
        return loss(images, downsampleLabels(batch.masks(), batch.n(), batch.h(), batch.w()));
    }

    /**
     * Labels on the stride-4 grid ceil(h/4) x ceil(w/4) by Pillow's NEAREST resize to that grid: for sizes that are
     * multiples of 4 this is IRNet's {@code pil_rescale(label, 0.25, 0)}, pixel (4y+2, 4x+2), the centre of each 4x4
     * cell; for other sizes IRNet's grid (round(h/4)) would not match the network's, so Pillow's rule is applied to
     * the network's grid.
     */
    public static byte[] downsampleLabels(byte[] masks, int n, int h, int w) {
        if (masks.length != (long) n * h * w) throw new IllegalArgumentException(masks.length + " mask bytes for " + n + " x " + w + "x" + h);
        int oh = (h + 3) / 4, ow = (w + 3) / 4;
        int[] ys = conta.image.PilResample.nearestIndex(h, oh), xs = conta.image.PilResample.nearestIndex(w, ow);
        byte[] out = new byte[n * oh * ow];
        for (int i = 0; i < n; i++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) out[(i * oh + y) * ow + x] = masks[(i * h + ys[y]) * w + xs[x]];
        return out;
    }

    /**
     * Inference (IRNet's EdgeDisplacement): boundary probabilities ceil(h/4) x ceil(w/4) for one normalised image
     * 3 x h x w, sigmoid of the mean of the logits of the image and of its mirror image (mirrored back).
     */
    public float[] boundary(float[] image, int h, int w) {
        if (image.length != 3L * h * w) throw new IllegalArgumentException(image.length + " values for a 3 x " + w + "x" + h + " image");
        float[] pair = new float[2 * image.length];
        System.arraycopy(image, 0, pair, 0, image.length);
        for (int p = 0; p < 3 * h; p++)
            for (int x = 0; x < w; x++) pair[image.length + p * w + x] = image[p * w + w - 1 - x];
        boolean was = training;
        train(false);
        try (Tape tape = Tape.open(false)) {
            Tensor l = logits(Tape.track(Tensor.of(backend, pair, 2, 3, h, w)));
            int oh = l.dim(2), ow = l.dim(3);
            float[] v = l.toArray(), out = new float[oh * ow];
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    double z = v[y * ow + x] / 2.0 + v[oh * ow + y * ow + ow - 1 - x] / 2.0;
                    out[y * ow + x] = (float) (1 / (1 + Math.exp(-z)));
                }
            return out;
        } finally {
            train(was);
        }
    }
}
