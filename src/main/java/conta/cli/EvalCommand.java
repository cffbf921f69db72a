package conta.cli;

import conta.config.ConfigKeys;
import conta.data.DataError;
import conta.error.UserError;
import conta.eval.EvalResult;
import conta.eval.Evaluator;
import conta.eval.GroundTruth;
import conta.io.Json;
import conta.pipeline.DamagedOutputs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** {@code conta eval}: mIoU of pseudo-masks / segmentations (--pred) or CAMs (--cam) against ground truth. */
public final class EvalCommand implements Command {
    static final String USAGE = """
            usage: conta eval --pred DIR --gt DIR [--list FILE | --split NAME] [--classes FILE] [--json OUT]
                   conta eval --cam DIR --gt DIR [--bg-threshold T | --sweep 0.05:0.60:0.01] [--list FILE | --split NAME] [--classes FILE] [--json OUT]
              --pred DIR   label PNGs ID.png (class indices; 255 counts as background)
              --cam DIR    ID.npz as the pipeline's roundT/cam/ and predict --cams write, or ID.npy float32 C x H x W over all C
                           foreground classes (zeros for absent ones), ground-truth size
              --gt DIR     a dataset root (VOC / COCO / custom; then --split or --list is required) or a folder of ID.png masks
              --list FILE  ids to score (default: every mask in a --gt mask folder); a listed id without prediction is an error
              --bg-threshold T   constant background plane for CAMs, in [0, 1] (default 0.15, IRNet's cam_eval_thres)
              --sweep A:B:S      try every threshold from A to B and report the best (A < B in [0, 1], S > 0, at most 10000 steps)
            protocol (docs/evaluation.md): one confusion matrix over the whole split; ground-truth 255 ignored; a predicted
              255 counts as background (IRNet's eval_sem_seg); IoU = TP / (GT + Pred - TP); mIoU = mean over the classes
              present in the ground truth or the prediction (background included; a class absent from both is left out,
              one predicted but absent scores 0): on VOC val the devkit's, IRNet's and mmseg's 21-class mIoU. CAMs: a
              constant background plane at the threshold, argmax, foreground only where the best CAM is strictly above it.""";

    @Override public String usage() { return USAGE; }

    @Override public String name() { return "eval"; }

    @Override public String summary() { return "score pseudo-masks, segmentations or CAMs (mIoU, per-class IoU/precision/recall)"; }

    /** The flag's value checked by the pipeline's row for the same setting, the refusal naming the flag. */
    private static void checkAs(Args a, String flag, String key) {
        String v = a.get(flag, "");
        ConfigKeys.Key k = ConfigKeys.get(key);
        try {
            k.check(v);
        } catch (UserError e) {
            throw new UserError("--" + flag + " '" + v + "' is not allowed: must be " + k.allowed() + " (as config " + key + ")");
        }
    }

    @Override
    public int run(Args a) throws Exception {
        if (a.has("help")) { System.out.println(USAGE); return 0; }
        List<String> bad = a.unknown(List.of("pred", "cam", "gt", "list", "split", "classes", "json", "bg-threshold", "sweep", "help"));
        if (!bad.isEmpty()) throw new UserError("unknown flag --" + bad.get(0) + "\n" + USAGE);
        if (a.has("pred") == a.has("cam")) throw new UserError("give exactly one of --pred DIR or --cam DIR\n" + USAGE);
        if (a.has("pred") && (a.has("sweep") || a.has("bg-threshold"))) throw new UserError("--sweep/--bg-threshold apply to --cam only");
        if (a.has("sweep") && a.has("bg-threshold")) throw new UserError("give --bg-threshold or --sweep, not both");
        if (a.has("sweep")) checkAs(a, "sweep", "cam.sweep");
        if (a.has("bg-threshold")) checkAs(a, "bg-threshold", "cam.bg_threshold");
        Path gtDir = Path.of(a.require("gt"));
        Path list = a.has("list") ? Path.of(a.get("list", null)) : null;
        if (list != null && !Files.isRegularFile(list)) throw new UserError("--list " + list + " does not exist");
        Path classes = a.has("classes") ? Path.of(a.get("classes", null)) : null;
        if (classes != null && !Files.isRegularFile(classes)) throw new UserError("--classes " + classes + " does not exist");
        GroundTruth gt = GroundTruth.open(gtDir, list, a.get("split", null), classes);
        try {
            return evaluate(a, gt);
        } catch (DataError e) {
            // a file of a pipeline run's finished stage that cannot be read: re-exporting it (the readers' advice for
            // files made elsewhere) is not possible, recomputing its stage is; other errors (a missing id, a size that
            // differs from the ground truth) are about the --gt and --split asked for, not damage, unless files of a
            // finished stage's folder were deleted: then its recompute is offered beside the usual advice
            Path dir = Path.of(a.has("pred") ? a.get("pred", null) : a.get("cam", null));
            if (e.getCause() != null) throw DamagedOutputs.explain(e, dir);
            String ext = a.has("pred") ? ".png" : ".npz"; // some of the split's files there: not the wrong --split
            long some = gt.ids().stream().filter(id -> Files.isRegularFile(dir.resolve(id + ext))).count();
            String redo = some > 0 && e.getMessage().contains(" have no prediction in ") ? DamagedOutputs.recompute(dir) : null;
            if (redo == null) throw e; // or the wrong --split
            String scored = stageSplit(dir, some);
            throw new UserError(e.getMessage() + (scored != null ? "; " + scored : "; or, if files of this run were deleted: " + redo), e);
        }
    }

    /**
     * For a finished stage's folder that still holds all it wrote (its done.json's image count): which split that was
     * and how to score it, since the missing ids were never predicted there (nothing to recompute); else null.
     */
    private static String stageSplit(Path dir, long present) {
        try {
            Map<String, Object> done = Json.readObject(dir.resolve("done.json"), "");
            if (!(done.get("split") instanceof String split) || !(done.get("images") instanceof Number n) || present < n.longValue()) return null;
            return dir + " holds that stage's " + n.longValue() + " predictions of split " + split + ": score them with --gt DATA --split " + split
                    + " (DATA: the run's data folder) or --list FILE of their ids";
        } catch (RuntimeException unreadable) {
            return null;
        }
    }

    private static int evaluate(Args a, GroundTruth gt) throws Exception {
        EvalResult r;
        if (a.has("pred")) {
            r = Evaluator.masks(gt, Path.of(a.get("pred", null)));
        } else {
            double[] ts;
            try {
                ts = Evaluator.thresholds(a.has("sweep") ? a.get("sweep", null) : a.get("bg-threshold", "0.15"));
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            r = Evaluator.cams(gt, Path.of(a.get("cam", null)), ts);
            if (ts.length > 1) {
                System.out.println("threshold sweep (background threshold -> mIoU):");
                for (double[] p : r.sweep()) System.out.printf("  %.3f  %.2f%%%n", p[0], 100 * p[1]);
            }
        }
        r.print(System.out);
        String w = Evaluator.ignoredOnly(gt, r.confusion());
        if (w != null) System.err.println(w);
        if (a.has("json")) {
            Path out = Path.of(a.get("json", null));
            conta.io.AtomicWrite.write(out, (Json.writePretty(r.toJson()) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            System.out.println("wrote " + out);
        }
        return 0;
    }
}
