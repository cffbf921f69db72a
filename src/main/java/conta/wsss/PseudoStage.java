package conta.wsss;

import conta.config.Config;
import conta.data.AugmentSpec;
import conta.data.Dataset;
import conta.data.Item;
import conta.data.MaskOverride;
import conta.image.CamMaps;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.infer.PlanCache;
import conta.infer.Precision;
import conta.io.HostArray;
import conta.models.Models;
import conta.models.ResNetConfig;
import conta.optim.Sgd;
import conta.tensor.Backend;
import conta.train.Checkpoint;
import conta.train.Progress;
import conta.train.Trainer;
import conta.wsss.crf.CrfParams;
import conta.wsss.crf.DenseCrf;
import conta.wsss.crf.Unary;
import conta.wsss.irn.BoundaryNet;
import conta.wsss.irn.RandomWalk;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stage 2b, IRNet's seed expansion: IR labels from the CAMs (dense CRF), the class-boundary branch trained on pixel
 * pairs from them, and the sparse random walk that turns stride-4 CAMs into full-size pseudo-masks.
 */
public final class PseudoStage {
    private final Config cfg;
    private final Dataset ds;
    private final List<String> ids;
    private final Backend backend;
    /** Before each progress label: "round T ", so a log line says which round it is. */
    private final String round;

    public PseudoStage(Config cfg, Dataset ds, List<String> ids, Backend b, String round) {
        this.cfg = cfg;
        this.ds = ds;
        this.ids = ids;
        this.backend = b;
        this.round = round;
    }

    /** IR labels for every training image (images already written are kept). */
    public void irLabels(Path camDir, Path irDir) {
        CrfParams base = CrfParams.IRN_LABEL;
        IrLabels.Params p = new IrLabels.Params((float) cfg.number("ir.fg_threshold"), (float) cfg.number("ir.bg_threshold"),
                cfg.bool("ir.crf"), new CrfParams(cfg.integer("ir.crf_iters"), base.gaussSxy(), base.gaussCompat(), base.bilatSxy(),
                base.bilatSrgb(), base.bilatCompat()), (float) cfg.number("ir.crf_gt_prob"));
        Progress bar = new Progress(round + "IR labels", ids.size(), 0);
        // images in parallel, one per core: the CRF's lattice hashing, the decode and the PNG encode are single-threaded,
        // so splitting inside one image left a core idle. Each label map depends on its image alone and is written
        // atomically, so the output and the resume rule (a written file is kept) do not depend on the schedule.
        // On a device backend too: IrLabels.compute takes turns on the device for the thresholding alone. (Serial
        // there, the H200 demo's IR labels took 19.6 s on 16 cores against 12.0 s on 2 CPU cores.)
        // the first failure is kept and rethrown once every worker has stopped: otherwise the others go on printing
        // progress after the error line and the JVM's exit cuts their writes short (a stray .png.tmp)
        java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.stream.IntStream.range(0, ids.size()).parallel().forEach(i -> {
            if (failed.get() != null) return;
            String id = ids.get(i);
            Path f = irDir.resolve(id + ".png");
            try {
                if (Files.isRegularFile(f)) { // written by the run this one resumes
                    bar.skipped(id);
                    return;
                }
                try {
                    Item it = ds.read(id);
                    IndexPng.write(f, IrLabels.compute(backend, it.image(), CamMaps.load(camDir.resolve(id + ".npz")), p));
                } catch (conta.data.DataError e) { // an image unreadable since the run started: left out under --skip-bad
                    if (!cfg.bool("data.skip_bad")) throw e;
                    System.err.println("skipping " + id + " (--skip-bad): " + e.getMessage());
                } catch (IOException e) {
                    throw new UncheckedIOException("IR labels of " + id + ": " + e.getMessage(), e);
                }
                if (failed.get() == null) bar.step(id);
            } catch (RuntimeException | Error e) {
                failed.compareAndSet(null, e);
            }
        });
        switch (failed.get()) {
            case null -> { }
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IllegalStateException(failed.get());
        }
        bar.finish();
    }

    BoundaryNet buildBoundary() {
        return (BoundaryNet) boundarySpec(cfg).build(backend, cfg.integer("seed"));
    }

    /** The boundary branch of the config: irn.arch/width/blocks at output stride 16, frozen BN, pairs within irn.radius. */
    public static ModelSpec boundarySpec(Config cfg) {
        ResNetConfig rc = Models.resnetConfig(cfg.str("irn.arch")).withWidth(cfg.integer("irn.width")).withBlocks(cfg.ints("irn.blocks"))
                .withStrides(new int[]{1, 2, 2, 1}).withFrozenBn(true).withHead(ResNetConfig.Head.NONE, 0);
        rc = Backbones.layoutFor(cfg.str("irn.weights"), rc);
        return ModelSpec.boundary(rc, cfg.integer("irn.radius"));
    }

    /**
     * Trains the boundary head on IR labels. irn.weights = imagenet | none | PATH | cls (the backbone of this round's
     * classifier, clsModel: the choice when no ImageNet weights exist, e.g. the demo's small networks). warned: the keys whose
     * random-weights warning the run has printed.
     */
    public Map<String, Object> trainBoundary(Path irDir, Path dir, Path model, Path clsModel, java.util.Set<String> warned) {
        try (BoundaryNet net = buildBoundary()) {
            String spec = cfg.str("irn.weights"), init;
            if (spec.equals("cls")) init = loadClassifierBackbone(net, clsModel);
            else init = Backbones.load(net.backbone(), spec, "irn.weights", warned);
            double[] sc = cfg.numbers("irn.scale");
            AugmentSpec aug = new AugmentSpec(0, 0, sc[0], sc[1], true, 0, 0, 0, 0, Backbones.input(cfg, "irn"), cfg.integer("irn.crop"), AugmentSpec.CropMode.RANDOM,
                    conta.image.Resampling.parse(cfg.str("data.resize"), "data.resize"));
            Dataset withIr = new MaskOverride(ds, irDir);
            int batch = cfg.integer("irn.batch");
            long steps = Trainer.Plan.stepsOf(cfg.integer("irn.epochs"), ids.size(), Math.min(batch, ids.size()));
            Trainer.Plan plan = new Trainer.Plan(round + "boundary branch", withIr, ids, aug, batch, steps, cfg.integer("seed"),
                    cfg.integer("data.workers"), cfg.bool("data.skip_bad"), (float) cfg.number("irn.lr"), 0.9f, 0);
            Trainer.Result r;
            try (Sgd opt = Sgd.single(net.headParameters(), (float) cfg.number("irn.momentum"), (float) cfg.number("irn.weight_decay"));
                 PlanCache plans = backbonePlans(net, 1)) { // one training shape (batch x crop); the backbone's weights are final here
                net.useBackbonePlans(plans);
                r = Trainer.run(net, opt, plan, (x, bt) -> {
                            var l = net.loss(x, BoundaryNet.downsampleLabels(bt.masks(), bt.n(), bt.h(), bt.w()));
                            conta.train.LossParts.put("bg_pos", l.bgPos()); // IRNet's three affinity terms, for the training log
                            conta.train.LossParts.put("fg_pos", l.fgPos());
                            conta.train.LossParts.put("neg", l.neg());
                            return l.total();
                        },
                        dir.resolve("checkpoint.safetensors"), Map.of("stage", "boundary"));
            }
            Map<String, String> meta = new LinkedHashMap<>(Bundle.of(cfg, "irn", boundarySpec(cfg), ds.classNames()).meta());
            meta.put("stage", "boundary");
            Checkpoint.save(model, net, null, new Checkpoint.Position(r.steps(), 0, 0), meta);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("init", init);
            m.put("steps", r.steps());
            m.put("final_epoch_loss", (double) r.lastEpochLoss());
            return m;
        }
    }

    /**
     * The boundary net's frozen backbone through inference plans (irn.plan, on the CPU with oneDNN), or null: its
     * training-graph forward. maxShapes: input shapes kept compiled.
     */
    private PlanCache backbonePlans(BoundaryNet net, int maxShapes) {
        if (!cfg.bool("irn.plan")) return null;
        return PlanCache.forBackend(backend, net.backbone(), PlanCache.Output.STAGES, Precision.parse(cfg.str("precision")).resolve(), maxShapes);
    }

    private static String loadClassifierBackbone(BoundaryNet net, Path clsModel) {
        if (!Files.isRegularFile(clsModel))
            throw new conta.error.UserError("irn.weights=cls: " + clsModel + " is missing although the classifier stage has finished; " + Checkpoint.fix(clsModel));
        Map<String, HostArray> w = new LinkedHashMap<>();
        Checkpoint.read(clsModel).tensors().forEach((k, v) -> { if (!k.startsWith("classifier") && !k.contains("#")) w.put(k, v); }); // damaged: named with the fix
        try {
            Map<String, conta.tensor.Tensor> mine = net.backbone().state();
            w.replaceAll((k, v) -> mine.containsKey(k) ? withoutContextInputs(k, v, mine.get(k).shape()) : v);
            net.backbone().loadState(w, true);
            return "this round's classifier backbone (" + clsModel.getParent().getParent().getFileName() + "/cls/model.safetensors)";
        } catch (IllegalArgumentException e) {
            throw new conta.error.UserError("irn.weights=cls: cannot load the classifier backbone " + clsModel + " (" + e.getMessage()
                    + "); irn.arch/irn.width/irn.blocks must equal cls.arch/cls.width/cls.blocks");
        }
    }

    /**
     * A CONTA classifier with conta.blocks 2..4 has context convs (layerN.0.conv1 / downsample.0) with k extra input
     * channels that the boundary net, which has no context, lacks: their first in channels are its weight (the
     * classifier's backbone as it computes with M = 0). Anything else is returned as is.
     */
    static HostArray withoutContextInputs(String name, HostArray w, int[] model) {
        int[] s = w.shape();
        if (s.length != 4 || model.length != 4 || s[1] <= model[1] || s[0] != model[0] || s[2] != model[2] || s[3] != model[3]
                || !name.matches("layer[2-4]\\.0\\.(conv1|downsample\\.0)\\.weight")) return w;
        int o = s[0], in = model[1], full = s[1], hw = s[2] * s[3];
        float[] out = new float[o * in * hw];
        for (int r = 0; r < o; r++) System.arraycopy(w.data(), r * full * hw, out, r * in * hw, in * hw);
        return new HostArray(model.clone(), out);
    }

    /** Pseudo-masks: boundary map (flip-averaged) + sparse random walk of the stride-4 CAMs. */
    public void randomWalk(Path camDir, Path edgeModel, Path out) {
        RandomWalk rw = new RandomWalk(new RandomWalk.Params(cfg.integer("rw.radius"), cfg.number("rw.beta"), cfg.integer("rw.exp_times"),
                (float) cfg.number("rw.bg_threshold")));
        try (BoundaryNet net = buildBoundary()) {
            Checkpoint.loadModel(edgeModel, net);
            try (PlanCache plans = backbonePlans(net, WALK_PLAN_SHAPES)) {
                net.useBackbonePlans(plans);
                walk(net, rw, camDir, out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Image sizes whose backbone plans the random walk keeps (a plan holds the backbone's weights and its buffers). */
    static final int WALK_PLAN_SHAPES = 4;

    /** Pseudo-masks of every image not written yet (a resumed run keeps the written ones), one image at a time. */
    private void walk(BoundaryNet net, RandomWalk rw, Path camDir, Path out) throws IOException {
        Progress bar = new Progress(round + "random walk", ids.size(), 0);
        for (String id : ids) {
            Path f = out.resolve(id + ".png");
            if (Files.isRegularFile(f)) { // written by the run this one resumes
                bar.skipped(id);
                continue;
            }
            CamMaps cam = CamMaps.load(camDir.resolve(id + ".npz"));
            conta.data.Sample s;
            try {
                s = ds.load(id, Backbones.input(cfg, "irn"));
            } catch (conta.data.DataError e) { // unreadable since the run started: left out under --skip-bad
                if (!cfg.bool("data.skip_bad")) throw e;
                System.err.println("skipping " + id + " (--skip-bad): " + e.getMessage());
                bar.step(id);
                continue;
            }
            float[] edge = net.boundary(s.image(), s.h(), s.w());
            if (edge.length != cam.h4() * cam.w4())
                throw new IllegalStateException("boundary grid of " + id + " has " + edge.length + " cells, CAM grid " + cam.w4() + "x" + cam.h4());
            byte[] lab = rw.segment(backend, cam.stride4(), cam.keys(), edge, cam.h4(), cam.w4(), cam.h(), cam.w());
            IndexPng.write(f, new Mask(cam.h(), cam.w(), lab));
            bar.step(id);
        }
        bar.finish();
    }

    /** deeplab-pytorch's CRF post-processing of class probabilities (K x H x W), then argmax. */
    public static Mask crfRefine(RgbImage im, float[] probs, int k) { return crfRefine(im, probs, k, CrfParams.DEEPLAB); }

    /** The same with other CRF settings (a bundle's). */
    public static Mask crfRefine(RgbImage im, float[] probs, int k, CrfParams params) {
        float[] q = DenseCrf.inferProbs(Unary.fromSoftmax(probs, k), im, k, params);
        int[] a = DenseCrf.argmax(q, k);
        byte[] b = new byte[a.length];
        for (int i = 0; i < a.length; i++) b[i] = (byte) a[i];
        return new Mask(im.h(), im.w(), b);
    }
}
