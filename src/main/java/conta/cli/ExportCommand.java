package conta.cli;

import conta.error.UserError;
import conta.io.HostArray;
import conta.io.Safetensors;
import conta.tensor.cpu.CpuBackend;
import conta.wsss.Bundle;
import conta.wsss.BundleModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `conta export --run OUT [--round T] --stage seg|cls|irn --out FILE [--format bundle]`: one self-describing model
 * file (docs/bundles.md) from a pipeline run, for `conta predict`, the Java API and the C ABI.
 * `conta export --arch deeplabv2-resnet101 --weights F.pth --out FILE`: the same for a DeepLab-v2 checkpoint trained
 * elsewhere (deeplab-pytorch's layout, the flags of `conta model`), with its class names and input preprocessing.
 */
public final class ExportCommand implements Command {
    private static final List<String> KNOWN = List.of("run", "model", "round", "stage", "out", "format");
    /** The --arch form: conta model's network flags plus the bundle's description. */
    private static final List<String> ARCH_FLAGS = List.of("arch", "weights", "classes", "width", "blocks", "scales", "strict", "seed",
            "names", "input", "out");

    private static final String USAGE = "usage: conta export --run OUT [--round T] --stage seg|cls|irn --out FILE [--format bundle|onnx]\n"
            + "       conta export --model BUNDLE --out FILE [--format bundle|onnx]\n"
            + "       conta export --arch deeplabv2-resnet101 --weights F.pth|F.safetensors [--classes 21] [--names FILE] [--input caffe|imagenet|raw]\n"
            + "                    [--width W] [--blocks 3,4,23,3] [--scales 0.5,0.75] [--seed S] [--strict] --out FILE\n"
            + "  one model file from a pipeline run: a bundle (docs/bundles.md) for conta predict, the Java API and the C ABI, or ONNX;\n"
            + "  --model: a bundle file again (e.g. as ONNX with --format onnx);\n"
            + "  with --arch, a segmentation bundle from a DeepLab-v2 checkpoint (deeplab-pytorch's names; --names: one class name per\n"
            + "  line, background first (or a data set's classes.txt, without it), default class0..; --input: the preprocessing it\n"
            + "  was trained with, default caffe = BGR minus the ImageNet mean as deeplab-pytorch; --scales: the MSC input scales\n"
            + "  besides 1)";

    @Override public String name() { return "export"; }

    @Override public String usage() { return USAGE; }

    @Override public String summary() { return "write a trained model as a self-describing bundle for predict / the APIs, or as ONNX (--format onnx)"; }

    @Override
    public int run(Args a) throws IOException {
        if (a.has("arch")) return fromArch(a);
        List<String> unknown = a.unknown(KNOWN);
        if (!unknown.isEmpty()) throw new UserError("unknown flag --" + unknown.getFirst() + " (export takes --run OUT [--round T] --stage seg|cls|irn --out FILE [--format bundle|onnx])");
        if (!a.has("run") && !a.has("model"))
            throw new UserError("give --run OUT (a pipeline run) or --arch deeplabv2-resnet101 --weights F (a checkpoint trained elsewhere); conta export --help");
        Path src = Path.of(a.has("run") ? a.require("run") : a.require("model"));
        String stage = a.get("stage", "seg");
        Integer round = a.has("round") ? a.getInt("round", 0) : null;
        Path out = Path.of(a.require("out"));
        String format = a.get("format", "bundle");
        if (!List.of("seg", "cls", "irn").contains(stage)) throw new UserError("--stage must be seg, cls or irn, got '" + stage + "'");
        if (!format.equals("bundle") && !format.equals("onnx")) throw new UserError("--format must be bundle or onnx, got '" + format + "'");
        checkOutName(out, format);
        if (format.equals("onnx") && stage.equals("irn"))
            throw new UserError("ONNX export supports --stage seg or cls (as export-onnx), got --stage irn; the boundary branch exports as --format bundle");
        try (BundleModel m = BundleModel.open(src, stage, round, new CpuBackend())) {
            if (format.equals("onnx") && !m.bundle.stage().equals("seg") && !m.bundle.stage().equals("cls"))
                throw new UserError("ONNX export supports seg or cls models; " + m.file + " is a " + stageName(m.bundle.stage())
                        + " model, which has no ONNX export");
            if (format.equals("bundle")) writeBundle(m, out);
            else writeOnnx(m, out);
            stage = m.bundle.stage();
        }
        System.err.println("wrote " + out + " (" + stageName(stage) + ")");
        return 0;
    }

    /** A segmentation bundle from an architecture and a weights file (see the class comment). */
    private static int fromArch(Args a) throws IOException {
        List<String> unknown = a.unknown(ARCH_FLAGS);
        if (!unknown.isEmpty()) throw new UserError("unknown flag --" + unknown.getFirst() + " with --arch (export --arch takes " + String.join(", ", ARCH_FLAGS.stream().map(f -> "--" + f).toList()) + ")");
        if (a.has("out")) checkOutName(Path.of(a.require("out")), "bundle"); // before a checkpoint is read
        String arch = a.require("arch");
        if (!arch.equals("deeplabv2-resnet101"))
            throw new UserError("export --arch makes segmentation bundles: --arch deeplabv2-resnet101 (the backbone depth is --blocks), got '" + arch
                    + "'; a CAM classifier bundle comes from a pipeline run: export --run OUT --stage cls");
        if (!a.has("weights")) throw new UserError("export --arch needs --weights F.pth|F.safetensors (the trained DeepLab-v2)");
        Path out = Path.of(a.require("out"));
        conta.data.Preprocess input;
        try {
            input = conta.data.Preprocess.valueOf(a.get("input", "caffe").toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("--input must be caffe, imagenet or raw, got '" + a.get("input", "") + "'");
        }
        List<String> given = names(a); // read before the network: an empty or missing file is named first
        try (conta.models.Network net = ModelCommand.build(a, new CpuBackend())) {
            conta.models.DeepLabV2 d = (conta.models.DeepLabV2) net;
            List<String> names = classNames(a, given, d.classes());
            conta.wsss.ModelSpec spec = conta.wsss.ModelSpec.deeplab(d.backbone.config, d.classes(), d.scales());
            writeBundle(Bundle.segmentation(spec, names, input, d.scales(), false), d.exportState(), out);
        }
        try (BundleModel m = BundleModel.open(out, "seg", null, new CpuBackend())) { // it must open as it will be used
            System.err.println("wrote " + out + " (DeepLab-v2 segmentation, " + m.bundle.classNames().size() + " classes, input "
                    + m.bundle.input().name().toLowerCase(java.util.Locale.ROOT) + ")");
        }
        return 0;
    }

    /**
     * Refuses, before anything is written, an --out whose name says another format than the one written: a bundle named
     * .onnx/.pth/.pt (it used to be written and then refused as "an ONNX model", the file left behind) or ONNX named
     * .safetensors.
     */
    static void checkOutName(Path out, String format) {
        String other = Bundle.otherFormat(out); // the names a bundle is refused under when read
        if (format.equals("bundle") && other != null)
            throw new UserError("--out " + out + " names " + (other.equals("ONNX") ? "an ONNX" : "a PyTorch") + " file, but export writes a conta bundle "
                    + "(safetensors) here: name it .safetensors" + (other.equals("ONNX") ? ", or add --format onnx (export-onnx with --arch) for ONNX" : ""));
        if (format.equals("onnx") && String.valueOf(out.getFileName()).toLowerCase(java.util.Locale.ROOT).endsWith(".safetensors"))
            throw new UserError("--out " + out + " names a safetensors file, but ONNX is written here: name it .onnx (conta export without --format onnx writes a bundle)");
    }

    /** The class names of --names FILE (one per line, background first, blank lines skipped), or null without --names. */
    private static List<String> names(Args a) throws IOException {
        if (!a.has("names")) return null;
        Path f = Path.of(a.require("names"));
        if (!Files.isRegularFile(f)) throw new UserError("--names " + f + " does not exist (one class name per line, background first)");
        List<String> n = Files.readAllLines(f).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (n.isEmpty()) throw new UserError("--names " + f + " is empty: list one class name per line, background first (or leave out --names for class0, class1, ...)");
        return n;
    }

    /** The --names list n checked against the network's outputs, or class0, class1, ... without --names. */
    private static List<String> classNames(Args a, List<String> n, int classes) {
        if (n == null) return java.util.stream.IntStream.range(0, classes).mapToObj(i -> "class" + i).toList();
        Path f = Path.of(a.require("names"));
        if (!n.isEmpty() && n.size() == classes - 1 && !n.getFirst().replace("_", "").equalsIgnoreCase("background")) { // a data set's classes.txt: background implicit
            System.err.println("note: --names " + f + " lists " + n.size() + " classes without background (as a data set's classes.txt): background is class 0");
            List<String> withBg = new java.util.ArrayList<>(n);
            withBg.addFirst("background");
            return withBg;
        }
        if (n.size() != classes)
            throw new UserError("--names " + f + " lists " + n.size() + " classes, the network has " + classes + " outputs (background first; or --classes N)");
        return n;
    }

    /** The bundle's network as an ONNX model (docs/onnx.md), its bundle description as the model's metadata. */
    static void writeOnnx(BundleModel m, Path out) throws IOException {
        if (!(m.network() instanceof conta.models.Network net))
            throw new UserError("--format onnx: the " + m.bundle.stage() + " model is not an exportable network; export --stage seg or cls");
        Map<String, String> meta = new LinkedHashMap<>(m.bundle.meta()); // conta.bundle: the bundle's JSON description
        meta.put("conta.stage", m.bundle.stage()); // the keys `conta export-onnx` writes, so both exports read alike
        meta.put("conta.input", m.bundle.input().name().toLowerCase(java.util.Locale.ROOT)); // the preprocessing (docs/onnx.md)
        var r = conta.onnx.OnnxExporter.export(net, out, meta);
        System.err.println("onnx: inputs " + r.inputs() + ", outputs " + r.outputs() + ", " + r.nodes() + " nodes" + (r.notes().isEmpty() ? "" : "; " + r.notes()));
        System.err.println(OnnxExportCommand.inputLine(meta.get("conta.input")));
    }

    /** The model's weights (no optimizer state) with its bundle description in the metadata. */
    static void writeBundle(BundleModel m, Path out) throws IOException { writeBundle(m.bundle, m.network().exportState(), out); }

    /** Weights w with bundle b's description in the metadata. */
    private static void writeBundle(Bundle b, Map<String, HostArray> w, Path out) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(b.meta());
        meta.put("stage", b.stage());
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Safetensors.write(out, w, meta);
        if (Bundle.readMeta(out) == null) throw new IllegalStateException("bundle metadata missing from " + out);
    }

    private static String stageName(String s) {
        return switch (s) {
            case "seg" -> "DeepLab-v2 segmentation";
            case "cls" -> "CAM classifier";
            default -> "boundary branch";
        };
    }
}
