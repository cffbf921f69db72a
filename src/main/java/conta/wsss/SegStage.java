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
        return (DeepLabV2) spec(c, numClassesWithBg).build(b, c.integer("seed"));
    }

    /**
     * The DeepLab-v2 of the config: deeplab-pytorch's backbone (seg.width, seg.blocks) at output stride 8, or for the
     * npm ImageNet ResNet-50 (seg.weights=imagenet with blocks 3,4,6,3) its Keras layout (conv biases, BN eps 1e-3).
     */
    public static ModelSpec spec(Config c, int numClassesWithBg) {
        if (!c.str("seg.arch").equals("deeplabv2-resnet101"))
            throw new conta.error.UserError("seg.arch must be deeplabv2-resnet101 (its depth is seg.blocks), got " + c.str("seg.arch"));
        boolean keras = c.str("seg.weights").equals("imagenet") && java.util.Arrays.equals(c.ints("seg.blocks"), new int[]{3, 4, 6, 3});
        conta.models.ResNetConfig rc = DeepLabV2.backboneConfig(c.integer("seg.width"), c.ints("seg.blocks"));
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
        float[] cw = c.bool("seg.balanced_ce") ? balancedWeights(pseudo, ids, k) : null;
        try (Sgd opt = new Sgd(List.of(new Sgd.Group("backbone", backbone, 1f, wd), new Sgd.Group("aspp.weight", asppW, 10f, wd),
                new Sgd.Group("aspp.bias", asppB, 20f, 0f)), (float) c.number("seg.momentum"))) {
            return Trainer.run(net, opt, plan, (x, bt) -> {
                float[] lab = new float[bt.n() * bt.h() * bt.w()];
                for (int i = 0; i < lab.length; i++) lab[i] = bt.masks()[i] & 0xFF;
                Tensor w = cw == null ? null : Tape.track(Tensor.of(net.backend(), cw, k));
                return Objective.CE.loss(net.trainOutputs(x), lab, new int[]{bt.n(), bt.h(), bt.w()}, w, 255);
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

    /**
     * The label map of one image: multi-scale max-fused probabilities at full size, then the dense CRF (crf != null)
     * or the argmax. The pipeline's pred/ stage, `conta predict` and the Java/C API all call this one function.
     */
    public static Mask predict(DeepLabV2 net, conta.data.Preprocess input, RgbImage im, conta.wsss.crf.CrfParams crf) {
        float[] p = probabilities(net, input, im);
        return crf != null ? PseudoStage.crfRefine(im, p, net.classes(), crf) : argmax(p, net.classes(), im.h(), im.w());
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
