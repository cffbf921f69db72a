package conta.wsss;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.data.AugmentSpec;
import conta.data.Dataset;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.models.DeepLabV2;
import conta.models.Models;
import conta.optim.Sgd;
import conta.pipeline.Config;
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

    public static DeepLabV2 build(Config c, int numClassesWithBg, Backend b) {
        if (!c.str("seg.arch").equals("deeplabv2-resnet101"))
            throw new conta.error.UserError("seg.arch must be deeplabv2-resnet101 (its depth is seg.blocks), got " + c.str("seg.arch"));
        boolean keras = c.str("seg.weights").equals("imagenet") && java.util.Arrays.equals(c.ints("seg.blocks"), new int[]{3, 4, 6, 3});
        if (!keras) {
            Models.Options o = new Models.Options(c.integer("seg.width"), c.ints("seg.blocks"), numClassesWithBg, null, null,
                    c.numbers("seg.msc"), (long) c.integer("seed"));
            return (DeepLabV2) Models.build("deeplabv2-resnet101", o, b);
        }
        // ImageNet ResNet-50 from npm: Keras layout (conv biases, BN eps 1e-3), initialised like Models.build
        long seed = c.integer("seed");
        DeepLabV2 m = new DeepLabV2(b, DeepLabV2.backboneConfig(c.integer("seg.width"), c.ints("seg.blocks")).withMsra(true, true, 1e-3f),
                numClassesWithBg, c.numbers("seg.msc"));
        conta.nn.Init.torchvision(m, seed);
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed ^ 0x5DEECE66DL);
        for (var e : m.children().get("aspp").children().values()) conta.nn.Init.normal(((conta.nn.Conv2d) e).weight, 0.01, r);
        m.visit("", (n, t, p) -> t.name = n);
        return m;
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

    public static Trainer.Result train(DeepLabV2 net, Config c, Dataset pseudo, List<String> ids, Path ckpt) {
        List<Tensor> backbone = new ArrayList<>(), asppW = new ArrayList<>(), asppB = new ArrayList<>();
        net.visit("", (n, t, p) -> {
            if (!p || !t.requiresGrad) return;
            if (n.startsWith("aspp.")) (n.endsWith("bias") ? asppB : asppW).add(t);
            else backbone.add(t);
        });
        float wd = (float) c.number("seg.weight_decay");
        double[] sc = c.numbers("seg.scale");
        AugmentSpec aug = new AugmentSpec(0, 0, sc[0], sc[1], true, 0, 0, 0, 0, Backbones.input(c, "seg"), c.integer("seg.crop"), AugmentSpec.CropMode.RANDOM);
        Trainer.Plan plan = new Trainer.Plan("segmentation", pseudo, ids, aug, c.integer("seg.batch"), c.integer("seg.iters"),
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
    public static float[] probabilities(DeepLabV2 net, conta.data.Preprocess input, RgbImage im) {
        net.train(false);
        Backend b = net.backend();
        try (Tape t = Tape.open(false)) {
            Tensor x = Tape.track(Tensor.of(b, input.chw(im, false), 1, 3, im.h(), im.w()));
            Tensor logits = F.resizeBilinear(net.forward(x), im.h(), im.w(), false);
            return F.softmax(logits).toArray();
        }
    }

    public static Mask argmax(float[] probs, int k, int h, int w) {
        int hw = h * w;
        byte[] out = new byte[hw];
        for (int p = 0; p < hw; p++) {
            int arg = 0;
            float best = probs[p];
            for (int c = 1; c < k; c++) if (probs[c * hw + p] > best) { best = probs[c * hw + p]; arg = c; }
            out[p] = (byte) arg;
        }
        return new Mask(h, w, out);
    }
}
