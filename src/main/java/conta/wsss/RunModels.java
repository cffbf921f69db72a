package conta.wsss;

import conta.error.UserError;
import conta.io.Json;
import conta.io.RunLayout;
import conta.io.Safetensors;
import conta.models.ResNetConfig;
import conta.config.Config;
import conta.train.Checkpoint;
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

    static final String MODEL = "model.safetensors", DONE = "done.json";

    /**
     * The stage's model of round (null = the newest round where that stage finished); CAMs use C2AM's fine-tuned
     * classifier where its stage finished. Finished means the stage's done.json: a model file is written before its
     * stage's last steps, and a finished stage whose model went missing is an error naming the --from that recomputes
     * it, never a silent fall back to an older round. A run without any done.json (written before done.json existed,
     * or assembled by hand) counts a stage with a model file as finished.
     */
    public static Path find(Path run, String stage, Integer round) {
        requireRun(run);
        List<String> dirs = switch (stage) {
            case "seg" -> List.of("seg");
            case "cls" -> List.of("c2am", "cls");
            case "irn" -> List.of("irn");
            default -> throw new UserError("--stage must be seg, cls or irn, got " + stage);
        };
        if (round != null && round < 0) throw new UserError("--round " + round + ": rounds are numbered from 0");
        List<Integer> all = rounds(run); // newest first
        if (round != null && !all.contains(round)) // not "let the pipeline finish": the round may never come
            throw new UserError(run + " has no round " + round + " (its rounds: " + (all.isEmpty() ? "none" : all.reversed().stream()
                    .map(String::valueOf).collect(java.util.stream.Collectors.joining(", "))) + "); pass one of them, or leave out --round for the newest finished one");
        boolean byDone = anyDone(run);
        for (int t : round != null ? List.of(round) : all)
            for (String d : dirs) {
                Path dir = RunLayout.stageDir(run, t, d), f = dir.resolve(MODEL);
                if (!(byDone ? finished(run, t, d) : Files.isRegularFile(f))) continue;
                if (Files.isRegularFile(f)) return f;
                int tt = t; // the newest other round with an intact finished model, the other way out
                // a CONTA classifier of round >= 1 needs its per-image context for CAMs: only round 0's serves every use
                boolean contextCls = stage.equals("cls") && method(run).startsWith("conta");
                Integer other = all.stream().filter(u -> u != tt && (!contextCls || u == 0) && dirs.stream().anyMatch(e -> intact(run, u, e)))
                        .findFirst().orElse(null);
                throw new UserError(dir + " has finished but its " + MODEL + " is missing; recompute it with " + rerun(run, RunLayout.at(t, d))
                        + (other == null ? "" : ", or pass --round " + other + " for round " + other + "'s model"));
            }
        throw new UserError(run + " has no finished " + stage + " model" + (round == null ? "" : " in round " + round)
                + " (OUT/roundT/" + dirs.getLast() + "/" + MODEL + "): let the pipeline finish that stage first");
    }

    /** The pipeline's stage order within a round (StageRange.STAGES, without the confounder set). */
    private static final List<String> ORDER = List.of("cls", "c2am", "cam", "ir", "irn", "pseudo", "seg", "pred");

    /**
     * Whether round t's stage d finished: its done.json, or a later stage's of the same round (its whole folder was
     * deleted, which must not send the lookup to an older round). C2AM only in runs of a C2AM method.
     */
    private static boolean finished(Path run, int t, String d) {
        Path rd = RunLayout.roundDir(run, t);
        if (Files.isRegularFile(rd.resolve(d).resolve(DONE))) return true;
        if (d.equals("c2am") && !method(run).endsWith("c2am")) return false;
        return ORDER.subList(ORDER.indexOf(d) + 1, ORDER.size()).stream().anyMatch(e -> Files.isRegularFile(rd.resolve(e).resolve(DONE)));
    }

    /** The run's method (config.json), "" when unreadable (its readers report that). */
    private static String method(Path run) {
        try {
            return String.valueOf(Json.readObject(run.resolve("config.json"), "").getOrDefault("method", ""));
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** Whether round u's stage folder e finished and still holds its model. */
    private static boolean intact(Path run, int u, String e) {
        Path dir = RunLayout.stageDir(run, u, e);
        return Files.isRegularFile(dir.resolve(DONE)) && Files.isRegularFile(dir.resolve(MODEL));
    }

    /** Refuses a folder without config.json, telling a run that lost it (round folders) from a folder that is no run. */
    public static void requireRun(Path run) {
        if (Files.isRegularFile(run.resolve("config.json"))) return;
        if (hasRounds(run)) // checked: a rerun without config.json keeps the finished stages and writes it again
            throw new UserError(run + " has round folders but its config.json (the run's recipe) is missing; " + restoreConfig(run, false));
        throw new UserError(run + " is a folder but not a pipeline run (no config.json): give a bundle file or a pipeline --out folder");
    }

    /**
     * How a run gets its config.json back (missing, or damaged: then deleted first): a rerun with the recipe the run's
     * report kept, or without a report with the flags the run was made with; its finished stages are kept.
     */
    public static String restoreConfig(Path run, boolean damaged) {
        String rerun = "`conta pipeline --data " + arg(dataFolder(run)) + " --out " + arg(run.toString());
        String how = Files.isRegularFile(run.resolve("report.json")) // it holds the whole recipe: no flags to remember
                ? rerun + " --config " + arg(run.resolve("report.json").toString()) + "` (the recipe kept in the run's report)"
                : rerun + "` with the --config/--set flags the run was made with";
        return (damaged ? "delete it and rerun " : "rerun ") + how + ": its finished stages are kept and config.json is written again";
    }

    /**
     * How to get back an intact model file: a stage model of a run is recomputed by the pipeline (its --from), any
     * other file copied or exported again.
     */
    public static String fix(Path file) {
        RunLayout.StageFile at = stageModel(file);
        if (at == null) return "replace it with an intact copy, or export it again from its run with `conta export`";
        Path stageDir = file.getParent(), roundDir = stageDir == null ? null : stageDir.getParent();
        Path run = roundDir == null ? null : roundDir.getParent(); // as the user spelt it
        return "recompute it with " + rerun(run != null ? run : at.run(), at.at());
    }

    /** Where file is a run's stage model (RUN/roundT/STAGE/model.safetensors of a training stage), else null. */
    private static RunLayout.StageFile stageModel(Path file) {
        RunLayout.StageFile at = RunLayout.stageOf(file);
        return at != null && file.getFileName().toString().equals(MODEL) && RunLayout.TRAINED_STAGES.contains(at.stage()) ? at : null;
    }

    /** A model file the reader refused: named, with the reader's words and {@link #fix}. */
    public static RuntimeException damaged(Path file, Exception e) {
        if (e instanceof java.nio.file.FileSystemException fs && !(e instanceof java.nio.file.NoSuchFileException)) // a refusal, not damage
            return new UserError("cannot read model " + file + " (" + (fs.getReason() == null ? "permission denied" : fs.getReason())
                    + "); make it readable", e);
        if (e instanceof UserError u) return u; // already says what is wrong and how to fix it
        if (e instanceof conta.io.Safetensors.NotSafetensors n) { // another kind of file: no intact copy of it will load
            return new UserError(file + " is not a conta model (it is " + n.kind + "); " + (stageModel(file) != null ? fix(file) // a run's own: the pipeline writes it again
                    : "give a run folder or the .safetensors that `conta export` writes"), e);
        }
        if (e instanceof RuntimeException r && !(r instanceof IllegalArgumentException) && !(r instanceof java.io.UncheckedIOException))
            return r; // a reader's own bug (FormatError is an IllegalArgumentException): recomputing the file would not help
        return Checkpoint.damaged(file, e, fix(file));
    }

    /** The pipeline command that recomputes stage at (roundT/STAGE) of run and the stages after it (at null: a plain rerun). */
    public static String rerun(Path run, String at) {
        return "`conta pipeline --data " + arg(dataFolder(run)) + " --out " + arg(run.toString()) + " --config "
                + arg(run.resolve("config.json").toString()) + (at == null ? "" : " --from " + at) + "`";
    }

    /**
     * The run's data folder, for the commands an error names: inputs.json's "data"; for runs older than that key, an
     * item's file path relative to the data folder matched with the same file's absolute path in its hash cache; else
     * report.json's "data" (as --data was spelt); the placeholder DATA when none names an existing folder.
     */
    static String dataFolder(Path run) {
        try {
            Path in = run.resolve("inputs.json");
            if (Files.isRegularFile(in)) {
                Map<String, Object> j = Json.parseObject(Files.readString(in));
                if (j.get("data") instanceof String d && Files.isDirectory(Path.of(d))) return d; // written since session 22
                if (j.get("items") instanceof Map<?, ?> items && j.get("file_cache") instanceof Map<?, ?> cache && !items.isEmpty()) {
                    String[] parts = String.valueOf(items.values().iterator().next()).split(" \\| ");
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.*) [0-9]+ [0-9a-f]+").matcher(parts.length > 1 ? parts[1] : "");
                    if (m.matches())
                        for (Object k : cache.keySet()) {
                            String key = String.valueOf(k);
                            if (key.endsWith("/" + m.group(1))) {
                                String root = key.substring(0, key.length() - m.group(1).length() - 1);
                                if (Files.isDirectory(Path.of(root))) return root;
                            }
                        }
                }
            }
            Path rep = run.resolve("report.json");
            if (Files.isRegularFile(rep) && Json.parseObject(Files.readString(rep)).get("data") instanceof String d && Files.isDirectory(Path.of(d)))
                return d;
        } catch (IOException | RuntimeException e) {
            // an unreadable record only costs the data folder's name in a hint
        }
        return "DATA";
    }

    /** A path as one shell word. */
    private static String arg(String s) {
        return s.matches("[A-Za-z0-9_./:=+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    /** Whether run has roundN folders (a pipeline run, even one that lost its config.json). */
    public static boolean hasRounds(Path run) { return !rounds(run).isEmpty(); }

    /** The round numbers of run's roundN folders, newest first. */
    private static List<Integer> rounds(Path run) {
        try {
            return RunLayout.roundDirs(run).stream().map(RunLayout::roundOf).sorted(java.util.Comparator.reverseOrder()).toList();
        } catch (IOException e) {
            throw new UserError("cannot list " + run + " (" + e.getMessage() + "); make it readable");
        }
    }

    /** Whether any stage of run has its done.json (every run since done.json existed has, once a stage finished). */
    private static boolean anyDone(Path run) {
        for (int t : rounds(run))
            try (var s = Files.list(RunLayout.roundDir(run, t))) {
                if (s.anyMatch(d -> Files.isRegularFile(d.resolve(DONE)))) return true;
            } catch (IOException e) {
                throw new UserError("cannot list " + RunLayout.roundDir(run, t) + " (" + e.getMessage() + "); make it readable");
            }
        return false;
    }

    /** The bundle of a weights file without bundle metadata, from the run folder around it. */
    public static Bundle legacy(Path file) {
        RunLayout.StageFile at = RunLayout.stageOf(file);
        Path run = at == null ? null : at.run();
        if (run != null) requireRun(run); // a run that lost its config.json
        if (run == null || !Files.isRegularFile(run.resolve("config.json")))
            throw new UserError(file + " holds weights without a model description (no '" + Bundle.META_KEY + "' metadata) and is not inside a pipeline run "
                    + "(OUT/roundT/STAGE/model.safetensors with OUT/config.json): export it from its run with `conta export`");
        int round = at.round();
        String stage = switch (at.stage()) {
            case "cls", "c2am" -> "cls";
            case "irn" -> "irn";
            case "seg" -> "seg";
            default -> throw new UserError(file + ": unknown stage folder " + at.stage() + " (cls, c2am, irn or seg)");
        };
        Config c = new Config();
        try {
            for (var e : Json.readObject(run.resolve("config.json"), restoreConfig(run, true)).entrySet()) {
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
