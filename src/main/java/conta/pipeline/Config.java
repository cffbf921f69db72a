package conta.pipeline;

import conta.cli.Args;
import conta.error.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every recipe value of the pipeline, by key, with the reference implementations' defaults (IRNet for the classifier,
 * CAMs, IR labels and random walk; deeplab-pytorch for segmentation). A config file ({@code key = value} lines, '#'
 * comments) and {@code --set key=value} flags override them; an unknown key or a malformed value is an error naming
 * the key. Values are kept as strings and parsed by the typed getters, so booleans accept only true/false/yes/no/on/off/1/0.
 */
public final class Config {
    /** Keys, defaults and one-line meanings, in report order. */
    static final String[][] DEFAULTS = {
        {"seed", "0", "random seed of initialisation, shuffling and augmentation"},
        {"method", "cam", "cam (IRNet baseline) | conta | c2am | conta+c2am"},
        {"device", "auto", "cpu | cuda:0 | auto"},
        {"data.train", "train", "split whose image labels train the classifier; CAMs and pseudo-masks are scored on it"},
        {"data.val", "val", "held-out split scoring the segmentation model"},
        {"data.skip_bad", "false", "skip unreadable items (listed at the end) instead of stopping"},
        {"data.workers", "2", "loader threads"},
        // classifier (IRNet step/train_cam.py)
        {"cls.arch", "resnet50-os16", "CAM network architecture"},
        {"cls.width", "64", "ResNet base width (64 = the real ResNet-50)"},
        {"cls.blocks", "3,4,6,3", "blocks per stage"},
        {"cls.strides", "1,2,2,1", "stage strides (IRNet: output stride 16)"},
        {"cls.head_init", "irnet", "classifier init: irnet (PyTorch's default conv init, U(+-1/sqrt(fan_in)), as IRNet) | kaiming (torchvision's fan-out normal)"},
        {"cls.weights", "imagenet", "imagenet | none | path to a .pth/.safetensors/.npz backbone"},
        {"cls.input", "auto", "input preprocessing the weights expect: auto (caffe for the npm ImageNet weights, else imagenet) | imagenet (RGB mean/std) | caffe (BGR minus mean, 0..255)"},
        {"cls.crop", "512", "training crop"},
        {"cls.resize_long", "320,640", "random long-side resize range before cropping"},
        {"cls.batch", "16", "batch size"},
        {"cls.epochs", "5", "epochs"},
        {"cls.lr", "0.1", "backbone learning rate (the head gets lr * cls.head_lr_mult)"},
        {"cls.head_lr_mult", "10", "head learning-rate multiplier"},
        {"cls.weight_decay", "1e-4", "weight decay"},
        {"cls.momentum", "1e-4", "SGD momentum; IRNet's PolyOptimizer passes weight_decay where momentum goes, so 1e-4 reproduces it"},
        {"cls.poly_power", "0.9", "polynomial decay power"},
        {"cls.frozen_stages", "2", "IRNet stages kept frozen (stem+layer1, layer2)"},
        // CAM inference (IRNet step/make_cam.py, eval_cam.py)
        {"cam.scales", "1.0,0.5,1.5,2.0", "inference scales, each with a horizontal flip"},
        {"cam.bg_threshold", "0.15", "background score for CAM seeds"},
        {"cam.sweep", "0.05:0.60:0.01", "background thresholds swept when scoring CAMs"},
        // IR labels (step/cam_to_ir_label.py)
        {"ir.fg_threshold", "0.30", "background score for confident foreground"},
        {"ir.bg_threshold", "0.05", "background score for confident background"},
        {"ir.crf", "true", "refine both label maps with the dense CRF"},
        {"ir.crf_iters", "10", "mean-field iterations"},
        {"ir.crf_gt_prob", "0.7", "unary confidence of the hard labels"},
        // inter-pixel relation network (step/train_irn.py)
        {"irn.arch", "resnet50", "frozen backbone of the boundary branch"},
        {"irn.width", "64", "its base width"},
        {"irn.blocks", "3,4,6,3", "its blocks per stage"},
        {"irn.weights", "imagenet", "imagenet | none | path | cls (this round's classifier backbone)"},
        {"irn.input", "auto", "input preprocessing (as cls.input; auto follows irn.weights, or cls.input when irn.weights=cls)"},
        {"irn.crop", "512", "training crop"},
        {"irn.scale", "0.5,1.5", "random rescale range"},
        {"irn.batch", "32", "batch size"},
        {"irn.epochs", "3", "epochs"},
        {"irn.lr", "0.1", "learning rate"},
        {"irn.weight_decay", "1e-4", "weight decay"},
        {"irn.momentum", "1e-4", "SGD momentum (IRNet's PolyOptimizer quirk, as cls.momentum)"},
        {"irn.radius", "10", "pair radius of the affinity loss (stride-4 grid)"},
        // random walk (step/make_sem_seg_labels.py)
        {"rw.radius", "5", "neighbour radius of the walk"},
        {"rw.beta", "10", "affinity exponent"},
        {"rw.exp_times", "8", "log2 of the number of walk steps"},
        {"rw.bg_threshold", "0.25", "background score after the walk"},
        // segmentation (deeplab-pytorch configs/voc12.yaml)
        {"seg.arch", "deeplabv2-resnet101", "segmentation network"},
        {"seg.width", "64", "backbone base width"},
        {"seg.blocks", "3,4,23,3", "backbone blocks per stage"},
        {"seg.weights", "imagenet", "imagenet | none | path (ImageNet ResNet-50/101 backbone)"},
        {"seg.input", "auto", "input preprocessing (as cls.input; set caffe for DeepLab's Caffe-converted init weights)"},
        {"seg.crop", "321", "training crop"},
        {"seg.scale", "0.5,1.5", "random rescale range"},
        {"seg.batch", "10", "batch size"},
        {"seg.iters", "20000", "training iterations"},
        {"seg.lr", "2.5e-4", "base learning rate (ASPP weights x10, biases x20)"},
        {"seg.momentum", "0.9", "SGD momentum"},
        {"seg.weight_decay", "5e-4", "weight decay"},
        {"seg.poly_power", "0.9", "polynomial decay power"},
        {"seg.balanced_ce", "false", "class-balanced cross-entropy (weights from pseudo-mask pixel frequencies)"},
        {"seg.msc", "0.5,0.75", "extra input scales of the MSC training/inference"},
        {"seg.crf", "false", "dense-CRF post-processing of predictions"},
        {"seg.checkpoint_every", "500", "iterations between checkpoints"},
        // CONTA (issue 5)
        {"conta.rounds", "3", "rounds after the baseline round 0"},
        {"conta.confounder_source", "seg", "seg (segmentation predictions) | pseudo (pseudo-masks)"},
        {"conta.context_size", "0", "h = w of the confounder masks; 0 = the block-5 grid of the training crop"},
        {"conta.embed", "0", "joint embedding size of W1, W2; 0 = number of classes (as the released m_t.py)"},
        {"conta.encoding", "onehot", "X_m from the predicted mask: onehot (class-summed one-hot foreground, one query) | perclass (one query per class map)"},
        {"conta.concat", "context", "context (M_t) | mask (raw predicted mask, the paper's ablation)"},
        {"conta.blocks", "5", "where M joins the classifier: 5 (block 5 = layer4, before the head), 2 | 3 | 4 (after layer1..3, widening the next layer's first block), a list like 3,5, or all (= 2,3,4,5)"},
        // C2AM
        {"c2am.size", "128", "side of the global CAM"},
        {"c2am.aggregation", "mean", "mean | max | lse"},
        {"c2am.lse_r", "1", "log-sum-exp sharpness"},
        {"c2am.epochs", "4", "fine-tuning epochs"},
        {"c2am.lr", "5e-4", "fine-tuning learning rate (head x10)"},
        // report
        {"report.overlays", "8", "images shown in report.html"},
        // logs
        {"log.tensorboard", "false", "also write each training stage's per-step scalars as TensorBoard event files (tensorboard --logdir OUT)"},
    };

    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> meaning = new LinkedHashMap<>();

    public Config() {
        for (String[] d : DEFAULTS) {
            values.put(d[0], d[1]);
            meaning.put(d[0], d[2]);
        }
    }

    /** Defaults, then the file of --config (if any), then each --set key=value. */
    public static Config fromArgs(Args a) {
        Config c = new Config();
        String file = a.get("config", null);
        if (file != null) c.load(Path.of(file));
        c.applySets(a.all("set"));
        return c;
    }

    /** Applies --set key=value flags in order. */
    public void applySets(List<String> kvs) {
        for (String kv : kvs) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new UserError("--set expects key=value, got '" + kv + "'");
            set(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
    }

    public void load(Path file) {
        try {
            load(Files.readAllLines(file), file.toString());
        } catch (IOException e) {
            throw new UserError("cannot read config " + file + ": " + e.getMessage());
        }
    }

    /** key = value lines ('#' comments); source names them in errors. */
    public void load(List<String> lines, String source) {
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            int hash = l.indexOf('#');
            if (hash >= 0) l = l.substring(0, hash).strip();
            if (l.isEmpty()) continue;
            int eq = l.indexOf('=');
            if (eq <= 0) throw new UserError(source + ":" + (i + 1) + ": expected key = value, got '" + lines.get(i) + "'");
            try {
                set(l.substring(0, eq).strip(), l.substring(eq + 1).strip());
            } catch (UserError e) {
                throw new UserError(source + ":" + (i + 1) + ": " + e.getMessage());
            }
        }
    }

    public void set(String key, String value) {
        if (!values.containsKey(key)) throw new UserError("unknown config key '" + key + "'" + suggest(key) + "; `conta pipeline --help-config` lists them");
        values.put(key, value);
        validate(key);
    }

    private void validate(String key) {
        String d = null;
        for (String[] e : DEFAULTS) if (e[0].equals(key)) d = e[1];
        String v = values.get(key);
        if (d == null) return;
        if (key.equals("conta.blocks")) { contextBlocks(key); return; }
        if (d.equals("true") || d.equals("false")) bool(key);
        else if (d.matches("-?[0-9]+")) integer(key);
        else if (d.matches("-?[0-9.]+(e-?[0-9]+)?")) number(key);
        else if (d.matches("[0-9.]+(,[0-9.]+)+") && d.contains(".")) numbers(key);
        else if (d.matches("[0-9]+(,[0-9]+)+")) ints(key);
        else if (v.isEmpty()) throw new UserError("config " + key + " is empty");
    }

    private String suggest(String key) {
        String tail = key.contains(".") ? key.substring(key.lastIndexOf('.') + 1) : key;
        List<String> near = new ArrayList<>();
        for (String k : values.keySet()) if (k.endsWith("." + tail) || k.startsWith(key)) near.add(k);
        return near.isEmpty() ? "" : " (did you mean " + String.join(" or ", near) + "?)";
    }

    public String str(String key) {
        String v = values.get(key);
        if (v == null) throw new IllegalArgumentException("no config key " + key);
        return v;
    }

    public int integer(String key) {
        try {
            return Integer.parseInt(str(key));
        } catch (NumberFormatException e) {
            throw new UserError("config " + key + " must be an integer, got '" + str(key) + "'");
        }
    }

    public double number(String key) {
        try {
            double d = Double.parseDouble(str(key));
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new UserError("config " + key + " must be a finite number, got '" + str(key) + "'");
        }
    }

    public boolean bool(String key) {
        return switch (str(key).toLowerCase()) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new UserError("config " + key + " must be true or false, got '" + str(key) + "'");
        };
    }

    public double[] numbers(String key) {
        try {
            return Arrays.stream(str(key).split(",")).map(String::strip).mapToDouble(Double::parseDouble).toArray();
        } catch (NumberFormatException e) {
            throw new UserError("config " + key + " must be comma-separated numbers, got '" + str(key) + "'");
        }
    }

    public int[] ints(String key) {
        try {
            return Arrays.stream(str(key).split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new UserError("config " + key + " must be comma-separated integers, got '" + str(key) + "'");
        }
    }

    /**
     * CONTA block numbers (2..5: layer1..layer4's outputs) where the context map joins: "5", "3", a comma list such as
     * "3,5", or "all" (2, 3, 4, 5). Sorted; an error naming the key for anything else.
     */
    public int[] contextBlocks(String key) {
        String v = str(key).strip();
        String err = "config " + key + " must be 2, 3, 4 or 5 (CONTA's blocks layer1..layer4), a comma-separated list of them such as 3,5, or all; got '" + v + "'";
        if (v.equalsIgnoreCase("all")) return new int[]{2, 3, 4, 5};
        int[] b;
        try {
            b = Arrays.stream(v.split(",", -1)).map(String::strip).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new UserError(err);
        }
        try {
            return conta.models.ResNetConfig.checkContextBlocks(b);
        } catch (IllegalArgumentException e) {
            throw new UserError(err + " (" + e.getMessage() + ")");
        }
    }

    /** All values, for report.json. */
    public Map<String, String> asMap() { return new LinkedHashMap<>(values); }

    /** Values that differ from the defaults, as key = value lines. */
    public String help() {
        StringBuilder sb = new StringBuilder();
        for (String[] d : DEFAULTS) sb.append(String.format("%-26s %-18s %s%n", d[0], values.get(d[0]), d[2]));
        return sb.toString();
    }

    /** A copy with the same values. */
    public Config copy() {
        Config c = new Config();
        c.values.putAll(values);
        return c;
    }
}
