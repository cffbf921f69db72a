package conta.config;

import conta.error.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The one table of every recipe key: its type, allowed range, default and meaning. {@link Config} checks each value
 * against its row when it is set and the whole set (cross-key rules) before a run starts; {@code --help-config} prints
 * the same rows, so the help and the checks cannot disagree. Upper bounds are generous sanity limits (far above any
 * real recipe) that keep sizes and counts from overflowing before a stage notices.
 */
public final class ConfigKeys {
    /**
     * Keys added after run folders existed, with the value that reproduces the behaviour those folders ran with, so
     * resuming an old folder is checked like any changed key instead of silently mixing behaviours (and a run's old
     * config.json read as --config means what it meant then).
     */
    public static final java.util.Map<String, String> LEGACY = java.util.Map.of("data.resize", "opencv", "infer.plan", "false",
            "infer.plan_context", "false", "irn.plan", "false", "seg.train_bn", "true"); // seg.train_bn: before it, BN was trained

    private ConfigKeys() { }

    /** The words a BOOL key takes for true and for false, in any case. */
    static final List<String> TRUE = List.of("true", "yes", "on", "1"), FALSE = List.of("false", "no", "off", "0");

    /** How a value is read; each kind has its own syntax check. */
    public enum Type { INT, NUM, BOOL, INTS, NUMS, RANGE_INT, RANGE_NUM, SWEEP, CHOICE, WEIGHTS, BLOCKS, DEVICE, NAME, AUTO_INTS }

    /**
     * One key. Numeric bounds apply to the value (INT, NUM) or to every element (INTS, NUMS, RANGE_*, SWEEP);
     * {@code length} > 0 fixes the element count (0: at least one); choices list the words a CHOICE (or the special
     * words a WEIGHTS) key takes.
     */
    public record Key(String name, Type type, String def, double min, boolean minOpen, double max, boolean maxOpen, int length,
                      List<String> choices, String meaning) {

        /** The allowed values in words, for errors and --help-config. */
        public String allowed() {
            return switch (type) {
                case INT -> "an integer" + bounds();
                case NUM -> "a number" + bounds();
                case BOOL -> "true or false (also yes/no, on/off, 1/0)";
                case INTS -> (length > 0 ? length + " comma-separated integers" : "comma-separated integers") + ", each" + bounds();
                case NUMS -> (length > 0 ? length + " comma-separated numbers" : "one or more comma-separated numbers") + ", each" + bounds();
                case RANGE_INT -> "LOW,HIGH integers with LOW <= HIGH, each" + bounds();
                case RANGE_NUM -> "LOW,HIGH numbers with LOW <= HIGH, each" + bounds();
                case SWEEP -> "START:END:STEP with START < END, STEP > 0, at most 10000 steps, each threshold" + bounds();
                case CHOICE -> String.join(" | ", choices);
                case WEIGHTS -> String.join(" | ", choices) + " | the path of an existing .pth/.safetensors/.npz file";
                case BLOCKS -> "2, 3, 4 or 5, a comma-separated list of them such as 3,5, or all";
                case DEVICE -> "cpu | cuda | cuda:N | auto";
                case NAME -> "a split name (letters, digits, _ - .)";
                case AUTO_INTS -> "auto, or " + length + " comma-separated integers, each" + bounds();
            };
        }

        private String bounds() {
            // the int type's own limits go without saying (a value beyond them is not an integer to Java either)
            boolean lo = min != Double.NEGATIVE_INFINITY && min != Integer.MIN_VALUE, hi = max != Double.POSITIVE_INFINITY && max != Integer.MAX_VALUE;
            if (lo && hi) return " in " + (minOpen ? "(" : "[") + fmt(min) + ", " + fmt(max) + (maxOpen ? ")" : "]");
            if (lo) return (minOpen ? " > " : " >= ") + fmt(min);
            if (hi) return (maxOpen ? " < " : " <= ") + fmt(max);
            return "";
        }

        /** Throws a UserError naming the key, the value and the allowed values unless v fits this row. */
        public void check(String v) {
            String why = "";
            if (type == Type.BLOCKS) {
                try {
                    Config.parseBlocks(v);
                    return;
                } catch (NumberFormatException e) {
                    why = "";
                } catch (IllegalArgumentException e) {
                    why = " (" + e.getMessage() + ")";
                }
            } else if (fits(v.strip())) return;
            throw new UserError("config " + name + " = '" + v + "' is not allowed: must be " + allowed() + why + "; " + meaning);
        }

        /**
         * Whether two values of this key mean the same: numbers by value (0.05, 0.050 and 5e-2; 2 and 02), switches by
         * truth (no = false), lists element by element; anything else (words, paths, split names) as written.
         */
        public boolean same(String a, String b) {
            String x = a.strip(), y = b.strip();
            if (x.equals(y)) return true;
            try {
                return switch (type) {
                    case INT -> integer(x) == integer(y);
                    case NUM -> number(x) == number(y);
                    case BOOL -> fits(x) && fits(y) && TRUE.contains(x.toLowerCase(Locale.ROOT)) == TRUE.contains(y.toLowerCase(Locale.ROOT));
                    case INTS, RANGE_INT, AUTO_INTS -> java.util.Arrays.equals(parts(x, ",", true), parts(y, ",", true));
                    case NUMS, RANGE_NUM -> java.util.Arrays.equals(parts(x, ",", false), parts(y, ",", false));
                    case SWEEP -> java.util.Arrays.equals(parts(x, ":", false), parts(y, ":", false));
                    default -> false;
                };
            } catch (RuntimeException e) { // not both numbers (auto against a list, an old folder's value that is no longer valid)
                return false;
            }
        }

        private boolean fits(String v) {
            try {
                return switch (type) {
                    case INT -> inRange(integer(v));
                    case NUM -> inRange(number(v));
                    case BOOL -> TRUE.contains(v.toLowerCase(Locale.ROOT)) || FALSE.contains(v.toLowerCase(Locale.ROOT));
                    case INTS -> list(v, true);
                    case NUMS -> list(v, false);
                    case RANGE_INT, RANGE_NUM -> {
                        double[] d = parts(v, ",", type == Type.RANGE_INT);
                        yield d.length == 2 && d[0] <= d[1] && inRange(d[0]) && inRange(d[1]);
                    }
                    case SWEEP -> {
                        double[] d = parts(v, ":", false);
                        yield d.length == 3 && d[0] < d[1] && d[2] > 0 && (d[1] - d[0]) / d[2] <= 10000 && inRange(d[0]) && inRange(d[1]);
                    }
                    case CHOICE -> choices.contains(v);
                    case WEIGHTS -> choices.contains(v) || !v.isEmpty() && Path.of(v) != null; // the file must exist: checkTogether
                    case BLOCKS -> Config.parseBlocks(v) != null; // check() reports why
                    case DEVICE -> v.matches("cpu|auto|cuda|cuda:[0-9]{1,3}");
                    case NAME -> v.matches("[A-Za-z0-9_.-]+");
                    case AUTO_INTS -> v.equals("auto") || list(v, true);
                };
            } catch (RuntimeException e) { // NumberFormatException, InvalidPathException, a bad block list
                return false;
            }
        }

        private boolean list(String v, boolean ints) {
            double[] d = parts(v, ",", ints);
            if (d.length == 0 || length > 0 && d.length != length) return false;
            for (double x : d) if (!inRange(x)) return false;
            return true;
        }

        private boolean inRange(double x) {
            return (minOpen ? x > min : x >= min) && (maxOpen ? x < max : x <= max);
        }

        /** An integer in ASCII digits: Integer.parseInt also takes other scripts' digits ("３"), which config.json would keep. */
        private static int integer(String s) {
            if (!s.matches("[+-]?[0-9]+")) throw new NumberFormatException(s);
            return Integer.parseInt(s);
        }

        private static double number(String s) {
            double d = Double.parseDouble(s);
            if (!Double.isFinite(d) || s.endsWith("d") || s.endsWith("D") || s.endsWith("f") || s.endsWith("F")) throw new NumberFormatException(s);
            return d;
        }

        private static double[] parts(String v, String sep, boolean ints) {
            String[] p = v.split(sep, -1);
            double[] d = new double[p.length];
            for (int i = 0; i < p.length; i++) d[i] = ints ? integer(p[i].strip()) : number(p[i].strip());
            return d;
        }
    }

    private static final int MAX_INT = Integer.MAX_VALUE;

    private static Key i(String name, String def, double min, double max, String meaning) {
        return new Key(name, Type.INT, def, min, false, max, false, 0, List.of(), meaning);
    }

    /** A number in [min, max] with each end open or closed. */
    private static Key n(String name, String def, double min, boolean minOpen, double max, boolean maxOpen, String meaning) {
        return new Key(name, Type.NUM, def, min, minOpen, max, maxOpen, 0, List.of(), meaning);
    }

    private static Key b(String name, String def, String meaning) {
        return new Key(name, Type.BOOL, def, 0, false, 0, false, 0, List.of(), meaning);
    }

    private static Key ints(String name, String def, int length, double min, double max, String meaning) {
        return new Key(name, Type.INTS, def, min, false, max, false, length, List.of(), meaning);
    }

    private static Key nums(String name, String def, double min, boolean minOpen, double max, String meaning) {
        return new Key(name, Type.NUMS, def, min, minOpen, max, false, 0, List.of(), meaning);
    }

    private static Key t(Type type, String name, String def, double min, boolean minOpen, double max, String meaning) {
        return new Key(name, type, def, min, minOpen, max, false, 0, List.of(), meaning);
    }

    private static Key choice(String name, String def, List<String> choices, String meaning) {
        return new Key(name, Type.CHOICE, def, 0, false, 0, false, 0, choices, meaning);
    }

    private static Key weights(String name, String def, List<String> words, String meaning) {
        return new Key(name, Type.WEIGHTS, def, 0, false, 0, false, 0, words, meaning);
    }

    private static Key text(Type type, String name, String def, String meaning) {
        return new Key(name, type, def, 0, false, 0, false, 0, List.of(), meaning);
    }

    private static final List<String> INPUTS = List.of("auto", "imagenet", "caffe", "raw"); // Preprocess.parse's names
    private static final List<String> RESNETS = conta.models.Models.ARCHS.stream().filter(a -> a.startsWith("resnet")).toList();

    /** Every key in report order, with the reference implementations' defaults. */
    public static final List<Key> ALL = List.of(
        i("seed", "0", Integer.MIN_VALUE, MAX_INT, "random seed of initialisation, shuffling and augmentation"),
        choice("method", "cam", List.of("cam", "conta", "c2am", "conta+c2am"), "cam (IRNet baseline) | conta | c2am | conta+c2am"),
        text(Type.DEVICE, "device", "auto", "cpu | cuda:0 | auto"),
        choice("precision", "fp32", List.of("fp32", "bf16", "auto"), "arithmetic of the convolutions, in training and in the inference plans: fp32 | "
                + "bf16 (CPU only: oneDNN bfloat16 convolutions with f32 accumulation; weights, gradients, BN and the SGD update stay f32) | "
                + "auto (bf16 where the CPU has AMX, else fp32; said once)"),
        text(Type.NAME, "data.train", "train", "split whose image labels train the classifier; CAMs and pseudo-masks are scored on it"),
        text(Type.NAME, "data.val", "val", "held-out split scoring the segmentation model"),
        b("data.skip_bad", "false", "skip unreadable items (listed at the end and in the report) instead of stopping"),
        i("data.workers", "2", 1, 256, "loader threads"),
        choice("data.resize", "pil", List.of("pil", "opencv"), "image rescaling in augmentation and at the CAM scales: pil (Pillow BICUBIC, antialiased when shrinking, NEAREST for labels, as IRNet) | opencv (INTER_AREA/INTER_CUBIC, conta's earlier behaviour)"),
        b("data.force_new", "false", "accept an OUT whose finished stages were made from other data, weights files or conta version (--force-new-data); not part of the recipe"),
        // classifier (IRNet step/train_cam.py)
        choice("cls.arch", "resnet50-os16", RESNETS, "CAM network architecture"),
        i("cls.width", "64", 1, 1024, "ResNet base width (64 = the real ResNet-50)"),
        ints("cls.blocks", "3,4,6,3", 0, 1, 256, "blocks per stage (one number per stage of cls.arch)"),
        ints("cls.strides", "1,2,2,1", 0, 1, 2, "stage strides, one per stage of cls.arch (IRNet: output stride 16)"),
        choice("cls.head_init", "irnet", List.of("irnet", "kaiming"), "classifier init: irnet (PyTorch's default conv init, U(+-1/sqrt(fan_in)), as IRNet) | kaiming (torchvision's fan-out normal)"),
        i("cls.head_seed", "-1", -1, Integer.MAX_VALUE, "seed of the irnet head init; -1 = the run's seed (another value re-draws only the head, a control for CONTA's changed head)"),
        weights("cls.weights", "imagenet", List.of("imagenet", "none"), "imagenet | none (random; refused under frozen BN deeper than one block per stage: use cls.arch=resnet50) | path to a .pth/.safetensors/.npz backbone"),
        choice("cls.input", "auto", INPUTS, "input preprocessing the weights expect: auto (caffe for the npm ImageNet weights, else imagenet) | imagenet (RGB mean/std) | caffe (BGR minus mean, 0..255)"),
        i("cls.crop", "512", 16, 8192, "training crop"),
        t(Type.RANGE_INT, "cls.resize_long", "320,640", 1, false, 16384, "random long-side resize range before cropping"),
        i("cls.batch", "16", 1, 4096, "batch size"),
        i("cls.epochs", "5", 1, 100000, "epochs"),
        n("cls.lr", "0.1", 0, true, 100, false, "backbone learning rate (the head gets lr * cls.head_lr_mult)"),
        n("cls.head_lr_mult", "10", 0, true, 1e4, false, "head learning-rate multiplier"),
        n("cls.weight_decay", "1e-4", 0, false, 1, false, "weight decay"),
        n("cls.momentum", "1e-4", 0, false, 1, true, "SGD momentum; IRNet's PolyOptimizer passes weight_decay where momentum goes, so 1e-4 reproduces it"),
        n("cls.poly_power", "0.9", 0, false, 100, false, "polynomial decay power"),
        i("cls.frozen_stages", "2", 0, 4, "IRNet stages kept frozen (stem+layer1, layer2)"),
        // CAM inference (IRNet step/make_cam.py, eval_cam.py)
        nums("cam.scales", "1.0,0.5,1.5,2.0", 0, true, 8, "inference scales, each with a horizontal flip"),
        n("cam.bg_threshold", "0.15", 0, false, 1, false, "background score for CAM seeds"),
        t(Type.SWEEP, "cam.sweep", "0.05:0.60:0.01", 0, false, 1, "background thresholds swept when scoring CAMs"),
        // IR labels (step/cam_to_ir_label.py)
        n("ir.fg_threshold", "0.30", 0, false, 1, false, "background score for confident foreground"),
        n("ir.bg_threshold", "0.05", 0, false, 1, false, "background score for confident background (at most ir.fg_threshold)"),
        b("ir.crf", "true", "refine both label maps with the dense CRF"),
        i("ir.crf_iters", "10", 0, 1000, "mean-field iterations"),
        n("ir.crf_gt_prob", "0.7", 0, true, 1, true, "unary confidence of the hard labels"),
        // inter-pixel relation network (step/train_irn.py)
        choice("irn.arch", "resnet50", RESNETS, "frozen backbone of the boundary branch"),
        i("irn.width", "64", 1, 1024, "its base width"),
        ints("irn.blocks", "3,4,6,3", 0, 1, 256, "its blocks per stage (one number per stage of irn.arch)"),
        weights("irn.weights", "imagenet", List.of("imagenet", "none", "cls"), "imagenet | none | path | cls (this round's classifier backbone, as trained by its cls stage: before C2AM's fine-tuning)"),
        choice("irn.input", "auto", INPUTS, "input preprocessing (as cls.input; auto follows irn.weights, or cls.input when irn.weights=cls)"),
        i("irn.crop", "512", 16, 8192, "training crop"),
        t(Type.RANGE_NUM, "irn.scale", "0.5,1.5", 0, true, 16, "random rescale range"),
        i("irn.batch", "32", 1, 4096, "batch size"),
        i("irn.epochs", "3", 1, 100000, "epochs"),
        n("irn.lr", "0.1", 0, true, 100, false, "learning rate"),
        n("irn.weight_decay", "1e-4", 0, false, 1, false, "weight decay"),
        n("irn.momentum", "1e-4", 0, false, 1, true, "SGD momentum (IRNet's PolyOptimizer quirk, as cls.momentum)"),
        i("irn.radius", "10", 2, 64, "pair radius of the affinity loss (stride-4 grid; needs irn.crop >= 8 * irn.radius - 7)"),
        // random walk (step/make_sem_seg_labels.py)
        i("rw.radius", "5", 2, 32, "neighbour radius of the walk"),
        n("rw.beta", "10", 0, true, 1000, false, "affinity exponent"),
        i("rw.exp_times", "8", 0, 20, "log2 of the number of walk steps"),
        n("rw.bg_threshold", "0.25", 0, false, 1, false, "background score after the walk"),
        // segmentation (deeplab-pytorch configs/voc12.yaml)
        choice("seg.arch", "deeplabv2-resnet101", List.of("deeplabv2-resnet101"), "segmentation network: DeepLab-v2 (ASPP 6/12/18/24, MSC); its backbone depth is seg.blocks"),
        i("seg.width", "64", 1, 1024, "backbone base width"),
        new Key("seg.blocks", Type.AUTO_INTS, "auto", 1, false, 256, false, 4, List.of(), "backbone blocks per stage; auto = the depth of seg.weights: ResNet-50 (3,4,6,3) for imagenet, the file's depth for a path (ResNet-101 weights give DeepLab-v2's 3,4,23,3), 3,4,23,3 for none"),
        weights("seg.weights", "imagenet", List.of("imagenet", "none"), "imagenet (the npm ImageNet ResNet-50) | none | path to torchvision ResNet-50/101 weights"),
        choice("seg.input", "auto", INPUTS, "input preprocessing (as cls.input; set caffe for DeepLab's Caffe-converted init weights)"),
        i("seg.crop", "321", 16, 8192, "training crop"),
        t(Type.RANGE_NUM, "seg.scale", "0.5,1.5", 0, true, 16, "random rescale range"),
        i("seg.batch", "10", 1, 4096, "batch size"),
        i("seg.iters", "20000", 1, 100_000_000, "training iterations"),
        n("seg.lr", "2.5e-4", 0, true, 100, false, "base learning rate (ASPP weights x10, biases x20)"),
        n("seg.momentum", "0.9", 0, false, 1, true, "SGD momentum"),
        n("seg.weight_decay", "5e-4", 0, false, 1, false, "weight decay"),
        n("seg.poly_power", "0.9", 0, false, 100, false, "polynomial decay power"),
        b("seg.balanced_ce", "false", "class-balanced cross-entropy (weights from pseudo-mask pixel frequencies)"),
        b("seg.train_bn", "false", "also train the backbone's batch-norm scale and shift (deeplab-pytorch's optimiser holds only the convolutions: false)"),
        nums("seg.msc", "0.5,0.75", 0, true, 4, "extra input scales of the MSC training/inference"),
        b("seg.crf", "false", "dense-CRF post-processing of predictions"),
        i("seg.checkpoint_every", "500", 1, MAX_INT, "iterations between checkpoints"),
        // CONTA (issue 5)
        i("conta.rounds", "3", 0, 100, "rounds after the baseline round 0"),
        choice("conta.confounder_source", "seg", List.of("seg", "pseudo"), "seg (segmentation predictions) | pseudo (pseudo-masks)"),
        i("conta.context_size", "0", 0, 1024, "h = w of the confounder masks; 0 = the block-5 grid of the training crop"),
        n("conta.init_std", "0.02", 0, true, 100, false, "standard deviation of W1, W2's normal init (m_t.py: 0.02; at that scale alpha stays uniform "
                + "on the benchmark, README's CONTA section)"),
        i("conta.embed", "0", 0, 65536, "joint embedding size of W1, W2; 0 = number of classes (as the released m_t.py)"),
        choice("conta.encoding", "onehot", List.of("onehot", "perclass"), "X_m from the predicted mask: onehot (class-summed one-hot foreground, one query) | perclass (one query per class map)"),
        choice("conta.head_init", "joint", List.of("joint", "matched"), "the head's init with context channels (cls.head_init=irnet): joint (one "
                + "U(+-1/sqrt(fan_in)) stream over the widened head, as PyTorch; re-draws the feature columns) | matched (the feature columns as the "
                + "same seed's baseline, the context columns from a stream of their own: CONTA paired with its baseline from the same init)"),
        choice("conta.concat", "context", List.of("context", "mask", "zero", "ones"),
                "context (M_t) | mask (raw predicted mask, the paper's ablation) | zero / ones (controls: CONTA's channels, all 0 / all 1)"),
        text(Type.BLOCKS, "conta.blocks", "5", "where M joins the classifier: 5 (block 5 = layer4, before the head), 2 | 3 | 4 (after layer1..3, widening the next layer's first block), a list like 3,5, or all (= 2,3,4,5)"),
        // C2AM
        i("c2am.size", "128", 1, 4096, "side of the global CAM"),
        choice("c2am.aggregation", "mean", List.of("mean", "max", "lse"), "mean | max | lse"),
        n("c2am.lse_r", "1", 0, true, 1e4, false, "log-sum-exp sharpness"),
        i("c2am.epochs", "4", 1, 100000, "fine-tuning epochs"),
        n("c2am.lr", "5e-4", 0, true, 100, false, "fine-tuning learning rate (head x10)"),
        // inference
        b("infer.plan", "true", "run CAMs and predictions through inference plans on the CPU (BN folded, fused oneDNN convolutions; the "
                + "forward's numbers to float rounding, 2-3x faster); false: the training graph's eval forward"),
        b("irn.plan", "true", "run the boundary branch's frozen backbone through inference plans on the CPU, in its training and in the "
                + "random walk's boundary maps (its forward's numbers to float rounding, ~1.3x faster steps); false: the training graph's forward"),
        b("infer.plan_context", "true", "with infer.plan, also plan CONTA's classifiers that read the context map (rounds >= 1); "
                + "false: their CAMs come from the training graph's eval forward, as before this key existed"),
        // report
        i("report.overlays", "8", 0, 10000, "images shown in report.html"),
        b("log.tensorboard", "false", "also write each training stage's per-step scalars as TensorBoard event files (tensorboard --logdir OUT)")
    );

    private static final Map<String, Key> BY_NAME = new LinkedHashMap<>();

    static {
        for (Key k : ALL) {
            if (BY_NAME.put(k.name(), k) != null) throw new IllegalStateException("config key " + k.name() + " is in the table twice");
            k.check(k.def()); // a default outside its own range is a bug in this table
        }
    }

    /** The row of a key, or null. */
    public static Key get(String name) { return BY_NAME.get(name); }

    /**
     * Rules checked on the final values (file, --set and flags together): weights files exist, each stage's blocks
     * and strides match its architecture's stage count, the IR-label thresholds are ordered, and a boundary net that
     * copies the classifier has its layers. Throws the first violation, naming the keys.
     */
    static void checkTogether(Config c) {
        for (Key k : ALL) // a weights path must exist when the run starts (not when a value is set: tests and tools build configs)
            if (k.type() == Type.WEIGHTS && !k.choices().contains(c.str(k.name())) && !Files.isRegularFile(Path.of(c.str(k.name()))))
                throw new UserError("config " + k.name() + " = '" + c.str(k.name()) + "' is not allowed: must be " + k.allowed() + " (no such file); " + k.meaning());
        for (String p : new String[]{"cls", "irn"}) {
            int stages = conta.models.Models.resnetConfig(c.str(p + ".arch")).blocks().length;
            stagesMatch(c, p + ".blocks", p + ".arch", stages);
        }
        stagesMatch(c, "cls.strides", "cls.arch", conta.models.Models.resnetConfig(c.str("cls.arch")).blocks().length);
        if (!c.str("seg.blocks").equals("auto")) stagesMatch(c, "seg.blocks", "seg.arch", 4);
        if (c.number("ir.bg_threshold") > c.number("ir.fg_threshold"))
            throw new UserError("config ir.bg_threshold = " + c.str("ir.bg_threshold") + " is above ir.fg_threshold = " + c.str("ir.fg_threshold")
                    + ": a pixel would be confident background and foreground at once; keep ir.bg_threshold <= ir.fg_threshold");
        checkIrnCrop(c);
        for (String p : new String[]{"cls", "irn", "seg"}) { // one batch of crops is one Java float array
            long floats = (long) c.integer(p + ".batch") * 3 * c.integer(p + ".crop") * c.integer(p + ".crop");
            if (floats > Integer.MAX_VALUE - 8)
                throw new UserError("config " + p + ".batch = " + c.str(p + ".batch") + " crops of " + p + ".crop = " + c.str(p + ".crop") + " px make "
                        + floats + " values in one batch, more than a Java array holds (2^31); lower " + p + ".batch or " + p + ".crop");
        }
        if (c.str("irn.weights").equals("cls")) { // the boundary net loads the classifier's backbone weights: same layers
            // the same layers: equal, or resnet50 and resnet50-os16 (their strides differ only; resnet50-caffe has conv biases)
            Set<String> strideOnly = Set.of("resnet50", "resnet50-os16");
            boolean sameNet = c.str("irn.arch").equals(c.str("cls.arch"))
                    || strideOnly.contains(c.str("irn.arch")) && strideOnly.contains(c.str("cls.arch"));
            for (String k : new String[]{"arch", "width", "blocks"})
                if (!(k.equals("arch") ? sameNet : c.str("irn." + k).replace(" ", "").equals(c.str("cls." + k).replace(" ", ""))))
                    throw new UserError("config irn.weights = cls copies the classifier's backbone, but irn." + k + " = " + c.str("irn." + k)
                            + " differs from cls." + k + " = " + c.str("cls." + k) + "; make them equal, or set irn.weights=imagenet|none|PATH");
        }
    }

    /**
     * The boundary branch trains on pairs within irn.radius on the stride-4 grid of its irn.crop training crops
     * (ceil(crop / 4) cells a side): a pair's source column needs irn.radius - 1 cells on either side, so the grid
     * must be wider than 2 * (irn.radius - 1) cells (PathIndex.sourceCols), i.e. irn.crop >= 8 * irn.radius - 7.
     */
    static void checkIrnCrop(Config c) {
        int r = c.integer("irn.radius"), crop = c.integer("irn.crop"), grid = (crop + 3) / 4;
        if (grid > 2 * (r - 1)) return;
        int minCrop = 8 * r - 7, maxRadius = (grid - 1) / 2 + 1;
        throw new UserError("config irn.crop = " + crop + " is too small for irn.radius = " + r + ": the boundary branch's pairs need a stride-4 grid "
                + "wider than 2 * (irn.radius - 1) = " + 2 * (r - 1) + " cells and irn.crop " + crop + " gives " + grid
                + "; set irn.crop to at least " + minCrop + ", or irn.radius to at most " + maxRadius);
    }

    private static void stagesMatch(Config c, String key, String archKey, int stages) {
        int n = c.str(key).split(",", -1).length;
        if (n != stages)
            throw new UserError("config " + key + " = '" + c.str(key) + "' has " + n + " entries but " + archKey + " = " + c.str(archKey) + " has "
                    + stages + " stages; give one value per stage, e.g. " + key + "=" + get(key).def());
    }

    /** --help-config: one line per key with its current value, allowed values and meaning. */
    static String help(Config c) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-26s %-18s %s%n", "KEY", "VALUE", "MEANING [allowed values]"));
        for (Key k : ALL) sb.append(String.format("%-26s %-18s %s [%s]%n", k.name(), c.str(k.name()), k.meaning(), k.allowed()));
        return sb.toString();
    }

    /** Lines of a config file that set the same key twice: an error naming both lines. */
    static void checkDuplicate(Map<String, Integer> seen, String key, int line, String source) {
        Integer first = seen.putIfAbsent(key, line);
        if (first != null)
            throw new UserError(source + ":" + line + ": " + key + " is set twice (lines " + first + " and " + line + "); keep one of them");
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
