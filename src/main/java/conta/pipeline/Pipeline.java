package conta.pipeline;

import conta.error.UserError;
import conta.data.Dataset;
import conta.data.Datasets;
import conta.data.Item;
import conta.data.MaskOverride;
import conta.eval.EvalResult;
import conta.eval.Evaluator;
import conta.eval.GroundTruth;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.io.Json;
import conta.models.DeepLabV2;
import conta.models.ResNet;
import conta.tensor.Backend;
import conta.train.Checkpoint;
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

/**
 * The WSSS pipeline over one output folder: classifier -> CAMs and seeds -> IR labels -> boundary branch -> random walk
 * pseudo-masks -> DeepLab-v2 -> predictions, each stage scored as the papers do. Every stage writes its artifacts under
 * OUT/roundT/STAGE/ and a done.json with its metrics; a rerun skips finished stages, skips per-image outputs already
 * written, and resumes training from the last checkpoint, so a killed run ends with the same report.
 */
public final class Pipeline {
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

    public Pipeline(Config cfg, Path data, Path out, Backend backend) {
        this.cfg = cfg;
        this.out = out;
        this.backend = backend;
        this.ds = Datasets.open(data, cfg.bool("data.skip_bad"));
        boolean skip = cfg.bool("data.skip_bad");
        Datasets.Checked tr = Datasets.check(ds, ds.ids(cfg.str("data.train")), skip);
        Datasets.Checked va = Datasets.check(ds, ds.ids(cfg.str("data.val")), skip);
        if (!tr.bad().isEmpty() || !va.bad().isEmpty()) {
            List<conta.data.BadItem> all = new ArrayList<>(tr.bad());
            all.addAll(va.bad());
            Datasets.report(all, System.err);
        }
        this.trainIds = tr.ids().stream().filter(id -> ds.labels(id).length > 0).toList();
        this.valIds = va.ids();
        if (trainIds.isEmpty()) throw new UserError("split " + cfg.str("data.train") + " of " + data + " has no labelled images");
        this.gtTrain = gt(cfg.str("data.train"), trainIds);
        this.gtVal = gt(cfg.str("data.val"), valIds);
        checkConfig();
    }

    private GroundTruth gt(String split, List<String> ids) {
        List<String> with = ids.stream().filter(ds::hasMask).toList();
        return with.isEmpty() ? null : new GroundTruth(split, with, ds.classNames(), ds::mask);
    }

    /**
     * Refuses to resume into a folder made with a different recipe where that would mix results: a changed key is
     * accepted only while no stage that uses it has finished (so a NaN in segmentation can be fixed by a lower seg.lr
     * and a rerun), otherwise the error lists the keys and the finished stages.
     */
    private void checkConfig() {
        Path f = out.resolve("config.json");
        Map<String, String> now = cfg.asMap();
        now.remove("device");
        now.remove("data.workers");
        now.remove("report.overlays");
        try {
            Files.createDirectories(out);
            if (Files.isRegularFile(f)) {
                Map<String, Object> old = Json.parseObject(Files.readString(f));
                List<String> diff = new ArrayList<>();
                for (var e : now.entrySet())
                    if (old.containsKey(e.getKey()) && !String.valueOf(old.get(e.getKey())).equals(e.getValue())) {
                        String done = finishedUser(e.getKey());
                        if (done != null) diff.add(e.getKey() + " " + old.get(e.getKey()) + " -> " + e.getValue() + " (" + done + " finished)");
                        else System.err.println("note: " + e.getKey() + " changed " + old.get(e.getKey()) + " -> " + e.getValue()
                                + "; no stage using it has finished, so the run continues with the new value");
                    }
                if (!diff.isEmpty())
                    throw new UserError(out + " holds a run with another configuration (" + String.join(", ", diff)
                            + "); use a new --out, the same settings to resume it, or delete the finished stage folders to redo them");
            }
            Files.writeString(f, Json.writePretty(new LinkedHashMap<>(now)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + f + ": " + e.getMessage(), e);
        }
    }

    /** The first finished stage (roundT/STAGE) whose result depends on the key, or null. */
    private String finishedUser(String key) throws IOException {
        String prefix = key.substring(0, key.indexOf('.') < 0 ? key.length() : key.indexOf('.'));
        List<String> users = switch (prefix) {
            case "cls" -> List.of("cls", "c2am");
            case "cam" -> List.of("cam", "c2am");
            case "ir" -> List.of("ir");
            case "irn" -> List.of("irn");
            case "rw" -> List.of("pseudo");
            case "seg" -> List.of("seg", "pred", "confounders");
            case "c2am" -> List.of("c2am");
            default -> null; // seed, method, data, conta: everything depends on them
        };
        if (!Files.isDirectory(out)) return null;
        try (var rounds = Files.list(out)) {
            for (Path r : rounds.filter(Files::isDirectory).sorted().toList()) {
                if (users == null) {
                    if (Files.isDirectory(r.resolve("cls"))) return r.getFileName() + "/cls";
                    continue;
                }
                for (String u : users) if (Files.isRegularFile(r.resolve(u).resolve("done.json"))) return r.getFileName() + "/" + u;
            }
        }
        return null;
    }

    public Path roundDir(int t) { return out.resolve("round" + t); }

    /** Runs (or finishes) stage name: its done.json holds the metrics; an existing one means it is finished. */
    Map<String, Object> stage(int round, String name, Supplier<Map<String, Object>> body) {
        Path done = roundDir(round).resolve(name).resolve("done.json");
        try {
            if (Files.isRegularFile(done)) {
                System.err.println("round " + round + " " + name + ": done (" + done + ")");
                return Json.parseObject(Files.readString(done));
            }
            Files.createDirectories(done.getParent());
            long t0 = System.nanoTime();
            Map<String, Object> m = new LinkedHashMap<>(body.get());
            m.put("seconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
            conta.io.AtomicWrite.write(done, Json.writePretty(m).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One round of the baseline pipeline; returns its stage metrics. */
    public Map<String, Object> round(int t) {
        Path rd = roundDir(t);
        Map<String, Object> stages = new LinkedHashMap<>();
        int c = ds.numClasses();
        if (Files.isRegularFile(rd.resolve("confounders").resolve("done.json"))) stages.put("confounders", stage(t, "confounders", Map::of));
        Path clsModel = rd.resolve("cls").resolve("model.safetensors");
        stages.put("cls", stage(t, "cls", () -> {
            try (ResNet net = ClassifierStage.build(cfg, c, hooks.contextChannels(t), backend)) {
                String init = Backbones.load(net, cfg.str("cls.weights"), "cls.weights");
                Trainer.Result r = ClassifierStage.train(net, cfg, hooks.classifierData(t, ds), trainIds, rd.resolve("cls").resolve("checkpoint.safetensors"),
                        hooks.classifierHead(t, net), "round " + t + " classifier");
                hooks.afterClassifier(t, net);
                Checkpoint.save(clsModel, net, null, new Checkpoint.Position(r.steps(), 0, 0), bundleMeta("cls", net.config, "classifier"));
                return Map.of("init", init, "steps", r.steps(), "final_epoch_loss", (double) r.lastEpochLoss());
            }
        }));
        Path camDir = rd.resolve("cam"), seedDir = rd.resolve("seeds");
        Path camModel = hooks.classifierForCams(t, clsModel);
        if (camModel != clsModel) stages.put("c2am", stage(t, "c2am", () -> Map.of()));
        stages.put("cam", stage(t, "cam", () -> {
            try (ResNet net = ClassifierStage.build(cfg, c, hooks.contextChannels(t), backend)) {
                Checkpoint.load(camModel, net, null);
                double[] scales = cfg.numbers("cam.scales");
                double thr = cfg.number("cam.bg_threshold");
                Progress bar = new Progress("round " + t + " CAMs", trainIds.size(), 0);
                for (String id : trainIds) {
                    Path f = camDir.resolve(id + ".npz"), s = seedDir.resolve(id + ".png");
                    if (!Files.isRegularFile(f) || !Files.isRegularFile(s)) {
                        Item it = ds.read(id);
                        Cams.Maps m = Cams.compute(net, Backbones.input(cfg, "cls"), it.image(), it.labels(), scales, hooks.context(t, id, it));
                        m.save(f);
                        IndexPng.write(s, m.seeds(thr));
                    }
                    bar.step(id);
                }
                bar.finish();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Map<String, Object> m = score("seeds", seedDir, gtTrain, camDir);
            try {
                Map<String, Object> leak = new LinkedHashMap<>();
                for (var r : conta.synth.ContextLeak.measure(ds, trainIds, camDir)) leak.put(r.cls(), r.toJson());
                if (!leak.isEmpty()) m.put("context_leak", leak);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return m;
        }));
        PseudoStage ps = new PseudoStage(cfg, ds, trainIds, backend);
        Path irDir = rd.resolve("ir");
        stages.put("ir", stage(t, "ir", () -> {
            ps.irLabels(camDir, irDir);
            return Map.of("images", trainIds.size());
        }));
        Path edgeModel = rd.resolve("irn").resolve("model.safetensors");
        stages.put("irn", stage(t, "irn", () -> ps.trainBoundary(irDir, rd.resolve("irn"), edgeModel, clsModel)));
        Path pseudoDir = rd.resolve("pseudo");
        stages.put("pseudo", stage(t, "pseudo", () -> {
            ps.randomWalk(camDir, edgeModel, pseudoDir);
            return score("pseudo", pseudoDir, gtTrain, null);
        }));
        Path segModel = rd.resolve("seg").resolve("model.safetensors");
        stages.put("seg", stage(t, "seg", () -> {
            try (DeepLabV2 net = SegStage.build(cfg, c + 1, backend)) {
                String init = cfg.str("seg.weights").equals("none") || !java.util.Arrays.equals(cfg.ints("seg.blocks"), new int[]{3, 4, 6, 3})
                        && cfg.str("seg.weights").equals("imagenet") ? initWarn(net) : Backbones.load(net.backbone, cfg.str("seg.weights"), "seg.weights");
                Trainer.Result r = SegStage.train(net, cfg, new MaskOverride(ds, pseudoDir), trainIds, rd.resolve("seg").resolve("checkpoint.safetensors"));
                Checkpoint.save(segModel, net, null, new Checkpoint.Position(r.steps(), 0, 0), bundleMeta("seg", null, "segmentation"));
                return Map.of("init", init, "steps", r.steps(), "final_epoch_loss", (double) r.lastEpochLoss());
            }
        }));
        Path predDir = rd.resolve("pred");
        stages.put("pred", stage(t, "pred", () -> {
            predict(segModel, valIds, predDir, "round " + t + " predict");
            return gtVal == null ? Map.of("images", valIds.size()) : score("seg", predDir, gtVal, null);
        }));
        hooks.afterRound(t, this, segModel);
        return stages;
    }

    private String initWarn(DeepLabV2 net) {
        if (cfg.str("seg.weights").equals("none")) return Backbones.load(net.backbone, "none", "seg.weights");
        System.err.println("warning: seg.weights=imagenet has ResNet-50 weights only; seg.blocks=" + cfg.str("seg.blocks")
                + " is not ResNet-50, so the segmentation backbone starts from random weights (set seg.blocks=3,4,6,3 or seg.weights=PATH)");
        return "random init (no ImageNet weights for these blocks)";
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
            Checkpoint.load(segModel, net, null);
            Progress bar = new Progress(label, ids.size(), 0);
            for (String id : ids) {
                Path f = dir.resolve(id + ".png");
                if (!Files.isRegularFile(f)) {
                    Item it = ds.read(id);
                    IndexPng.write(f, SegStage.predict(net, Backbones.input(cfg, "seg"), it.image(), cfg.bool("seg.crf") ? conta.wsss.crf.CrfParams.DEEPLAB : null));
                }
                bar.step(id);
            }
            bar.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Scores a folder of label maps (and, for CAMs, the threshold sweep) against ground truth. */
    Map<String, Object> score(String kind, Path dir, GroundTruth gt, Path camDir) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (gt == null) {
            m.put("miou", null);
            m.put("note", "no ground-truth masks in this split");
            return m;
        }
        EvalResult r = Evaluator.masks(gt, dir);
        r.print(System.err);
        Map<String, Object> j = r.toJson();
        j.remove("confusion");
        m.putAll(j);
        m.put("kind", kind);
        if (camDir != null) {
            EvalResult sw = Evaluator.cams(gt, camDir, Evaluator.thresholds(cfg.str("cam.sweep")));
            m.put("fixed_threshold", cfg.number("cam.bg_threshold"));
            m.put("best_threshold", sw.threshold());
            m.put("best_miou", sw.miou());
        }
        return m;
    }

    public Dataset dataset() { return ds; }

    public List<String> trainIds() { return trainIds; }

    public Config config() { return cfg; }

    public Path out() { return out; }
}
