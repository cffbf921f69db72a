package conta.pipeline;

import conta.config.Config;
import conta.infer.PlanCache;
import conta.infer.Precision;
import conta.error.UserError;
import conta.data.Dataset;
import conta.data.Datasets;
import conta.data.Item;
import conta.data.MaskOverride;
import conta.eval.EvalResult;
import conta.eval.Evaluator;
import conta.eval.GroundTruth;
import conta.image.CamMaps;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.io.Json;
import conta.io.RunLayout;
import conta.models.DeepLabV2;
import conta.models.ResNet;
import conta.tensor.Backend;
import conta.train.Checkpoint;
import conta.train.Progress;
import conta.train.Trainer;
import conta.wsss.Backbones;
import conta.wsss.Cams;
import conta.wsss.ClassifierStage;
import conta.wsss.PseudoStage;
import conta.wsss.SegStage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * The WSSS pipeline over one output folder: classifier -> CAMs and seeds -> IR labels -> boundary branch -> random walk
 * pseudo-masks -> DeepLab-v2 -> predictions, each stage scored as the papers do. Every stage writes its artifacts under
 * OUT/roundT/STAGE/ and a done.json with its metrics; a rerun skips finished stages, skips per-image outputs already
 * written, and resumes training from the last checkpoint, so a killed run ends with the same report.
 */
public final class Pipeline implements AutoCloseable {
    final Config cfg;
    final Path out;
    final Dataset ds;
    final Backend backend;
    final List<String> trainIds, valIds;
    final GroundTruth gtTrain, gtVal;
    /** Optional hook that adds method-specific behaviour (CONTA context, C2AM) to a round. */
    RoundHooks hooks = RoundHooks.NONE;
    /** Rounds of this run (1 + T for CONTA). */
    int rounds = 1;
    /** --until: the stage (resolved round) after which the run stops, or null. */
    StageRange.Point stopAfter;
    /** Told of every stage this run finished (not one it found done), with its metrics: Methods refreshes report.html. */
    StageListener onStageFinished;

    /** See {@link #onStageFinished}. */
    interface StageListener {
        void finished(int round, String stage, Map<String, Object> metrics);
    }
    /** Stage metrics of the round in progress, so a stop can report the stages it finished. */
    Map<String, Object> current = new LinkedHashMap<>();

    /** Thrown after the --until stage has finished (or was found finished); Methods.run ends the run there. */
    static final class Stopped extends RuntimeException {
        Stopped() { super(null, null, false, false); }
    }

    /** The weights keys whose random-weights warning this run has printed (once a run, not once a round). */
    final java.util.Set<String> warned = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Items left out under --skip-bad (up front and mid-run), each once. */
    final BadItems bad = new BadItems();
    /** The run's dataset, weights and per-stage versions (OUT/inputs.json). */
    final RunInputs inputs;
    /** OUT/run.lock, held from the first write until {@link #close}. */
    private final RunLock lock;

    /**
     * Checks everything before any stage runs: the whole config (nothing is written for an invalid one), the data
     * (every item, or skipped under data.skip_bad), the weights files, then that OUT's finished work came from this
     * config and these inputs; only then are config.json and inputs.json written.
     */
    public Pipeline(Config cfg, Path data, Path out, Backend backend) { this(cfg, data, out, backend, null); }

    /**
     * The same, then --from: the outputs of stage {@code from} and of every later one are removed once every check
     * has passed (a refused run removes nothing), and the stages they come from do not count as finished in the
     * checks. A refused run writes nothing: an OUT it had to create for its lock is removed again.
     */
    Pipeline(Config cfg, Path data, Path out, Backend backend, StageRange.Point from) {
        cfg.validate();
        this.cfg = cfg;
        this.out = out;
        this.backend = backend;
        this.from = from;
        refuseOutInData(data, out);
        boolean skip = cfg.bool("data.skip_bad");
        Dataset raw = Datasets.open(data, skip);
        Datasets.Checked tr = Datasets.check(raw, raw.ids(cfg.str("data.train")), skip);
        Datasets.Checked va = Datasets.check(raw, raw.ids(cfg.str("data.val")), skip);
        tr.bad().forEach(bad::add); // the opening's skipped entries are in both lists: BadItems keeps each once
        va.bad().forEach(bad::add);
        if (!bad.list().isEmpty())
            System.err.println("note: --skip-bad leaves out " + bad.list().size() + " bad item(s); they are listed at the end of the run and in the report");
        this.ds = bad.watch(raw);
        this.trainIds = tr.ids().stream().filter(id -> ds.labels(id).length > 0).toList();
        this.valIds = va.ids();
        if (trainIds.isEmpty()) throw new UserError("split " + cfg.str("data.train") + " of " + data + " has no labelled images");
        noteUnseen(tr.ids().size() - trainIds.size(), cfg.str("data.train"));
        if (valIds.isEmpty()) // the report would only say "no ground-truth masks"
            System.err.println("note: split " + cfg.str("data.val") + " of " + data + " has no images: the segmentation model is trained but not"
                    + " scored on held-out images; set data.val to a split with images to score it");
        this.gtTrain = gt(cfg.str("data.train"), trainIds);
        this.gtVal = gt(cfg.str("data.val"), valIds);
        boolean segDepthFromFile = cfg.str("seg.blocks").strip().equalsIgnoreCase("auto");
        if (!segDepthFromFile) SegStage.blocks(cfg); // contradicting seg.* keys fail now, not hours later
        ClassifierStage.checkFromScratch(cfg);
        // an unreadable or unfitting weights file fails now, not after the stages before its own; unless no stage loads it again
        // (read-only: OUT's done.json files; the lock below refuses a concurrent run anyway). Under seg.blocks=auto every
        // build of the segmentation network (predictions, CONTA's pred_train, the report's) reads seg.weights for its depth.
        int n = Methods.rounds(cfg);
        WeightsCheck.run(cfg, ds.numClasses(), key -> key.equals("seg.weights") && segDepthFromFile
                || IntStream.range(0, n).anyMatch(t -> !isDone(t, key.substring(0, key.indexOf('.')))));
        List<String> used = new ArrayList<>(trainIds);
        used.addAll(valIds);
        Path created = firstMissing(out);
        this.lock = RunLock.acquire(out); // before anything in OUT is read for comparison or written
        try {
            this.inputs = RunInputs.of(raw, used, cfg, out);
            inputs.checkAgainstOut(cfg.bool("data.force_new"), this::cleared);
            Map<String, String> recipe = checkConfig();
            checkDoneFiles();
            checkStageWeights();
            if (from != null) StageRange.clear(out, from, System.err); // every check passed: only now is anything removed
            writeConfig(recipe);
            inputs.write();
        } catch (RuntimeException e) {
            lock.close();
            removeCreated(out, created);
            throw e;
        }
        conta.train.TrainLog.tensorboard(cfg.bool("log.tensorboard"));
    }

    /** --from of this run (round resolved), or null. */
    private final StageRange.Point from;

    /** Whether --from removes the outputs of stage {@code stage} of folder {@code round} (e.g. "round0/cls") before the run. */
    boolean cleared(String roundStage) {
        int slash = roundStage.indexOf('/'), t = slash > 0 ? RunLayout.roundOf(roundStage.substring(0, slash)) : -1;
        return t >= 0 && cleared(t, roundStage.substring(slash + 1));
    }

    private boolean cleared(int r, String stage) {
        if (from == null) return false;
        int i = StageRange.STAGES.indexOf(stage);
        return r > from.round() || r == from.round() && i >= StageRange.STAGES.indexOf(from.stage());
    }

    /** The topmost folder of out that does not exist yet (so a refused run can remove what its lock created), or null. */
    static Path firstMissing(Path out) {
        Path p = out.toAbsolutePath().normalize(), top = null;
        while (p != null && !Files.exists(p)) {
            top = p;
            p = p.getParent();
        }
        return top;
    }

    /** Removes out and its parents up to top, each only while empty: what a refused run created for its lock. */
    static void removeCreated(Path out, Path top) {
        if (top == null) return;
        try {
            for (Path p = out.toAbsolutePath().normalize(); p != null && p.startsWith(top); p = p.getParent()) {
                Files.deleteIfExists(p);
                if (p.equals(top)) break;
            }
        } catch (IOException e) {
            // not empty (something else wrote there meanwhile): left as it is
        }
    }

    /** Releases OUT's lock. */
    @Override
    public void close() { lock.close(); }

    /** Ctrl-C or a TERM: OUT's lock says so (see {@link RunLock#markInterrupted}). */
    void markInterrupted() { lock.markInterrupted(); }

    private GroundTruth gt(String split, List<String> ids) {
        List<String> with = ids.stream().filter(ds::hasMask).toList();
        return with.isEmpty() ? null : new GroundTruth(split, with, ds.classNames(), ds::mask, GroundTruth.maskFolder(ds, with));
    }

    /**
     * OUT may not be the data folder or one of its folders of images or masks (images/, JPEGImages/, masks/,
     * SegmentationClass/, COCO's train2017/ or images/train2017/, ...): the run's files (config.json, round0/,
     * report.html, run.log) would land among the data's, and a later run would read a folder that is no longer the set
     * it named. A folder of its own inside the data folder (my_set/runs/a) is the user's choice.
     */
    static void refuseOutInData(Path data, Path out) {
        Path d = data.toAbsolutePath().normalize(), o = out.toAbsolutePath().normalize();
        if (o.equals(d) || conta.io.SameFile.test(o, d))
            throw new UserError("--out " + out + " is the data folder " + data + ": the run's files would land among the data's; "
                    + "give the run a folder of its own, e.g. --out runs/NAME");
        Path parent = o.getParent();
        boolean inData = parent != null && (parent.equals(d) || parent.getParent() != null && parent.getParent().equals(d));
        if (inData && Files.isDirectory(o) && holdsImages(o))
            throw new UserError("--out " + out + " is a folder of the data's images or masks: the run's files would land among them; "
                    + "give the run a folder of its own, e.g. --out runs/NAME");
    }

    /** Whether a folder directly holds an image file (.jpg, .jpeg, .png, .bmp in any case). */
    private static boolean holdsImages(Path dir) {
        try (var s = Files.list(dir)) {
            return s.anyMatch(f -> f.getFileName().toString().toLowerCase(java.util.Locale.ROOT).matches(".*\\.(jpe?g|png|bmp)") && Files.isRegularFile(f));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Refuses to resume into a folder made with a different recipe where that would mix results: a changed key is
     * accepted only while no stage that uses it has finished (so a NaN in segmentation can be fixed by a lower seg.lr
     * and a rerun), otherwise the error lists the keys and the finished stages.
     */
    private Map<String, String> checkConfig() {
        Path f = out.resolve("config.json");
        Map<String, String> now = cfg.asMap();
        now.remove("device");
        now.remove("data.workers");
        now.remove("report.overlays");
        now.remove("data.force_new");
        now.remove("log.tensorboard");
        // not the recipe: which items a run skips is bound by inputs.json, and the way on after an image went bad
        // mid-run is "rerun with --skip-bad" (with --force-new-data, the changed item named), keeping what is finished
        now.remove("data.skip_bad");
        // precision auto is recorded as what it resolves to here: a run begun in bf16 on an AMX host and resumed with
        // auto on a host without AMX would otherwise finish its later stages in fp32 without a word (hosts of one
        // machine kind differ, and long runs resume on other hosts)
        boolean auto = "auto".equalsIgnoreCase(now.get("precision").strip());
        if (auto) now.put("precision", Precision.AUTO.resolve().name().toLowerCase(java.util.Locale.ROOT));
        try {
            if (Files.isRegularFile(f)) {
                Map<String, Object> old = new LinkedHashMap<>(Json.readObject(f, Files.isRegularFile(out.resolve("report.json"))
                        ? "delete it and rerun with --config " + out.resolve("report.json") + " (the recipe kept in the run's report) to write it again"
                        : "restore it, or delete it to record this run's settings as the recipe (the finished stages are kept without comparing them "
                                + "to it), or use a new --out"));
                conta.config.ConfigKeys.LEGACY.forEach(old::putIfAbsent); // a folder from before a key existed ran with that key's former behaviour
                List<String> diff = new ArrayList<>();
                for (var e : now.entrySet()) {
                    conta.config.ConfigKeys.Key key = conta.config.ConfigKeys.get(e.getKey());
                    // not "one round": conta.rounds=0 is a CONTA run's count, and binds as any
                    boolean unused = e.getKey().equals("conta.rounds") && !Methods.hasContaRounds(cfg.str("method"))
                            || e.getKey().equals("precision") && "auto".equals(String.valueOf(old.get(e.getKey()))); // recorded before it was resolved
                    if (old.containsKey(e.getKey()) && key != null && (unused || key.same(String.valueOf(old.get(e.getKey())), e.getValue()))) {
                        e.setValue(String.valueOf(old.get(e.getKey()))); // the same value written another way: the recipe keeps its spelling
                        continue;
                    }
                    if (old.containsKey(e.getKey()) && !String.valueOf(old.get(e.getKey())).equals(e.getValue())) {
                        if (moreRounds(e.getKey(), String.valueOf(old.get(e.getKey())), e.getValue())) {
                            System.err.println("note: conta.rounds " + old.get(e.getKey()) + " -> " + e.getValue()
                                    + ": the finished rounds are kept (a round does not depend on how many follow it), the run goes on with the next");
                            continue;
                        }
                        String done = finishedUser(e.getKey());
                        if (done != null) diff.add(e.getKey() + " " + old.get(e.getKey()) + " -> " + e.getValue() + " (" + done + " finished"
                                + (auto && e.getKey().equals("precision") ? "; --precision auto is " + e.getValue() + " on this CPU, --precision "
                                        + old.get(e.getKey()) + " goes on as the run began" : "") + ")");
                        else System.err.println("note: " + e.getKey() + " changed " + old.get(e.getKey()) + " -> " + e.getValue()
                                + "; no stage using it has finished" + (from == null ? "" : " or is kept by --from " + from)
                                + ", so the run continues with the new value");
                    }
                }
                if (!diff.isEmpty())
                    throw new UserError(out + " holds a run with another configuration (" + String.join(", ", diff)
                            + "); use a new --out, the same settings to resume it, or --from the first of those stages to redo it and the ones after it");
            }
        } catch (IOException e) {
            throw new UserError("cannot read " + f + " (" + e.getMessage() + "); --out must be a readable folder");
        }
        return now;
    }

    /** Writes OUT/config.json, the recipe the next run is compared with. */
    private void writeConfig(Map<String, String> recipe) {
        Path f = out.resolve("config.json");
        try {
            Files.createDirectories(out);
            conta.io.AtomicWrite.write(f, Json.writePretty(new LinkedHashMap<>(recipe)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UserError("cannot write " + f + " (" + e.getMessage() + "); --out must be a writable folder");
        }
    }

    /** The fix for a damaged roundT/STAGE/done.json: the stage is redone without it. */
    private static String doneFix(String roundStage) {
        return "delete it to redo " + roundStage + " (the finished stages before it are kept), or rerun with --from " + roundStage;
    }

    /**
     * The weights files this run will read back from OUT, checked by their headers: the model of every finished stage
     * that has one, and the training checkpoint of an unfinished stage. A cut-off or foreign file is named with its fix
     * before anything is written or removed, not when a later stage loads it; so is a missing model that a stage of
     * this run will load (a finished run whose models were deleted to save space still makes its report).
     */
    private void checkStageWeights() {
        for (Path r : roundDirs())
            for (String s : StageRange.STAGES) {
                Path dir = r.resolve(s);
                int t = RunLayout.roundOf(r);
                String rn = RunLayout.roundName(t);
                if (cleared(t, s) || !Files.isDirectory(dir)) continue;
                if (!isDone(t, s)) Checkpoint.check(dir.resolve("checkpoint.safetensors"), false);
                else if (LOADED_BY.containsKey(s)) {
                    boolean needed = LOADED_BY.get(s).stream().anyMatch(u -> willRun(t, u));
                    Checkpoint.check(dir.resolve("model.safetensors"), needed);
                    if (!needed && !Files.exists(dir.resolve("model.safetensors"))) // allowed (space), but said: predict/export will refuse it
                        System.err.println("note: " + dir.resolve("model.safetensors") + " is missing (deleted?); this run does not need it, but "
                                + "predict and export of " + rn + " do: --from " + RunLayout.at(t, s) + " recomputes it");
                }
            }
    }

    /** OUT's roundN folders in round order (round10 after round9); none before OUT exists. */
    private List<Path> roundDirs() {
        try {
            return RunLayout.roundDirs(out);
        } catch (IOException e) {
            throw new UserError("cannot list " + out + " (" + e.getMessage() + "); --out must be a readable folder");
        }
    }

    /** The stages that load each stage's model (roundT/STAGE/model.safetensors) of the same round. */
    static final Map<String, List<String>> LOADED_BY = Map.of("cls", List.of("c2am", "cam", "irn"), "c2am", List.of("cam"), "irn", List.of("pseudo"),
            "seg", List.of("pred"));

    /** Whether stage of round t finished: its done.json, unless --from redoes it. */
    boolean isDone(int t, String stage) {
        return Files.isRegularFile(RunLayout.stageDir(out, t, stage).resolve("done.json")) && !cleared(t, stage);
    }

    /** Whether this run will compute stage of round t (not finished, or redone under --from) and it loads its inputs' models. */
    private boolean willRun(int t, String stage) {
        if (stage.equals("c2am") && !cfg.str("method").endsWith("c2am")) return false;
        if (stage.equals("irn") && !cfg.str("irn.weights").equals("cls")) return false; // the only irn that loads the classifier
        return !isDone(t, stage);
    }

    /** Every done.json this run will read back parses (a damaged one is named before anything is written). */
    private void checkDoneFiles() {
        for (Path r : roundDirs())
            for (String s : StageRange.STAGES) {
                Path done = r.resolve(s).resolve("done.json");
                int t = RunLayout.roundOf(r);
                if (Files.isRegularFile(done) && !cleared(t, s)) Json.readObject(done, doneFix(RunLayout.at(t, s)));
            }
    }

    /** More CONTA rounds than a folder was started with: its rounds stay valid, so going on is allowed (ablation Q2). */
    static boolean moreRounds(String key, String before, String now) {
        if (!key.equals("conta.rounds")) return false;
        try {
            return Integer.parseInt(now.trim()) > Integer.parseInt(before.trim());
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * Shapes with a kept plan: CAMs need one per scale (of same-sized images, e.g. the synthetic sets); DeepLab plans
     * hold a ResNet-101's weights each, so fewer are kept.
     */
    static final int CAM_PLAN_SHAPES = 8, SEG_PLAN_SHAPES = 2;

    /**
     * The CAM plans of a loaded classifier (null: infer.plan off, not the CPU, or a classifier with CONTA's context
     * input under infer.plan_context = false).
     */
    PlanCache camPlans(ResNet net) {
        if (!cfg.bool("infer.plan") || net.config.contextChannels() > 0 && !cfg.bool("infer.plan_context")) return null;
        return PlanCache.forBackend(backend, net, PlanCache.Output.CAM, planPrecision(), CAM_PLAN_SHAPES);
    }

    /** The inference plans' arithmetic: the run's precision (auto resolved by the CPU's flags). */
    private Precision planPrecision() { return Precision.parse(cfg.str("precision")).resolve(); }

    /** The first finished stage (roundT/STAGE) whose result depends on the key, or null. */
    private String finishedUser(String key) throws IOException {
        String prefix = key.substring(0, key.indexOf('.') < 0 ? key.length() : key.indexOf('.'));
        if (key.equals("infer.plan_context")) return finishedContextCams(); // round 0's classifier has no context
        List<String> users = key.equals("irn.plan") ? List.of("irn", "pseudo") : switch (prefix) {
            case "cls" -> List.of("cls", "c2am");
            case "cam" -> List.of("cam", "c2am");
            case "ir" -> List.of("ir");
            case "irn" -> List.of("irn");
            case "rw" -> List.of("pseudo");
            case "seg" -> List.of("seg", "pred", "confounders");
            case "c2am" -> List.of("c2am");
            case "infer" -> List.of("cam", "c2am", "pred");
            default -> null; // seed, method, data, conta: everything depends on them
        };
        if (users != null) users = StageRange.STAGES.stream().filter(users::contains).toList(); // pipeline order: the first to redo
        for (Path r : RunLayout.roundDirs(out)) {
            int t = RunLayout.roundOf(r);
            if (users == null) {
                if (Files.isDirectory(r.resolve("cls")) && !cleared(t, "cls")) return RunLayout.at(t, "cls");
                continue;
            }
            for (String u : users)
                if (Files.isRegularFile(r.resolve(u).resolve("done.json")) && !cleared(t, u)) return RunLayout.at(t, u);
        }
        return null;
    }

    /** The first finished cam stage of a round >= 1 (where the classifier reads CONTA's context), or null. */
    private String finishedContextCams() {
        for (int t = 1; Files.isDirectory(roundDir(t)); t++)
            if (Files.isRegularFile(roundDir(t).resolve("cam").resolve("done.json")) && !cleared(t, "cam")) return RunLayout.at(t, "cam");
        return null;
    }

    /**
     * Says what the training split leaves the classifier blind to, which a user's own labels can do silently: images
     * without labels (left out of training and the CAMs) and classes no training image has (the classifier never sees
     * them: their CAMs and IoU stay empty).
     */
    private void noteUnseen(int unlabelled, String split) {
        if (unlabelled > 0)
            System.err.println("note: " + unlabelled + " image(s) of split " + split + " have no labels: the classifier and the CAMs leave them out");
        boolean[] seen = new boolean[ds.numClasses() + 1];
        for (String id : trainIds) for (int c : ds.labels(id)) if (c > 0 && c < seen.length) seen[c] = true;
        List<String> never = new ArrayList<>();
        for (int c = 1; c < seen.length; c++) if (!seen[c]) never.add(ds.classNames().get(c));
        if (!never.isEmpty())
            System.err.println("warning: no image of split " + split + " has class " + String.join(", ", never.subList(0, Math.min(8, never.size())))
                    + (never.size() > 8 ? " and " + (never.size() - 8) + " more" : "")
                    + ": the classifier never sees " + (never.size() == 1 ? "it" : "them") + " (empty CAMs and IoU); label some images or drop "
                    + (never.size() == 1 ? "the class" : "those classes") + " from the class list");
    }

    public Path roundDir(int t) { return RunLayout.roundDir(out, t); }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    /**
     * A finished stage's metrics (its done.json); read directly for a stage that ran earlier in this round's code
     * (C²AM's, the confounder set), so that it is not announced "done" a second time.
     */
    private Map<String, Object> ranAlready(int round, String name) {
        return Json.readObject(roundDir(round).resolve(name).resolve("done.json"), doneFix(RunLayout.at(round, name)));
    }

    /** Whether --until stops the run after this stage. */
    private boolean stopsAfter(int round, String name) {
        return stopAfter != null && stopAfter.round() == round && stopAfter.stage().equals(name);
    }

    /** Runs (or finishes) stage name: its done.json holds the metrics; an existing one means it is finished. */
    Map<String, Object> stage(int round, String name, Supplier<Map<String, Object>> body) {
        Path done = roundDir(round).resolve(name).resolve("done.json");
        try {
            Map<String, Object> m;
            if (Files.isRegularFile(done)) {
                System.err.println("round " + round + " " + name + ": done (" + done + ")");
                m = ranAlready(round, name);
            } else {
                boolean resumed = Files.isDirectory(done.getParent()) && !isEmpty(done.getParent()); // an earlier run's part: a checkpoint, images
                Files.createDirectories(done.getParent());
                try (StageClock clock = StageClock.start(done.getParent(), resumed)) { // the stage's seconds over every run that worked on it
                    try {
                        m = new LinkedHashMap<>(body.get());
                    } catch (conta.train.Diverged d) { // its checkpoints hold run-away weights: name the --from that starts the stage again
                        throw d.redoStage() ? d.withRedo("rerun with --from " + RunLayout.at(round, name)) : d;
                    }
                    m.put("seconds", clock.total());
                    // an earlier run's part went unrecorded (a folder begun by an older conta): the sum misses it
                    if (clock.unknownBefore) m.put("seconds_resumed", true);
                    conta.io.AtomicWrite.write(done, Json.writePretty(m).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    clock.finished();
                }
                inputs.stageDone(RunLayout.at(round, name));
                if (onStageFinished != null && !stopsAfter(round, name)) onStageFinished.finished(round, name, m); // a stop writes its own report
            }
            if (stopsAfter(round, name)) {
                current.put(name, m);
                throw new Stopped();
            }
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One round of the baseline pipeline; returns its stage metrics. */
    public Map<String, Object> round(int t) {
        Path rd = roundDir(t);
        Map<String, Object> stages = current = new LinkedHashMap<>();
        int c = ds.numClasses();
        if (Files.isRegularFile(rd.resolve("confounders").resolve("done.json"))) stages.put("confounders", ranAlready(t, "confounders")); // the previous round's afterRound
        Path clsModel = rd.resolve("cls").resolve("model.safetensors");
        stages.put("cls", stage(t, "cls", () -> {
            try (ResNet net = ClassifierStage.build(cfg, c, hooks.contextChannels(t), backend)) {
                String init = Backbones.load(net, cfg.str("cls.weights"), "cls.weights", warned);
                Trainer.Result r = ClassifierStage.train(net, cfg, hooks.classifierData(t, ds), trainIds, rd.resolve("cls").resolve("checkpoint.safetensors"),
                        hooks.classifierHead(t, net), "round " + t + " classifier");
                hooks.afterClassifier(t, net);
                Checkpoint.save(clsModel, net, null, new Checkpoint.Position(r.steps(), 0, 0), bundleMeta("cls", net.config, "classifier"));
                return Map.of("init", init, "steps", r.steps(), "final_epoch_loss", (double) r.lastEpochLoss());
            }
        }));
        Path camDir = rd.resolve("cam"), seedDir = rd.resolve("seeds");
        Path camModel = hooks.classifierForCams(t, clsModel);
        if (camModel != clsModel) stages.put("c2am", ranAlready(t, "c2am")); // classifierForCams ran (or found) the stage
        stages.put("cam", stage(t, "cam", () -> {
            try (ResNet net = ClassifierStage.build(cfg, c, hooks.contextChannels(t), backend);
                 PlanCache plans = camPlans(net)) {
                Checkpoint.loadModel(camModel, net);
                double[] scales = cfg.numbers("cam.scales");
                double thr = cfg.number("cam.bg_threshold");
                conta.image.Resampling resize = conta.image.Resampling.parse(cfg.str("data.resize"), "data.resize");
                Progress bar = new Progress("round " + t + " CAMs", trainIds.size(), 0);
                List<String> ids = bad.live(trainIds), todo = new ArrayList<>();
                for (String id : ids) {
                    if (Files.isRegularFile(camDir.resolve(id + ".npz")) && Files.isRegularFile(seedDir.resolve(id + ".png"))) bar.skipped(id);
                    else todo.add(id);
                }
                try (CamInputs ahead = new CamInputs(this::readOrSkip, Backbones.input(cfg, "cls"), scales, resize, todo)) {
                    for (String id : todo) {
                        CamInputs.Ready r = ahead.next();
                        if (r != null) {
                            CamMaps m = Cams.compute(net, r.inputs(), r.item().labels(), hooks.context(t, id, r.item()), plans);
                            m.save(camDir.resolve(id + ".npz"));
                            IndexPng.write(seedDir.resolve(id + ".png"), Cams.seeds(backend, m, thr));
                        }
                        bar.step(id);
                    }
                }
                bar.finish();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Map<String, Object> m = score("seeds", seedDir, gtTrain, camDir);
            try {
                Map<String, Object> leak = new LinkedHashMap<>();
                for (var r : conta.synth.ContextLeak.measure(ds, bad.live(trainIds), camDir)) leak.put(r.cls(), r.toJson());
                if (!leak.isEmpty()) m.put("context_leak", leak);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return m;
        }));
        PseudoStage ps = new PseudoStage(cfg, ds, bad.live(trainIds), backend, "round " + t + " "); // log lines name their round, as the classifier's
        Path irDir = rd.resolve("ir");
        stages.put("ir", stage(t, "ir", () -> {
            ps.irLabels(camDir, irDir);
            return Map.of("images", trainIds.size());
        }));
        Path edgeModel = rd.resolve("irn").resolve("model.safetensors");
        stages.put("irn", stage(t, "irn", () -> ps.trainBoundary(irDir, rd.resolve("irn"), edgeModel, clsModel, warned)));
        Path pseudoDir = rd.resolve("pseudo");
        stages.put("pseudo", stage(t, "pseudo", () -> {
            ps.randomWalk(camDir, edgeModel, pseudoDir);
            return score("pseudo", pseudoDir, gtTrain, null);
        }));
        Path segModel = rd.resolve("seg").resolve("model.safetensors");
        stages.put("seg", stage(t, "seg", () -> {
            try (DeepLabV2 net = SegStage.build(cfg, c + 1, backend)) {
                System.err.println("round " + t + " segmentation: " + SegStage.describe(cfg));
                String init = Backbones.load(net.backbone, cfg.str("seg.weights"), "seg.weights", warned);
                Trainer.Result r = SegStage.train(net, cfg, new MaskOverride(ds, pseudoDir), bad.live(trainIds), rd.resolve("seg").resolve("checkpoint.safetensors"),
                        "round " + t + " ");
                Checkpoint.save(segModel, net, null, new Checkpoint.Position(r.steps(), 0, 0), bundleMeta("seg", null, "segmentation"));
                return Map.of("network", SegStage.describe(cfg), "init", init, "steps", r.steps(), "final_epoch_loss", (double) r.lastEpochLoss());
            }
        }));
        Path predDir = rd.resolve("pred");
        stages.put("pred", stage(t, "pred", () -> {
            predict(segModel, bad.live(valIds), predDir, "round " + t + " predict");
            Map<String, Object> m = score("seg", predDir, gtVal, null); // without masks: miou null and the note, as the CAMs' and pseudo-masks'
            if (gtVal == null) m.put("images", valIds.size());
            if (valIds.isEmpty()) m.put("note", "split " + cfg.str("data.val") + " has no images");
            return m;
        }));
        hooks.afterRound(t, this, segModel);
        return stages;
    }

    /**
     * Checkpoint metadata of a finished stage model: its bundle description (docs/bundles.md), so the file alone can
     * be used by `conta predict` and the API, plus the stage label. classifier: the network's own configuration.
     */
    Map<String, String> bundleMeta(String stage, conta.models.ResNetConfig classifier, String label) {
        conta.wsss.ModelSpec spec = stage.equals("seg") ? SegStage.spec(cfg, ds.numClasses() + 1) : conta.wsss.ModelSpec.classifier(classifier);
        Map<String, String> m = new LinkedHashMap<>(conta.wsss.Bundle.of(cfg, stage, spec, ds.classNames()).meta());
        m.put("stage", label);
        return m;
    }

    /** Predicts label maps for ids with the segmentation model (skipping ones already written). */
    public void predict(Path segModel, List<String> ids, Path dir, String label) {
        try (DeepLabV2 net = SegStage.build(cfg, ds.numClasses() + 1, backend)) {
            Checkpoint.loadModel(segModel, net);
            try (PlanCache plans = cfg.bool("infer.plan") ? PlanCache.forBackend(backend, net, PlanCache.Output.FORWARD, planPrecision(), SEG_PLAN_SHAPES) : null) {
                predict(net, plans, ids, dir, label);
            }
        }
    }

    private void predict(DeepLabV2 net, PlanCache plans, List<String> ids, Path dir, String label) {
        try {
            Progress bar = new Progress(label, ids.size(), 0);
            for (String id : ids) {
                Path f = dir.resolve(id + ".png");
                if (Files.isRegularFile(f)) { bar.skipped(id); continue; } // written by the run this one resumes
                Item it = readOrSkip(id);
                if (it != null)
                    IndexPng.write(f, SegStage.predict(net, Backbones.input(cfg, "seg"), it.image(), cfg.bool("seg.crf") ? conta.wsss.crf.CrfParams.DEEPLAB : null, plans));
                bar.step(id);
            }
            bar.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * An item, or null when its files became unreadable during the run and data.skip_bad is on (it is recorded and
     * left out of the later stages and the scores); without skip_bad the error stops the run.
     */
    Item readOrSkip(String id) {
        try {
            return ds.read(id);
        } catch (conta.data.DataError e) {
            if (!cfg.bool("data.skip_bad")) throw e.orSkip();
            System.err.println("skipping " + id + " (--skip-bad): " + e.getMessage());
            return null;
        }
    }

    /** The ground truth without the items skipped so far. */
    private GroundTruth live(GroundTruth gt) {
        List<String> ids = bad.live(gt.ids());
        return ids.size() == gt.ids().size() ? gt : new GroundTruth(gt.split(), ids, gt.classes(), gt.masks(), gt.where());
    }

    /** Scores a folder of label maps (and, for CAMs, the threshold sweep) against ground truth. */
    Map<String, Object> score(String kind, Path dir, GroundTruth all, Path camDir) {
        GroundTruth gt = all == null ? null : live(all);
        Map<String, Object> m = new LinkedHashMap<>();
        if (gt == null) {
            m.put("miou", null);
            m.put("note", "no ground-truth masks in this split");
            return m;
        }
        EvalResult r = Evaluator.masks(gt, dir, backend);
        r.print(System.err, "scoring " + switch (kind) { // say which of the three label maps this is
            case "seeds" -> "CAM seeds (background threshold " + cfg.str("cam.bg_threshold") + ")";
            case "pseudo" -> "pseudo-masks (random walk)";
            case "seg" -> "segmentation predictions (held-out)";
            default -> kind;
        } + " against ground truth");
        String w = Evaluator.ignoredOnly(gt, r.confusion());
        if (w != null) System.err.println(w);
        Map<String, Object> j = r.toJson();
        j.remove("confusion");
        m.putAll(j);
        m.put("kind", kind);
        if (camDir != null) {
            EvalResult sw = Evaluator.cams(gt, camDir, Evaluator.thresholds(cfg.str("cam.sweep")));
            m.put("fixed_threshold", cfg.number("cam.bg_threshold"));
            m.put("best_threshold", sw.threshold());
            m.put("best_miou", sw.miou());
            m.put("sweep", sw.toJson().get("sweep")); // the whole curve, for the report's plot
            double[] ts = Evaluator.thresholds(cfg.str("cam.sweep"));
            if (ts.length > 1 && (sw.threshold() == ts[ts.length - 1] && ts[ts.length - 1] < 1 || sw.threshold() == ts[0] && ts[0] > 0))
                System.err.println("warning: the CAMs' best background threshold " + sw.threshold() + " is at an end of cam.sweep (" + cfg.str("cam.sweep")
                        + "): the best may lie beyond it; widen cam.sweep (e.g. 0.05:0.95:0.01)");
        }
        return m;
    }

    public Dataset dataset() { return ds; }

    /** Items left out under --skip-bad so far. */
    public BadItems badItems() { return bad; }

    public List<String> trainIds() { return trainIds; }

    public Config config() { return cfg; }

    public Path out() { return out; }
}
