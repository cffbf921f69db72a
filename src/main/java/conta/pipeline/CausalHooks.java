package conta.pipeline;

import conta.autograd.Tape;
import conta.causal.ConfounderSet;
import conta.causal.ContextAttention;
import conta.causal.FrontDoor;
import conta.causal.GlobalCam;
import conta.causal.MaskEncoding;
import conta.config.Config;
import conta.error.UserError;
import conta.data.Batch;
import conta.data.Dataset;
import conta.data.Item;
import conta.data.MaskOverride;
import conta.image.CamMaps;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.Resampling;
import conta.io.HostArray;
import conta.io.RunLayout;
import conta.models.ResNet;
import conta.nn.Module;
import conta.tensor.Tensor;
import conta.train.Checkpoint;
import conta.train.Progress;
import conta.wsss.Backbones;
import conta.wsss.Cams;
import conta.wsss.ClassifierStage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CONTA (backdoor adjustment, rounds) and C²AM (front-door fine-tuning) as additions to the baseline round.
 *
 * <p>CONTA, round t >= 1: the segmentation model of round t-1 predicts every training image (OUT/round{t-1}/pred_train);
 * the confounder set C (per-class mean masks at h x w) is built from those predictions (or from round t-1's
 * pseudo-masks), saved as OUT/round{t}/confounders.npy; the classifier trains with M = sum_i alpha_i c_i / n
 * concatenated to its block-5 features (or those of the blocks of {@code conta.blocks}), where X_m comes from the image's predicted mask <em>augmented with the crop</em>
 * (the loader carries it as the batch mask) and W1, W2 learn with the head (lr x10). CAMs use M of the whole image.
 *
 * <p>C²AM: after the classifier of a round, its CAMs over the training set are averaged into the global CAM G, and the
 * classifier is fine-tuned under BCE on logits aggregated with G; CAMs of that round come from the fine-tuned model.
 */
public final class CausalHooks implements RoundHooks {
    private final Pipeline p;
    private final boolean conta, c2am;
    private final MaskEncoding enc;
    private final ContextAttention.Mode mode;
    private final Map<Integer, ContextAttention> attention = new LinkedHashMap<>();
    private final Map<Integer, Tensor> confounders = new LinkedHashMap<>();

    public CausalHooks(Pipeline p, boolean conta, boolean c2am) {
        this.p = p;
        this.conta = conta;
        this.c2am = c2am;
        Config c = p.cfg;
        int n = p.ds.numClasses();
        int os = ClassifierStage.config(c, n, 0).outputStride();
        int size = c.integer("conta.context_size") > 0 ? c.integer("conta.context_size") : MaskEncoding.grid(c.integer("cls.crop"), os);
        MaskEncoding e = MaskEncoding.of(n, size, size);
        this.enc = switch (c.str("conta.encoding")) {
            case "onehot" -> e;
            case "perclass" -> e.withQuery(MaskEncoding.Query.PER_CLASS);
            default -> throw new UserError("conta.encoding must be onehot or perclass, got " + c.str("conta.encoding"));
        };
        this.mode = switch (c.str("conta.concat")) {
            case "context" -> ContextAttention.Mode.ATTENTION;
            case "mask" -> ContextAttention.Mode.RAW_MASK;
            case "zero" -> ContextAttention.Mode.ZERO;
            case "ones" -> ContextAttention.Mode.ONES;
            default -> throw new UserError("conta.concat must be context, mask, zero or ones, got " + c.str("conta.concat"));
        };
        c.contextBlocks("conta.blocks"); // where M joins (ClassifierStage.config); checked here so a bad value fails at once
        if (!List.of("seg", "pseudo").contains(c.str("conta.confounder_source")))
            throw new UserError("conta.confounder_source must be seg or pseudo, got " + c.str("conta.confounder_source"));
    }

    private boolean on(int t) { return conta && t >= 1; }

    @Override public int contextChannels(int t) { return on(t) ? enc.queryChannels() : 0; }

    /** Where round t's X_m masks come from: round t-1's predictions on the training images (or its pseudo-masks). */
    private Path maskDir(int t) {
        Path prev = p.roundDir(t - 1);
        return p.cfg.str("conta.confounder_source").equals("pseudo") ? prev.resolve("pseudo") : prev.resolve("pred_train");
    }

    @Override
    public Dataset classifierData(int t, Dataset ds) { return on(t) ? new MaskOverride(ds, maskDir(t)) : ds; }

    private ContextAttention attention(int t) {
        return attention.computeIfAbsent(t, k -> {
            int d = p.cfg.integer("conta.embed") > 0 ? p.cfg.integer("conta.embed") : enc.classes();
            ContextAttention a = new ContextAttention(p.backend, enc.classes(), enc.height(), enc.width(), d, mode);
            a.init(p.cfg.integer("seed") + 1000L * t, p.cfg.number("conta.init_std"));
            if (a.w1 != null) { a.w1.name = "context.w1"; a.w2.name = "context.w2"; }
            Path f = p.roundDir(t).resolve("cls").resolve("context.safetensors");
            if (Files.isRegularFile(f)) Checkpoint.load(f, a, null);
            else if (p.isDone(t, "cls")) // else the CAMs would use the untrained init silently
                throw new UserError(f + " is missing although round " + t + "'s cls stage has finished (it holds the trained W1/W2 of the context); "
                        + "rerun with --from " + RunLayout.at(t, "cls") + " to recompute it");
            return a;
        });
    }

    private Tensor confounders(int t) {
        return confounders.computeIfAbsent(t, k -> {
            try {
                HostArray c = ConfounderSet.load(p.roundDir(t).resolve("confounders.npy"), enc);
                return Tensor.of(p.backend, c.data(), c.shape());
            } catch (IOException e) {
                throw new UncheckedIOException("round " + t + " confounder set: " + e.getMessage(), e);
            }
        });
    }

    /** Unsigned label values of mask[off, off + n). */
    private static int[] labels(byte[] mask, int off, int n) {
        int[] lab = new int[n];
        for (int i = 0; i < n; i++) lab[i] = mask[off + i] & 0xFF;
        return lab;
    }

    private float[] query(byte[] mask, int off, int h, int w) {
        return enc.query(enc.classMaps(labels(mask, off, h * w), h, w));
    }

    @Override
    public ClassifierStage.Head classifierHead(int t, ResNet net) {
        if (!on(t)) return ClassifierStage.BASELINE;
        ContextAttention a = attention(t);
        Tensor c = confounders(t);
        return new ClassifierStage.Head() {
            @Override
            public Tensor context(Batch b, Tensor images) {
                List<float[]> qs = new ArrayList<>();
                for (int i = 0; i < b.n(); i++) qs.add(query(b.masks(), i * b.h() * b.w(), b.h(), b.w()));
                return a.forward(Tape.track(enc.batch(p.backend, qs)), c);
            }

            @Override public List<Tensor> params() { return a.trainableParameters(); }

            @Override public Module module() { return a; }
        };
    }

    @Override
    public void afterClassifier(int t, ResNet net) {
        if (on(t)) Checkpoint.save(p.roundDir(t).resolve("cls").resolve("context.safetensors"), attention(t), null,
                new Checkpoint.Position(0, 0, 0), Map.of("stage", "context"));
    }

    @Override
    public HostArray context(int t, String id, Item item) {
        if (!on(t)) return null;
        Path f = maskDir(t).resolve(id + ".png");
        Mask m;
        try {
            m = IndexPng.read(f);
        } catch (IOException e) {
            throw new UncheckedIOException("round " + t + ": predicted mask " + f + ": " + e.getMessage(), e);
        }
        try (Tape tape = Tape.open(false)) {
            Tensor xm = Tape.track(enc.batch(p.backend, List.of(query(m.data(), 0, m.h(), m.w()))));
            Tensor mt = attention(t).forward(xm, confounders(t));
            return new HostArray(new int[]{mt.dim(1), mt.dim(2), mt.dim(3)}, mt.toArray());
        }
    }

    /** What CONTA feeds the classifier for one image, for the report: alpha (queries x classes; null in mask mode) and M. */
    public record ContextView(float[] alpha, int queries, HostArray m) { }

    /** The context of training image id in round t, or null outside CONTA's rounds >= 1. */
    public ContextView contextView(int t, String id) {
        if (!on(t)) return null;
        Path f = maskDir(t).resolve(id + ".png");
        try (Tape tape = Tape.open(false)) {
            Mask m = IndexPng.read(f);
            Tensor xm = Tape.track(enc.batch(p.backend, List.of(query(m.data(), 0, m.h(), m.w()))));
            ContextAttention a = attention(t);
            float[] alpha = a.mode != ContextAttention.Mode.ATTENTION ? null : a.attention(xm, confounders(t)).toArray();
            Tensor mt = a.forward(xm, confounders(t));
            return new ContextView(alpha, mt.dim(1), new HostArray(new int[]{mt.dim(1), mt.dim(2), mt.dim(3)}, mt.toArray()));
        } catch (IOException e) {
            throw new UncheckedIOException("round " + t + ": predicted mask " + f + ": " + e.getMessage(), e);
        }
    }

    /** Images whose alpha and M the mechanism numbers average over (the first ones of the training split). */
    static final int MECHANISM_IMAGES = 100;

    /**
     * What CONTA's context did in each round t >= 1 (issue 17's mechanism questions), for report.json: how far W1 and
     * W2 moved from their seeded init (||W - W0|| / ||W0||); how peaked alpha is (mean over images and queries of its
     * entropy / log n, 1 = uniform, and of its largest weight); how much M differs between images (mean over cells of
     * the standard deviation across images, over the mean |M|); and the classifier's weight on the context channels
     * (mean |w| over the CAM classifier's context inputs, over the mean |w| of its feature inputs). Empty for
     * non-CONTA runs and for rounds whose classifier is not finished.
     */
    public Map<String, Object> mechanism(int rounds) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int t = 1; t < rounds && on(t); t++) {
            Path model = p.roundDir(t).resolve("cls").resolve("model.safetensors");
            if (!Files.isRegularFile(model) || !Files.isDirectory(maskDir(t))) continue;
            Map<String, Object> m = new LinkedHashMap<>();
            ContextAttention a = attention(t);
            if (a.mode == ContextAttention.Mode.ATTENTION) {
                try (ContextAttention init = new ContextAttention(p.backend, a.classes, a.height, a.width, a.embed, a.mode)) {
                    init.init(p.cfg.integer("seed") + 1000L * t, p.cfg.number("conta.init_std"));
                    m.put("w1_change", relChange(a.w1.toArray(), init.w1.toArray()));
                    m.put("w2_change", relChange(a.w2.toArray(), init.w2.toArray()));
                }
            }
            List<String> ids = p.trainIds.subList(0, Math.min(MECHANISM_IMAGES, p.trainIds.size()));
            double entropy = 0, peak = 0;
            long rows = 0;
            float[][] ms = new float[ids.size()][];
            int n = enc.classes();
            for (int i = 0; i < ids.size(); i++) {
                ContextView v = contextView(t, ids.get(i));
                ms[i] = v.m().data();
                if (v.alpha() == null) continue;
                for (int q = 0; q * n < v.alpha().length; q++, rows++) {
                    double h = 0, mx = 0;
                    for (int j = 0; j < n; j++) {
                        double x = v.alpha()[q * n + j];
                        if (x > 0) h -= x * Math.log(x);
                        mx = Math.max(mx, x);
                    }
                    entropy += h / Math.log(n);
                    peak += mx;
                }
            }
            if (rows > 0) {
                m.put("alpha_entropy", entropy / rows);
                m.put("alpha_max", peak / rows);
            }
            m.put("m_spread", spread(ms));
            m.put("images", ids.size());
            try (ResNet net = ClassifierStage.build(p.cfg, p.ds.numClasses(), contextChannels(t), p.backend)) {
                Checkpoint.loadModel(model, net);
                m.put("context_weight", contextWeight(net.camWeight().toArray(), net.camWeight().dim(0), contextChannels(t)));
            }
            out.put("round" + t, m);
        }
        return out;
    }

    /** ||w - w0|| / ||w0||. */
    static double relChange(float[] w, float[] w0) {
        double d = 0, n = 0;
        for (int i = 0; i < w.length; i++) {
            d += (double) (w[i] - w0[i]) * (w[i] - w0[i]);
            n += (double) w0[i] * w0[i];
        }
        return Math.sqrt(d / n);
    }

    /** Mean over cells of the standard deviation across images, over the mean |value| (0 when every image has the same M). */
    static double spread(float[][] ms) {
        if (ms.length < 2) return Double.NaN;
        int len = ms[0].length;
        double sd = 0, mag = 0;
        for (int c = 0; c < len; c++) {
            double s = 0, s2 = 0;
            for (float[] m : ms) {
                s += m[c];
                s2 += (double) m[c] * m[c];
                mag += Math.abs(m[c]);
            }
            double mean = s / ms.length;
            sd += Math.sqrt(Math.max(0, (s2 - ms.length * mean * mean) / (ms.length - 1)));
        }
        mag /= (double) len * ms.length;
        return mag == 0 ? 0 : sd / len / mag;
    }

    /** Mean |w| over the last k input channels of a classes x in (x 1 x 1) weight, over the mean |w| of the others. */
    static double contextWeight(float[] w, int classes, int k) {
        int in = w.length / classes;
        double ctx = 0, feat = 0;
        for (int c = 0; c < classes; c++)
            for (int i = 0; i < in; i++) {
                if (i >= in - k) ctx += Math.abs(w[c * in + i]);
                else feat += Math.abs(w[c * in + i]);
            }
        return (ctx / ((double) classes * k)) / (feat / ((double) classes * (in - k)));
    }

    /** C²AM: global CAM from this round's classifier, then front-door fine-tuning; CAMs use the fine-tuned model. */
    @Override
    public Path classifierForCams(int t, Path clsModel) {
        if (!c2am) return clsModel;
        Path dir = p.roundDir(t).resolve("c2am"), model = dir.resolve("model.safetensors");
        p.stage(t, "c2am", () -> {
            int n = p.ds.numClasses();
            GlobalCam g = new GlobalCam(n, p.cfg.integer("c2am.size"), GlobalCam.DEFAULT_EPS);
            Path gFile = dir.resolve("global_cam.npy");
            try (ResNet net = ClassifierStage.build(p.cfg, n, contextChannels(t), p.backend)) {
                Checkpoint.loadModel(clsModel, net);
                if (!Files.isRegularFile(gFile)) try (conta.infer.PlanCache plans = p.camPlans(net)) { // closed before the fine-tuning below
                    Progress bar = new Progress("C2AM global CAM", p.trainIds.size(), 0);
                    for (String id : p.trainIds) {
                        Item it = p.ds.read(id);
                        CamMaps m = Cams.compute(net, Backbones.input(p.cfg, "cls"), it.image(), it.labels(), p.cfg.numbers("cam.scales"), context(t, id, it),
                                Resampling.parse(p.cfg.str("data.resize"), "data.resize"), plans);
                        boolean[] present = new boolean[n];
                        for (int k : it.labels()) present[k - 1] = true;
                        g.add(new HostArray(new int[]{n, m.h(), m.w()}, m.denseHighRes(n)), present);
                        bar.step(id);
                    }
                    bar.finish();
                    g.save(gFile);
                }
                HostArray gc;
                try {
                    gc = GlobalCam.load(gFile, n);
                } catch (java.nio.file.FileSystemException e) { // a permission: nothing to recompute
                    throw new UserError("cannot read " + gFile + " (" + (e.getReason() == null ? "permission denied" : e.getReason()) + "); make it readable", e);
                } catch (IOException | IllegalArgumentException e) { // kept from an interrupted run of this stage: computed again when absent
                    throw new UserError(e.getMessage() + "; delete it and rerun: the c2am stage computes it again", e);
                }
                FrontDoor fd = new FrontDoor(gc, FrontDoor.Aggregation.valueOf(p.cfg.str("c2am.aggregation").toUpperCase()), p.cfg.number("c2am.lse_r"));
                Config ft = p.cfg.copy();
                ft.set("cls.epochs", p.cfg.str("c2am.epochs"));
                ft.set("cls.lr", p.cfg.str("c2am.lr"));
                ClassifierStage.Head base = classifierHead(t, net);
                ClassifierStage.Head head = new ClassifierStage.Head() {
                    @Override public Tensor context(Batch b, Tensor images) { return base.context(b, images); }

                    @Override public Tensor loss(Tensor logits, Tensor targets) { return fd.loss(logits, targets); }

                    @Override public List<Tensor> params() { return base.params(); }

                    @Override public Module module() { return base.module(); }
                };
                var r = ClassifierStage.train(net, ft, classifierData(t, p.ds), p.trainIds, dir.resolve("checkpoint.safetensors"), head,
                        "round " + t + " C2AM fine-tune");
                afterClassifier(t, net);
                Checkpoint.save(model, net, null, new Checkpoint.Position(r.steps(), 0, 0), p.bundleMeta("cls", net.config, "c2am"));
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("aggregation", p.cfg.str("c2am.aggregation"));
                out.put("class_mean_of_G", toList(fd.classMeans()));
                out.put("steps", r.steps());
                out.put("final_epoch_loss", (double) r.lastEpochLoss());
                return out;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return model;
    }

    private static List<Object> toList(double[] v) {
        List<Object> l = new ArrayList<>();
        for (double d : v) l.add(d);
        return l;
    }

    /** CONTA: after round t, predict the training images and build round t+1's confounder set. */
    @Override
    public void afterRound(int t, Pipeline pl, Path segModel) {
        if (!conta || t + 1 >= pl.rounds) return;
        pl.stage(t + 1, "confounders", () -> {
            Path dir = maskDir(t + 1);
            if (dir.endsWith("pred_train")) pl.predict(segModel, pl.trainIds, dir, "round " + t + " predict train");
            Map<String, Object> m = new LinkedHashMap<>();
            int[] cnt;
            HostArray means;
            try (ConfounderSet cs = new ConfounderSet(enc, pl.backend)) { // class masks and sums on the pipeline's device
                for (String id : pl.trainIds) {
                    Mask mk = IndexPng.read(dir.resolve(id + ".png"));
                    int[] lab = labels(mk.data(), 0, mk.data().length);
                    boolean[] tags = new boolean[enc.classes()];
                    for (int k : pl.ds.labels(id)) tags[k - 1] = true;
                    cs.add(lab, mk.h(), mk.w(), tags);
                }
                cs.save(pl.roundDir(t + 1).resolve("confounders.npy"));
                cnt = cs.counts();
                means = cs.means();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            m.put("source", pl.out().toAbsolutePath().relativize(dir.toAbsolutePath()).toString()); // relative: a report must not depend on where OUT lives
            m.put("size", enc.height() + "x" + enc.width());
            List<Object> counts = new ArrayList<>();
            for (int k : cnt) counts.add(k);
            m.put("images_per_class", counts);
            List<Object> mean = new ArrayList<>();
            int hw = enc.cells();
            for (int k = 0; k < enc.classes(); k++) {
                double s = 0;
                for (int q = 0; q < hw; q++) s += means.data()[k * hw + q];
                mean.add(s / hw);
            }
            m.put("mean_of_c", mean);
            List<Object> empty = new ArrayList<>();
            for (int k = 0; k < cnt.length; k++) // no image of the class, or none where the model predicts it: in class order
                if (cnt[k] == 0 || mean.get(k) instanceof Double d && d == 0.0) empty.add(pl.ds.classNames().get(k + 1));
            m.put("empty_classes", empty);
            if (!empty.isEmpty())
                System.err.println("warning: round " + (t + 1) + " confounder set: c_i is all zero for " + empty + " (the masks of " + dir
                        + " never show them); a weak segmentation model gives a degenerate C - consider conta.confounder_source=pseudo");
            return m;
        });
    }

}
