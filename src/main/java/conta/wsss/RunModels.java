package conta.wsss;

import conta.error.UserError;
import conta.io.Json;
import conta.io.Safetensors;
import conta.models.ResNetConfig;
import conta.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The models inside a pipeline output folder (OUT/roundT/{cls,c2am,irn,seg}/model.safetensors), and the bundle of a
 * model written before bundles existed, rebuilt from the run's config.json (and report.json's class names).
 */
public final class RunModels {
    private RunModels() { }

    /** The stage's model of round (null = the last round that has one); CAMs use C2AM's fine-tuned classifier if any. */
    public static Path find(Path run, String stage, Integer round) {
        if (!Files.isRegularFile(run.resolve("config.json")))
            throw new UserError(run + " is a folder but not a pipeline run (no config.json): give a bundle file or a pipeline --out folder");
        List<String> dirs = switch (stage) {
            case "seg" -> List.of("seg");
            case "cls" -> List.of("c2am", "cls");
            case "irn" -> List.of("irn");
            default -> throw new UserError("--stage must be seg, cls or irn, got " + stage);
        };
        List<Integer> rounds = new ArrayList<>();
        if (round != null) rounds.add(round);
        else for (int t = 64; t >= 0; t--) rounds.add(t);
        for (int t : rounds)
            for (String d : dirs) {
                Path f = run.resolve("round" + t).resolve(d).resolve("model.safetensors");
                if (Files.isRegularFile(f)) return f;
            }
        throw new UserError(run + " has no finished " + stage + " model" + (round == null ? "" : " in round " + round)
                + " (OUT/roundT/" + dirs.getLast() + "/model.safetensors): let the pipeline finish that stage first");
    }

    /** The bundle of a weights file without bundle metadata, from the run folder around it. */
    public static Bundle legacy(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        Path stageDir = abs.getParent(), roundDir = stageDir == null ? null : stageDir.getParent();
        Path run = roundDir == null ? null : roundDir.getParent();
        if (run == null || !Files.isRegularFile(run.resolve("config.json")) || !roundDir.getFileName().toString().matches("round\\d+"))
            throw new UserError(file + " holds weights without a model description (no '" + Bundle.META_KEY + "' metadata) and is not inside a pipeline run "
                    + "(OUT/roundT/STAGE/model.safetensors with OUT/config.json): export it from its run with `conta export`");
        int round = Integer.parseInt(roundDir.getFileName().toString().substring(5));
        String stage = switch (stageDir.getFileName().toString()) {
            case "cls", "c2am" -> "cls";
            case "irn" -> "irn";
            case "seg" -> "seg";
            default -> throw new UserError(file + ": unknown stage folder " + stageDir.getFileName() + " (cls, c2am, irn or seg)");
        };
        Config c = new Config();
        try {
            for (var e : Json.readObject(run.resolve("config.json"), "it is the recipe of the run; restore it from a copy").entrySet()) {
                try {
                    c.set(e.getKey(), String.valueOf(e.getValue()));
                } catch (RuntimeException unknownKey) {
                    // a key this version does not know cannot change the architecture it builds
                }
            }
            List<Safetensors.Entry> entries = Safetensors.entries(file);
            int classes = outputs(entries, stage.equals("seg") ? "aspp.c0.weight" : "classifier.weight", file);
            List<String> names = classNames(run, stage.equals("seg") ? classes : classes + 1);
            int k = 0;
            if (stage.equals("cls") && round > 0 && c.str("method").startsWith("conta")) k = contextChannels(entries, c, classes);
            ModelSpec spec = switch (stage) {
                case "seg" -> SegStage.spec(c, classes);
                case "cls" -> ModelSpec.classifier(ClassifierStage.config(c, classes, k));
                default -> PseudoStage.boundarySpec(c);
            };
            return Bundle.of(c, stage, spec, names);
        } catch (IOException | IllegalArgumentException e) {
            throw new UserError("cannot rebuild the model description of " + file + " from its run " + run + " (" + e.getMessage() + ")");
        }
    }

    private static int outputs(List<Safetensors.Entry> entries, String name, Path file) {
        for (Safetensors.Entry e : entries) if (e.name().equals(name)) return e.shape()[0];
        if (name.startsWith("aspp")) throw new UserError(file + " lacks tensor " + name + ": not a DeepLab model");
        return 1; // the boundary branch has one output
    }

    @SuppressWarnings("unchecked")
    private static List<String> classNames(Path run, int n) throws IOException {
        Path rep = run.resolve("report.json");
        if (Files.isRegularFile(rep)) {
            Object cl = Json.readObject(rep, "restore it, or delete it and rerun the pipeline to write it again").get("classes");
            if (cl instanceof List<?> l && l.size() == n) return ((List<Object>) l).stream().map(String::valueOf).toList();
        }
        List<String> names = new ArrayList<>(List.of("background"));
        for (int i = 1; i < n; i++) names.add("class" + i);
        return names;
    }

    /** CONTA's context channels k of a round >= 1 classifier, from the widened head or first-block convs. */
    private static int contextChannels(List<Safetensors.Entry> entries, Config c, int classes) {
        ResNetConfig rc = ClassifierStage.config(c, classes, 0);
        int[] blocks = c.contextBlocks("conta.blocks");
        for (Safetensors.Entry e : entries) {
            for (int b : blocks) {
                if (b == 5 && e.name().equals("classifier.weight")) return e.shape()[1] - rc.featureChannels();
                if (b < 5 && e.name().equals("layer" + b + ".0.conv1.weight")) return e.shape()[1] - rc.stageOut(b - 2);
            }
        }
        return 0;
    }
}
