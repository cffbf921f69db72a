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
 */
public final class ExportCommand implements Command {
    private static final List<String> KNOWN = List.of("run", "model", "round", "stage", "out", "format");

    private static final String USAGE = "usage: conta export --run OUT [--round T] --stage seg|cls|irn --out FILE [--format bundle|onnx]\n"
            + "  one model file from a pipeline run: a bundle (docs/bundles.md) for conta predict, the Java API and the C ABI, or ONNX";

    @Override public String name() { return "export"; }

    @Override public String usage() { return USAGE; }

    @Override public String summary() { return "write a trained model as a self-describing bundle (--format bundle) for predict / the API"; }

    @Override
    public int run(Args a) throws IOException {
        List<String> unknown = a.unknown(KNOWN);
        if (!unknown.isEmpty()) throw new UserError("unknown flag --" + unknown.getFirst() + " (export takes --run OUT [--round T] --stage seg|cls|irn --out FILE [--format bundle|onnx])");
        if (!a.has("run") && !a.has("model")) throw new UserError(USAGE);
        Path src = Path.of(a.has("run") ? a.require("run") : a.require("model"));
        String stage = a.get("stage", "seg");
        Integer round = a.has("round") ? a.getInt("round", 0) : null;
        Path out = Path.of(a.require("out"));
        String format = a.get("format", "bundle");
        try (BundleModel m = BundleModel.open(src, stage, round, new CpuBackend())) {
            switch (format) {
                case "bundle" -> writeBundle(m, out);
                case "onnx" -> writeOnnx(m, out);
                default -> throw new UserError("--format must be bundle or onnx, got '" + format + "'");
            }
        }
        System.err.println("wrote " + out + " (" + stageName(stage) + ")");
        return 0;
    }

    /** The bundle's network as an ONNX model (docs/onnx.md), its bundle description as the model's metadata. */
    static void writeOnnx(BundleModel m, Path out) throws IOException {
        if (!(m.network() instanceof conta.models.Network net))
            throw new UserError("--format onnx: the " + m.bundle.stage() + " model is not an exportable network; export --stage seg or cls");
        Map<String, String> meta = new LinkedHashMap<>(m.bundle.meta()); // conta.bundle: the bundle's JSON description
        meta.put("conta.stage", m.bundle.stage()); // as `conta export-onnx` names it
        var r = conta.onnx.OnnxExporter.export(net, out, meta);
        System.err.println("onnx: inputs " + r.inputs() + ", outputs " + r.outputs() + ", " + r.nodes() + " nodes" + (r.notes().isEmpty() ? "" : "; " + r.notes()));
    }

    /** The model's weights (no optimizer state) with its bundle description in the metadata. */
    static void writeBundle(BundleModel m, Path out) throws IOException {
        Map<String, HostArray> w = new LinkedHashMap<>(m.network().exportState());
        Map<String, String> meta = new LinkedHashMap<>(m.bundle.meta());
        meta.put("stage", m.bundle.stage());
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
