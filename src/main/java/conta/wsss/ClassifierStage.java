package conta.wsss;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.config.Config;
import conta.data.AugmentSpec;
import conta.data.Batch;
import conta.data.Dataset;
import conta.models.Models;
import conta.models.ResNet;
import conta.models.ResNetConfig;
import conta.nn.Init;
import conta.optim.Sgd;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Stage 1: the multi-label CAM classifier, IRNet's train_cam.py recipe by default (resnet50-os16, frozen BN, stages
 * 1-2 frozen, multi-label soft-margin loss, lr 0.1 backbone / 1.0 head, poly 0.9).
 */
public final class ClassifierStage {
    private ClassifierStage() { }

    /** Extra terms of the classifier: CONTA's context and C²AM's aggregation plug in here. */
    public interface Head {
        /** Context map for the batch (N x K x h x w, tracked by the tape), or null. */
        default Tensor context(Batch b, Tensor images) { return null; }

        /** The loss from the logits (default: multi-label soft margin). */
        default Tensor loss(Tensor logits, Tensor targets) { return F.multilabelSoftMarginLoss(logits, targets); }

        /** Extra trainable parameters (lr multiplier 10, like the head). */
        default List<Tensor> params() { return List.of(); }

        /** The module holding params(), checkpointed with the network (null if none). */
        default conta.nn.Module module() { return null; }
    }

    public static final Head BASELINE = new Head() { };

    /**
     * The classifier's architecture under the config (the ImageNet weights' layout included); a context of
     * contextChannels > 0 channels joins at the CONTA blocks of {@code conta.blocks}.
     */
    public static ResNetConfig config(Config c, int numClasses, int contextChannels) {
        ResNetConfig rc = Models.resnetConfig(c.str("cls.arch")).withWidth(c.integer("cls.width")).withBlocks(c.ints("cls.blocks"))
                .withStrides(c.ints("cls.strides"))
                .withHead(ResNetConfig.Head.CAM, numClasses)
                .withContext(contextChannels, contextChannels > 0 ? c.contextBlocks("conta.blocks") : ResNetConfig.BLOCK5);
        return Backbones.layoutFor(c.str("cls.weights"), rc);
    }

    /**
     * Refuses the from-scratch recipe that cannot train: random weights (cls.weights=none) under frozen BatchNorm
     * (cls.arch=resnet50-os16, IRNet's) with more than one block in a stage. Frozen BN with fresh statistics is the
     * identity, so nothing normalises a deep random ResNet: at IRNet's recipe the loss reached 3.5e10 at step 2 and NaN
     * at step 3 (also with cls.frozen_stages=0; PyTorch reproduces it), and IRNet's own pretrained=False gives all-zero
     * CAMs. The demo's one-block-per-stage network trains under frozen BN; cls.arch=resnet50 (BN with batch statistics)
     * trains a full ResNet-50 from scratch.
     */
    public static void checkFromScratch(Config c) {
        if (!c.str("cls.weights").equals("none")) return;
        ResNetConfig rc;
        try {
            rc = Models.resnetConfig(c.str("cls.arch"));
        } catch (IllegalArgumentException e) {
            throw new conta.error.UserError("config cls.arch: " + e.getMessage());
        }
        if (!rc.frozenBn() || java.util.Arrays.stream(c.ints("cls.blocks")).allMatch(n -> n <= 1)) return;
        throw new conta.error.UserError("cls.weights=none with cls.arch=" + c.str("cls.arch") + " (frozen BatchNorm, as IRNet) and cls.blocks="
                + c.str("cls.blocks") + " does not train: frozen BN with fresh statistics normalises nothing, so a random ResNet this deep "
                + "diverges (NaN at step 3 at IRNet's recipe). Use cls.weights=imagenet, or train from scratch with cls.arch=resnet50 "
                + "(BatchNorm with batch statistics) or one block per stage (the demo recipe); see docs/irn-parity.md");
    }

    public static ResNet build(Config c, int numClasses, int contextChannels, Backend b) {
        ResNet net = (ResNet) ModelSpec.classifier(config(c, numClasses, contextChannels)).build(b, c.integer("seed"));
        switch (c.str("cls.head_init")) {
            case "kaiming" -> { }
            case "irnet" -> { // nn.Conv2d's own init: torchvision's fan-out normal is ~15x larger here and made the pretrained net diverge
                Tensor w = net.camWeight();
                long headSeed = c.integer("cls.head_seed") >= 0 ? c.integer("cls.head_seed") : c.integer("seed");
                int extra = contextChannels > 0 ? net.config.headExtraIn() : 0;
                if (extra > 0 && c.str("conta.head_init").equals("matched")) {
                    // the feature columns exactly as the same seed's baseline draws them, the context columns from a
                    // stream of their own: CONTA and its baseline start from the same classifier (docs/conta-interpretation.md)
                    int rows = w.dim(0), feat = w.dim(1) - extra;
                    float[] base = Init.uniform(rows * feat, 1 / Math.sqrt(feat), new java.util.SplittableRandom(headSeed ^ 0xC1A55L));
                    float[] ctx = Init.uniform(rows * extra, 1 / Math.sqrt(feat + extra), new java.util.SplittableRandom(headSeed ^ 0xC0A7EL));
                    float[] all = new float[rows * (feat + extra)];
                    for (int o = 0; o < rows; o++) {
                        System.arraycopy(base, o * feat, all, o * (feat + extra), feat);
                        System.arraycopy(ctx, o * extra, all, o * (feat + extra) + feat, extra);
                    }
                    b.upload(w, all);
                    w.markModified();
                } else {
                    Init.uniform(w, 1 / Math.sqrt(w.dim(1)), new java.util.SplittableRandom(headSeed ^ 0xC1A55L));
                }
            }
            default -> throw new conta.error.UserError("cls.head_init must be irnet or kaiming, got " + c.str("cls.head_init"));
        }
        net.visit("", (n, t, p) -> t.name = n);
        return net;
    }

    public static Trainer.Result train(ResNet net, Config c, Dataset ds, List<String> ids, Path ckpt, Head head, String label) {
        List<String> kept = net.freezeStages(c.integer("cls.frozen_stages"));
        if (!kept.isEmpty())
            System.err.println("note: conta.blocks=" + c.str("conta.blocks") + " feeds the context map to a stage that cls.frozen_stages="
                    + c.str("cls.frozen_stages") + " freezes; its context convs " + kept + " train (the rest of the stage stays frozen)");
        List<Tensor> backbone = new ArrayList<>(), cls = new ArrayList<>(head.params());
        net.visit("", (n, t, p) -> {
            if (p && t.requiresGrad) (n.startsWith("classifier") ? cls : backbone).add(t);
        });
        float wd = (float) c.number("cls.weight_decay");
        int[] rl = c.ints("cls.resize_long");
        AugmentSpec aug = AugmentSpec.irnCam(c.integer("cls.crop")).withLongSide(rl[0], rl[1]).withInput(Backbones.input(c, "cls"))
                .withResampling(conta.image.Resampling.parse(c.str("data.resize"), "data.resize"));
        int batch = c.integer("cls.batch");
        long steps = Trainer.Plan.stepsOf(c.integer("cls.epochs"), ids.size(), Math.min(batch, ids.size()));
        Trainer.Plan plan = new Trainer.Plan(label, ds, ids, aug, batch, steps, c.integer("seed"), c.integer("data.workers"),
                c.bool("data.skip_bad"), (float) c.number("cls.lr"), (float) c.number("cls.poly_power"), 0);
        int n = ds.numClasses();
        try (Sgd opt = new Sgd(List.of(new Sgd.Group("backbone", backbone, 1f, wd),
                new Sgd.Group("head", cls, (float) c.number("cls.head_lr_mult"), wd)), (float) c.number("cls.momentum"))) {
            conta.nn.Module saved = net;
            if (head.module() != null) { // network and context weights resume together
                conta.nn.Container both = new conta.nn.Container(net.backend());
                both.add("net", net);
                both.add("context", head.module());
                saved = both;
            }
            return Trainer.run(saved, opt, plan, (x, bt) -> {
                Tensor logits = net.forward(x, head.context(bt, x));
                Tensor t = Tape.track(Tensor.of(net.backend(), bt.labels(), bt.n(), n));
                return head.loss(logits, t);
            }, ckpt, Map.of("stage", label));
        }
    }
}
