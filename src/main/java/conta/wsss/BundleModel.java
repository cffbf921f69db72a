package conta.wsss;

import conta.image.CamMaps;
import conta.error.UserError;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.infer.PlanCache;
import conta.infer.Precision;
import conta.io.HostArray;
import conta.io.RunLayout;
import conta.io.Safetensors;
import conta.models.DeepLabV2;
import conta.models.ResNet;
import conta.nn.Module;
import conta.tensor.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bundle's network with its weights, ready to run on images: segmentation for a DeepLab bundle, CAMs for a
 * classifier bundle, through the same functions as the pipeline's pred/ and cam/ stages. Inference only reads the
 * weights, so one instance serves concurrent callers (each call's tensors live on its own thread's tape).
 */
public final class BundleModel implements AutoCloseable {
    /** Smallest image side: the dataset check's (it refuses the same images, so a run's pred/ is reproducible). */
    public static final int MIN_SIDE = conta.data.Datasets.MIN_SIDE;
    /** Largest image side and pixel count accepted: beyond them activations alone pass tens of GB. */
    public static final int MAX_SIDE = 8192;
    public static final long MAX_PIXELS = 32L << 20;

    /**
     * Whether inference plans serve the CPU (system property conta.infer.plan, default true; the pipeline's key
     * infer.plan): one per input shape, kept for the last PLAN_SHAPES shapes.
     */
    static final boolean PLANS = conta.io.SystemProps.flag("conta.infer.plan", true);
    static final int PLAN_SHAPES = (int) conta.io.SystemProps.count("conta.infer.planShapes", 4);

    public final Bundle bundle;
    public final Path file;
    private final Module net;
    private final PlanCache plans;
    /** The classifier's logits through plans, made on the first classProbabilities call (sharing the CAM plans' weights). */
    private PlanCache scorePlans;

    private BundleModel(Bundle bundle, Path file, Module net, Precision precision) {
        this.bundle = bundle;
        this.file = file;
        this.net = net;
        net.train(false);
        this.plans = !PLANS ? null : bundle.stage().equals("seg")
                ? PlanCache.forBackend(net.backend(), (DeepLabV2) net, PlanCache.Output.FORWARD, precision, PLAN_SHAPES)
                : bundle.needsContext() || !(net instanceof ResNet r) ? null // the boundary branch (irn) runs its graph
                : PlanCache.forBackend(net.backend(), r, PlanCache.Output.CAM, precision, PLAN_SHAPES);
        if (precision == Precision.BF16 && plans == null)
            throw new UserError("precision bf16 runs through inference plans, which serve the CPU backend (and not CONTA classifiers with "
                    + "their context input, nor -Dconta.infer.plan=false); use fp32 here");
    }

    /** The arithmetic of its plans: FP32, or BF16 (bfloat16 weights and activations, f32 accumulation; AUTO resolved). */
    public Precision precision() { return plans == null ? Precision.FP32 : plans.precision(); }

    /** Opens a bundle file, a pre-bundle model file inside its run, or a run folder (its newest finished round's stage model). */
    public static BundleModel open(Path path, String stage, Integer round, Backend b) { return open(path, stage, round, b, Precision.FP32); }

    /** The same with the precision of its inference plans (BF16 / AUTO need the CPU backend). */
    public static BundleModel open(Path path, String stage, Integer round, Backend b, Precision precision) {
        Path file = Bundle.modelFile(path, stage, round);
        Bundle bundle = Bundle.readMeta(file);
        if (bundle == null) bundle = RunModels.legacy(file);
        return load(bundle, file, b, precision);
    }

    /** Opens a bundle file or run folder; a run gives its segmentation model. */
    public static BundleModel open(Path path, Backend b) { return open(path, "seg", null, b); }

    static BundleModel load(Bundle bundle, Path file, Backend b) { return load(bundle, file, b, Precision.FP32); }

    static BundleModel load(Bundle bundle, Path file, Backend b, Precision precision) {
        if (!Files.isRegularFile(file)) throw new UserError("model " + file + " does not exist");
        Map<String, HostArray> w = new LinkedHashMap<>();
        try {
            Safetensors.read(file).forEach((k, v) -> { if (!k.contains("#")) w.put(k, v); }); // momentum of a training checkpoint
        } catch (IOException | RuntimeException e) {
            throw RunModels.damaged(file, e);
        }
        Module net = bundle.spec().build(b, 0);
        try {
            net.loadState(w, true);
        } catch (IllegalArgumentException e) {
            net.close();
            throw new UserError("model " + file + " does not hold the weights its description needs (" + e.getMessage() + ")");
        }
        try {
            return new BundleModel(bundle, file, net, precision);
        } catch (UserError e) {
            net.close();
            throw e;
        }
    }

    /** Refuses images the networks cannot take, naming the limit. */
    public static void checkSize(int w, int h, String what) {
        if (w < MIN_SIDE || h < MIN_SIDE)
            throw new UserError(conta.data.Datasets.tooSmall(what, w, h));
        if (w > MAX_SIDE || h > MAX_SIDE || (long) w * h > MAX_PIXELS)
            throw new UserError(what + " is " + w + "x" + h + " px: larger than " + MAX_SIDE + " px a side or "
                    + conta.image.ImageCodec.millions(MAX_PIXELS) + " million pixels; resize it first");
    }

    public boolean segments() { return bundle.stage().equals("seg"); }

    /** The label map (class index per pixel, background 0), with the bundle's CRF if crf. */
    public Mask segment(RgbImage im, boolean crf) { return segment(im, crf, null); }

    /** The same, the labels written into `into` when it holds exactly the image's pixels and crf is off (see SegStage.predict). */
    public Mask segment(RgbImage im, boolean crf, byte[] into) {
        if (!segments()) throw new UserError(file + " is a " + bundle.stage() + " model; label maps need a segmentation (seg) bundle");
        checkSize(im.w(), im.h(), "the image");
        return SegStage.predict((DeepLabV2) net, bundle.input(), im, crf ? bundle.crf() : null, plans, into);
    }

    /** CAMs of every class (keys 1..C), as the pipeline's cam stage computes them. */
    public CamMaps cams(RgbImage im) {
        requireClassifier("CAMs", im);
        int[] all = new int[bundle.outputs()];
        for (int i = 0; i < all.length; i++) all[i] = i + 1;
        return Cams.compute((ResNet) net, bundle.input(), im, all, bundle.scales(), null, conta.image.Resampling.PIL, plans);
    }

    /**
     * The classifier's probability of each class (index i = class i + 1): the sigmoid of its logits for the image at
     * scale 1, unflipped, as multi-label soft-margin training reads them (a class is predicted where it is >= 0.5).
     */
    public float[] classProbabilities(RgbImage im) {
        requireClassifier("class scores", im);
        ResNet r = (ResNet) net;
        float[] logits;
        PlanCache sp = scorePlans();
        if (sp != null) // the image and its mirror, as the CAM plans run: batch-2 plans pick the CAM plans' weight layouts, so
            // they share their copy of the weights (a batch-1 plan would hold another ~60%); the image's logits are row 0
            logits = java.util.Arrays.copyOf(sp.run(bundle.input().chw(im, true), 2, 3, im.h(), im.w()).data(), bundle.outputs());
        else
            try (conta.autograd.Tape t = conta.autograd.Tape.open(false)) {
                conta.tensor.Tensor x = conta.autograd.Tape.track(conta.tensor.Tensor.of(net.backend(), bundle.input().chw(im, false), 1, 3, im.h(), im.w()));
                logits = conta.autograd.Tape.track(r.forward(x)).toArray();
            }
        float[] p = new float[logits.length];
        for (int i = 0; i < p.length; i++) p[i] = (float) (1 / (1 + Math.exp(-logits[i])));
        return p;
    }

    /** Refuses what (CAMs, class scores) of any model but a classifier without a context input, and an image it cannot take. */
    private void requireClassifier(String what, RgbImage im) {
        if (!bundle.stage().equals("cls")) throw new UserError(file + " is a " + bundle.stage() + " model; " + what + " need a classifier (cls) bundle");
        if (bundle.needsContext())
            throw new UserError(file + " is a CONTA classifier that takes a per-image context map (round >= 1); " + what + " without it are not "
                    + "what it learnt: use round 0's classifier (predict --model " + runOf(file) + " --round 0, or export --run " + runOf(file) + " --stage cls --round 0)");
        checkSize(im.w(), im.h(), "the image");
    }

    /** The forward plans of the classifier where its CAMs run through plans (same precision and weights), else null. */
    private synchronized PlanCache scorePlans() {
        if (scorePlans == null && plans != null) scorePlans = plans.sibling(PlanCache.Output.FORWARD);
        return scorePlans;
    }

    public Backend backend() { return net.backend(); }

    /** The network (ONNX export and tests). */
    public Module network() { return net; }

    @Override
    public void close() {
        synchronized (this) { // the sibling first: it takes its weights from the CAM plans' store
            if (scorePlans != null) scorePlans.close();
        }
        if (plans != null) plans.close();
        net.close();
    }

    /** The run folder a model file of a run lies in (RUN/roundT/STAGE/model.safetensors), or the placeholder RUN. */
    private static String runOf(Path file) {
        RunLayout.StageFile sf = RunLayout.stageOf(file);
        return sf == null ? "RUN" : sf.run().toString();
    }
}
