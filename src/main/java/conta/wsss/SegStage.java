package conta.wsss;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.config.Config;
import conta.data.AugmentSpec;
import conta.data.Dataset;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.models.DeepLabV2;
import conta.models.Models;
import conta.optim.Sgd;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.train.Objective;
import conta.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Stage 3: DeepLab-v2 trained on pseudo-masks with deeplab-pytorch's recipe (crop 321, batch 10, lr 2.5e-4 with ASPP
 * weights x10 and biases x20 without weight decay, poly 0.9, random scale, flip, cross-entropy ignoring 255 summed
 * over the MSC outputs), and full-image multi-scale prediction.
 */
public final class SegStage {
    private SegStage() { }

    static final int[] RESNET50 = {3, 4, 6, 3}, RESNET101 = {3, 4, 23, 3};

    /**
     * The backbone depth: seg.blocks, or for auto the depth of the weights: the ImageNet ResNet-50 for
     * seg.weights=imagenet (the only ImageNet weights conta fetches), the file's own depth for a path (a ResNet-101
     * .pth gives DeepLab-v2's original ResNet-101), and DeepLab-v2's ResNet-101 for none. Blocks that contradict the
     * weights are refused here rather than silently trained from random weights.
     */
    public static int[] blocks(Config c) {
        String spec = c.str("seg.weights"), v = c.str("seg.blocks").strip();
        if (!v.equalsIgnoreCase("auto")) {
            int[] b = c.ints("seg.blocks");
            if (b.length != 4) throw new conta.error.UserError("config seg.blocks must be auto or 4 comma-separated block counts, got '" + v + "'");
            if (spec.equals("imagenet") && !java.util.Arrays.equals(b, RESNET50))
                throw new conta.error.UserError("seg.blocks=" + v + " with seg.weights=imagenet: the ImageNet weights conta has are ResNet-50's (3,4,6,3); "
                        + "set seg.blocks=auto, give seg.weights=PATH to weights of this depth (e.g. a torchvision ResNet-101 .pth for 3,4,23,3), "
                        + "or seg.weights=none to train this depth from random weights");
            return b;
        }
        if (spec.equals("imagenet")) return RESNET50.clone();
        if (spec.equals("none")) return RESNET101.clone();
        return depthOf(Path.of(spec));
    }

    private static final java.util.Map<Path, int[]> DEPTHS = new java.util.concurrent.ConcurrentHashMap<>();

    /** Blocks per stage of a torchvision-named ResNet weights file (layerS.B.*); read once per file. */
    static int[] depthOf(Path file) {
        return DEPTHS.computeIfAbsent(file.toAbsolutePath(), SegStage::readDepth).clone();
    }

    /** The same from the file's tensors when the caller has read them already (the start-up check: one read fewer). */
    public static int[] depthOf(Path file, java.util.Map<String, conta.io.HostArray> w) {
        return DEPTHS.computeIfAbsent(file.toAbsolutePath(), f -> depth(f, w)).clone();
    }

    private static int[] readDepth(Path file) {
        try {
            return depth(file, conta.io.WeightFiles.load(file));
        } catch (java.io.IOException | RuntimeException e) {
            if (e instanceof conta.error.UserError u) throw u;
            throw new conta.error.UserError("seg.weights: cannot read " + file + ": " + e.getMessage());
        }
    }

    private static int[] depth(Path file, java.util.Map<String, conta.io.HostArray> w) {
        int[] b = new int[4];
        java.util.regex.Pattern p = java.util.regex.Pattern.compile("(?:module\\.)?layer([1-4])\\.([0-9]+)\\..*");
        for (String k : w.keySet()) {
            var m = p.matcher(k);
            if (m.matches()) b[Integer.parseInt(m.group(1)) - 1] = Math.max(b[Integer.parseInt(m.group(1)) - 1], Integer.parseInt(m.group(2)) + 1);
        }
        for (int n : b)
            if (n == 0) throw new conta.error.UserError("seg.weights: " + file + " has no torchvision ResNet layer1..layer4 tensors; "
                    + "set seg.blocks to the depth explicitly");
        return b;
    }

    /** One line for the log and done.json: which DeepLab-v2 this is and why. */
    public static String describe(Config c) {
        int[] b = blocks(c);
        String depth = java.util.Arrays.equals(b, RESNET50) ? "ResNet-50" : java.util.Arrays.equals(b, RESNET101) ? "ResNet-101"
                : "ResNet with blocks " + java.util.Arrays.toString(b);
        String from = switch (c.str("seg.weights")) {
            case "imagenet" -> "the ImageNet ResNet-50 weights";
            case "none" -> "random weights";
            default -> c.str("seg.weights");
        };
        return "DeepLab-v2 on " + depth + " (width " + c.integer("seg.width") + ") from " + from
                + (c.str("seg.blocks").strip().equalsIgnoreCase("auto") ? " (seg.blocks=auto)" : "");
    }

    public static DeepLabV2 build(Config c, int numClassesWithBg, Backend b) {
        return (DeepLabV2) spec(c, numClassesWithBg).build(b, c.integer("seed"));
    }

    /**
     * The DeepLab-v2 of the config: deeplab-pytorch's backbone (seg.width, seg.blocks) at output stride 8, or for the
     * npm ImageNet ResNet-50 (seg.weights=imagenet with blocks 3,4,6,3) its Keras layout (conv biases, BN eps 1e-3).
     */
    public static ModelSpec spec(Config c, int numClassesWithBg) {
        if (!c.str("seg.arch").equals("deeplabv2-resnet101"))
            throw new conta.error.UserError("seg.arch must be deeplabv2-resnet101 (DeepLab-v2's head; the backbone depth is seg.blocks), got " + c.str("seg.arch"));
        int[] blocks = blocks(c); // refuses blocks that contradict seg.weights=imagenet
        boolean keras = c.str("seg.weights").equals("imagenet");
        conta.models.ResNetConfig rc = DeepLabV2.backboneConfig(c.integer("seg.width"), blocks);
        if (keras) rc = rc.withMsra(true, true, 1e-3f);
        return ModelSpec.deeplab(rc, numClassesWithBg, c.numbers("seg.msc"));
    }

    /**
     * Class weights of the balanced cross-entropy: inverse pixel frequency of each class in the training label maps,
     * scaled to mean 1 over the classes that occur (absent classes get 0).
     */
    public static float[] balancedWeights(Dataset masks, List<String> ids, int k) {
        long[] cnt = new long[k];
        for (String id : ids) {
            Mask m = masks.mask(id);
            for (byte v : m.data()) { int c = v & 0xFF; if (c < k) cnt[c]++; }
        }
        long tot = 0;
        int present = 0;
        for (long n : cnt) { tot += n; if (n > 0) present++; }
        float[] w = new float[k];
        double sum = 0;
        for (int c = 0; c < k; c++) if (cnt[c] > 0) { w[c] = (float) ((double) tot / cnt[c]); sum += w[c]; }
        for (int c = 0; c < k; c++) w[c] = (float) (w[c] * present / sum);
        return w;
    }

    /** Trains DeepLab-v2 on the pseudo-masks; round ("round T ") goes before the progress label. */
    public static Trainer.Result train(DeepLabV2 net, Config c, Dataset pseudo, List<String> ids, Path ckpt, String round) {
        List<Tensor> backbone = new ArrayList<>(), asppW = new ArrayList<>(), asppB = new ArrayList<>();
        // deeplab-pytorch (main.py, get_params) optimises the convolutions only: its frozen batch norms keep their
        // scale and shift too, so they get no gradient here (which also saves their per-channel sums every step)
        if (!c.bool("seg.train_bn"))
            net.visitModules("", (n, m) -> {
                if (m instanceof conta.nn.BatchNorm2d bn) {
                    bn.weight.requiresGrad = false;
                    bn.bias.requiresGrad = false;
                }
            });
        net.visit("", (n, t, p) -> {
            if (!p || !t.requiresGrad) return;
            if (n.startsWith("aspp.")) (n.endsWith("bias") ? asppB : asppW).add(t);
            else backbone.add(t);
        });
        float wd = (float) c.number("seg.weight_decay");
        double[] sc = c.numbers("seg.scale");
        AugmentSpec aug = new AugmentSpec(0, 0, sc[0], sc[1], true, 0, 0, 0, 0, Backbones.input(c, "seg"), c.integer("seg.crop"), AugmentSpec.CropMode.RANDOM,
                conta.image.Resampling.parse(c.str("data.resize"), "data.resize"));
        Trainer.Plan plan = new Trainer.Plan(round + "segmentation", pseudo, ids, aug, c.integer("seg.batch"), c.integer("seg.iters"),
                c.integer("seed"), c.integer("data.workers"), c.bool("data.skip_bad"), (float) c.number("seg.lr"),
                (float) c.number("seg.poly_power"), c.integer("seg.checkpoint_every"));
        int k = net.classes();
        double[] msc = c.numbers("seg.msc");
        float[] cw = c.bool("seg.balanced_ce") ? balancedWeights(pseudo, ids, k) : null;
        try (Sgd opt = new Sgd(List.of(new Sgd.Group("backbone", backbone, 1f, wd), new Sgd.Group("aspp.weight", asppW, 10f, wd),
                new Sgd.Group("aspp.bias", asppB, 20f, 0f)), (float) c.number("seg.momentum"))) {
            return Trainer.run(net, opt, plan, (x, bt) -> {
                float[] lab = new float[bt.n() * bt.h() * bt.w()];
                for (int i = 0; i < lab.length; i++) lab[i] = bt.masks()[i] & 0xFF;
                Tensor w = cw == null ? null : Tape.track(Tensor.of(net.backend(), cw, k));
                // Objective.CE.loss over the outputs, one at a time (same sums in the same order) so that the log
                // gets each scale's part: the full-size logits, each MSC scale, the max-fused map
                List<Tensor> outs = net.trainOutputs(x);
                Tensor total = null;
                for (int i = 0; i < outs.size(); i++) {
                    Tensor l = Objective.CE.loss(List.of(outs.get(i)), lab, new int[]{bt.n(), bt.h(), bt.w()}, w, 255);
                    conta.train.LossParts.put(i == 0 ? "scale1" : i == outs.size() - 1 ? "msc_max" : "scale" + msc[i - 1], l.item());
                    total = total == null ? l : conta.autograd.F.add(total, l);
                }
                return total;
            }, ckpt, Map.of("stage", "segmentation"));
        }
    }

    /** Class probabilities (K x H x W, softmax of the MSC max-fused logits resized to the image) of one image. */
    public static float[] probabilities(DeepLabV2 net, conta.data.Preprocess input, RgbImage im) { return probabilities(net, input, im, null); }

    /** The same with the MSC logits from inference plans of net when plans is not null (conta.infer.PlanCache). */
    public static float[] probabilities(DeepLabV2 net, conta.data.Preprocess input, RgbImage im, conta.infer.PlanCache plans) {
        conta.infer.PlanCache.Result r = fusedLogits(net, input, im, plans);
        try (Tape t = Tape.open(false)) {
            Tensor logits = F.resizeBilinear(Tape.track(Tensor.of(net.backend(), r.data(), r.shape())), im.h(), im.w(), false);
            return F.softmax(logits).toArray();
        }
    }

    /** The MSC max-fused logits (1 x K x h x w, on the host) of one image: from plans when not null, else net's forward. */
    private static conta.infer.PlanCache.Result fusedLogits(DeepLabV2 net, conta.data.Preprocess input, RgbImage im, conta.infer.PlanCache plans) {
        net.train(false);
        if (plans != null) return plans.run(input.chw(im, false), 1, 3, im.h(), im.w());
        try (Tape t = Tape.open(false)) {
            Tensor y = net.forward(Tape.track(Tensor.of(net.backend(), input.chw(im, false), 1, 3, im.h(), im.w())));
            return new conta.infer.PlanCache.Result(y.toArray(), y.shape());
        }
    }

    /**
     * The label map of one image: multi-scale max-fused probabilities at full size, then the dense CRF (crf != null)
     * or the argmax. The pipeline's pred/ stage, `conta predict` and the Java/C API all call this one function.
     */
    public static Mask predict(DeepLabV2 net, conta.data.Preprocess input, RgbImage im, conta.wsss.crf.CrfParams crf) {
        return predict(net, input, im, crf, null);
    }

    /** The same with inference plans of net (null: its forward). */
    public static Mask predict(DeepLabV2 net, conta.data.Preprocess input, RgbImage im, conta.wsss.crf.CrfParams crf, conta.infer.PlanCache plans) {
        return predict(net, input, im, crf, plans, null);
    }

    /**
     * The same, the labels written into `into` when it holds exactly the image's pixels (the API's output array; else
     * a new one; with the CRF always a new one). With plans and without the CRF a call allocates almost nothing: the
     * network's input and logits are arrays kept with the pooled plan (PlanCache.run with fill and use). The API used to
     * allocate ~1.5 MB a call at 321 px, and the young collections that followed (one every ~150 calls, 5-12 ms each)
     * reached its p99 (bench/RESULTS-latency.md, session 18).
     */
    public static Mask predict(DeepLabV2 net, conta.data.Preprocess input, RgbImage im, conta.wsss.crf.CrfParams crf, conta.infer.PlanCache plans,
                               byte[] into) {
        if (crf != null) return PseudoStage.crfRefine(im, probabilities(net, input, im, plans), net.classes(), crf);
        // without the CRF the label is the argmax of the upsampled logits: the softmax is monotonic and is skipped, and
        // the full-size K x H x W scores are never stored (on a 321-px image they were most of an API call's time
        // outside the network: bench/RESULTS-latency.md)
        if (plans != null) {
            net.train(false);
            byte[] labels = plans.run(new int[]{1, 3, im.h(), im.w()}, in -> {
                if (input.chw(im, false, in) != in) throw new IllegalStateException("plan input of " + in.length + " floats for a " + im.w() + "x" + im.h() + " image");
            }, r -> conta.tensor.HostWsss.upsampleArgmax(r.data(), r.shape()[1], r.shape()[2], r.shape()[3], im.h(), im.w(), into));
            return new Mask(im.h(), im.w(), labels);
        }
        conta.infer.PlanCache.Result r = fusedLogits(net, input, im, null);
        int[] shape = r.shape();
        return new Mask(im.h(), im.w(), conta.tensor.HostWsss.upsampleArgmax(r.data(), shape[1], shape[2], shape[3], im.h(), im.w(), into));
    }
}
