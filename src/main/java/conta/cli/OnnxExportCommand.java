package conta.cli;

import conta.error.UserError;
import conta.io.HostArray;
import conta.io.Json;
import conta.io.RunLayout;
import conta.io.Safetensors;
import conta.models.Network;
import conta.models.ResNet;
import conta.models.ResNetConfig;
import conta.onnx.OnnxExporter;
import conta.config.Config;
import conta.tensor.Backend;
import conta.tensor.cpu.CpuBackend;
import conta.train.Checkpoint;
import conta.wsss.Backbones;
import conta.wsss.ClassifierStage;
import conta.wsss.RunModels;
import conta.wsss.SegStage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `conta export-onnx`: writes a network as an ONNX model, either an architecture with a weights file (the flags of
 * `conta model`) or a trained stage of a pipeline run (its config.json and roundT/STAGE/model.safetensors). Temporary
 * home of {@link OnnxExporter} until `conta export --format onnx` takes it.
 */
public final class OnnxExportCommand implements Command {
    private static final List<String> FLAGS = List.of("arch", "weights", "classes", "width", "blocks", "strides", "dilations", "scales",
            "seed", "strict", "run", "stage", "round", "out");

    private static final String USAGE = "usage: conta export-onnx --arch ARCH [--weights FILE] --out F.onnx | --run OUT --stage seg|cls [--round T] --out F.onnx\n"
            + "         with --arch, conta model's network flags: [--classes K] [--width W] [--blocks ...] [--strides ...] [--dilations ...]\n"
            + "                                                   [--scales ...] [--seed S] [--strict]\n"
            + "  an architecture with a weights file, or a trained stage of a pipeline run, as ONNX (opset 17)";

    @Override public String name() { return "export-onnx"; }

    @Override public String usage() { return USAGE; }

    @Override public String summary() { return "write a network (--arch/--weights, or --run OUT --stage seg|cls) as an ONNX model"; }

    @Override
    public int run(Args a) throws Exception {
        List<String> unknown = a.unknown(FLAGS);
        if (!unknown.isEmpty()) throw new UserError("unknown flag --" + unknown.getFirst() + " for 'export-onnx' (known: --" + String.join(", --", FLAGS) + ")");
        if (a.has("run") == a.has("arch"))
            throw new UserError((a.has("run") ? "give --run or --arch, not both" : "give --run OUT --stage seg|cls (a pipeline run) or --arch ARCH --weights F")
                    + "; conta export-onnx --help");
        Path out = Path.of(a.require("out"));
        ExportCommand.checkOutName(out, "onnx"); // ONNX named .safetensors would pass for (and overwrite) a bundle
        Backend b = new CpuBackend();
        Map<String, String> meta = new LinkedHashMap<>();
        try (Network net = a.has("run") ? fromRun(a, b, meta) : ModelCommand.build(a, b)) {
            if (a.has("arch")) meta.put("conta.arch", a.require("arch"));
            OnnxExporter.Result r;
            try {
                r = OnnxExporter.export(net, out, meta);
            } catch (java.nio.file.FileSystemException e) { // its message is the bare path: say what is wrong
                throw new UserError("cannot write " + out + ": " + Errors.fileProblem(e));
            } catch (IOException e) {
                throw new UserError("cannot write " + out + ": " + e.getMessage());
            }
            System.err.println("wrote " + out + " (opset " + OnnxExporter.OPSET + ", " + r.nodes() + " nodes, " + r.weights() + " weights; inputs "
                    + r.inputs() + ", outputs " + r.outputs() + ")");
            System.err.println(inputLine(meta.get("conta.input")));
            r.notes().forEach(n -> System.err.println("note: " + n));
        }
        return 0;
    }

    /**
     * What the exported graph's "image" input wants (preprocessing is not in the graph): named from the model's
     * conta.input, or, for --arch exports, which do not know their weights' training, where to look it up.
     */
    static String inputLine(String input) {
        String shape = "input image: N x 3 x H x W float32, ";
        if (input == null) return shape + "preprocessed as the weights were trained (not recorded for --arch exports; docs/onnx.md)";
        return shape + conta.data.Preprocess.parse(input, "conta.input").describe() + " (metadata conta.input=" + input + "; docs/onnx.md)";
    }

    /** The stage's network of a run, built from its config.json and loaded from its model.safetensors. */
    private static Network fromRun(Args a, Backend b, Map<String, String> meta) throws IOException {
        Path run = Path.of(a.require("run"));
        Path cfgFile = run.resolve("config.json");
        if (!Files.isRegularFile(cfgFile) && !RunModels.hasRounds(run)) // a run that lost its config.json is told apart by requireRun
            throw new UserError("--run " + run + ": no config.json (is it the --out folder of `conta pipeline`?)");
        RunModels.requireRun(run);
        Config cfg = new Config();
        for (var e : Json.readObject(cfgFile, RunModels.restoreConfig(run, true)).entrySet()) {
            try {
                cfg.set(e.getKey(), String.valueOf(e.getValue()));
            } catch (UserError ex) {
                System.err.println("note: " + cfgFile + ": " + ex.getMessage() + "; ignored");
            }
        }
        String stage = a.require("stage");
        if (!stage.equals("seg") && !stage.equals("cls")) throw new UserError("--stage must be seg or cls, got '" + stage + "'");
        // the model conta export and predict take: the newest finished round's (C2AM's classifier where it finished)
        Path model = RunModels.find(run, stage, a.has("round") ? a.getInt("round", 0) : null);
        RunLayout.StageFile at = RunLayout.stageOf(model); // find returns RUN/roundT/STAGE/model.safetensors
        int round = at != null ? at.round() : a.getInt("round", 0);
        Map<String, HostArray> w;
        try {
            w = Safetensors.readAll(model).tensors();
        } catch (IOException | RuntimeException e) {
            throw RunModels.damaged(model, e);
        }
        // the bundle's description (class names, palette, scales), as `conta export --format onnx` writes it: without
        // it a service deploying this file could not name the labels
        conta.wsss.Bundle described = conta.wsss.Bundle.readMeta(model);
        meta.putAll((described != null ? described : RunModels.legacy(model)).meta());
        meta.put("conta.run", run.toAbsolutePath().normalize().toString());
        meta.put("conta.stage", stage);
        meta.put("conta.round", Integer.toString(round));
        meta.put("conta.input", Backbones.input(cfg, stage).name().toLowerCase(java.util.Locale.ROOT));
        Network net;
        if (stage.equals("seg")) {
            HostArray c0 = require(w, "aspp.c0.weight", model);
            net = SegStage.build(cfg, c0.shape()[0], b);
            meta.put("conta.arch", cfg.str("seg.arch"));
        } else {
            HostArray cls = require(w, "classifier.weight", model);
            int classes = cls.shape()[0];
            ResNetConfig plain = ClassifierStage.config(cfg, classes, 0);
            net = ClassifierStage.build(cfg, classes, contextChannels(cfg, plain, w, model), b);
            meta.put("conta.arch", cfg.str("cls.arch"));
        }
        try {
            Checkpoint.load(model, net.module(), null);
        } catch (IllegalStateException e) {
            net.close();
            throw new UserError(e.getMessage());
        } catch (UserError e) { // a damaged or foreign model file, named by Checkpoint
            net.close();
            throw e;
        }
        return net;
    }

    /** CONTA's context channels K, read off the weights: the first context block's conv (or the head) has K extra inputs. */
    private static int contextChannels(Config cfg, ResNetConfig plain, Map<String, HostArray> w, Path model) {
        int first = cfg.contextBlocks("conta.blocks")[0];
        int k = first == 5 ? require(w, "classifier.weight", model).shape()[1] - plain.featureChannels()
                : require(w, "layer" + first + ".0.conv1.weight", model).shape()[1] - plain.stageOut(first - 2);
        if (k < 0) throw new UserError(model + " does not fit config.json's classifier (cls.width / cls.blocks / cls.arch)");
        return k;
    }

    private static HostArray require(Map<String, HostArray> w, String key, Path model) {
        HostArray a = w.get(key);
        if (a == null) throw new UserError(model + " has no tensor " + key + " (not a conta " + (key.startsWith("aspp") ? "seg" : "cls") + " model?)");
        return a;
    }
}
