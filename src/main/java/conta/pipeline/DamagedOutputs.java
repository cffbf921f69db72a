package conta.pipeline;

import conta.error.UserError;
import conta.io.RunLayout;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns an error about a file of a finished stage (a cam/*.npz, a pseudo-mask PNG, confounders.npy that a disk
 * fault, a copy or a hand edit damaged or removed) into the one fix that works: {@code --from roundT/STAGE}. Deleting
 * the file does not help, because the stage's done.json says it is finished and a rerun skips it.
 *
 * <p>Why by the message: every reader names its file in its error (the CLI's contract), and only the pipeline knows
 * which stage wrote which folder. A finished stage's folder is never written again, so an error naming a file there
 * is about reading it. Left as they are: errors that already give a --from fix, file-system refusals other than a
 * missing file (a permission is fixed with chmod, not by recomputing hours of work), and errors whose root is a
 * reader's own bug (an unchecked exception other than a format error: recomputing would write the same file).
 */
public final class DamagedOutputs {
    private DamagedOutputs() { }

    /** roundT/FOLDER/ or roundT/confounders.npy, right after OUT's path as the message spells it. */
    private static final Pattern IN_ROUND = Pattern.compile(RunLayout.ROUND_REGEX + "/(?:([A-Za-z0-9_]+)/|(confounders\\.npy))");

    /** What may stand before a path in a message: the start, a space, a quote, a bracket or a colon. */
    private static final String BEFORE_PATH = " \t\n'\"([:=";

    /** A UserError naming the stage to redo when e (or a cause) names a file of one of OUT's finished stages; e otherwise. */
    static Exception explain(Exception e, Pipeline p) {
        Predicate<StageRange.Point> done = q -> p.isDone(q.round(), q.stage());
        return explain(e, m -> stageOf(m, p.out(), done), at -> "rerun with --from " + at + " to recompute that stage and the ones after it",
                "delete it and rerun, and the report writes it again");
    }

    /**
     * The same for a command outside the pipeline that failed to read a file in dir, a folder of a run's stage (conta
     * eval --pred OUT/roundT/pseudo): when that stage is marked done, the fix is the whole pipeline command (the user is
     * not running one). The stage comes from the folder, as the command names it, not from the message's paths.
     */
    public static Exception explain(Exception e, Path dir) {
        Folder f = folder(dir);
        if (f == null) return e;
        // a message about one of its files, as the command spelt them (dir.resolve(name)) or absolute; not about --gt's
        List<String> in = List.of(dir + "/", dir.toAbsolutePath().normalize() + "/");
        return explain(e, m -> in.stream().anyMatch(prefix -> !at(m, prefix).isEmpty()) ? f.stage() : null,
                at -> "recompute that stage and the ones after it with " + conta.wsss.RunModels.rerun(f.run(), at),
                "delete it and rerun " + conta.wsss.RunModels.rerun(f.run(), null) + ": the report writes it again");
    }

    /**
     * For a command reading dir: when it is a finished stage's folder of a run, the pipeline command that writes it
     * again ("recompute ... with `conta pipeline ... --from roundT/STAGE`"), else null. For the report's own copies, none.
     */
    public static String recompute(Path dir) {
        Folder f = folder(dir);
        if (f == null || f.stage().stage().equals("report")) return null;
        String at = RunLayout.at(f.stage().round(), f.stage().stage());
        return "it is the output of " + at + ": recompute it with " + conta.wsss.RunModels.rerun(f.run(), at);
    }

    /** A finished stage's folder of a run (or the report's copies), and the run as the command spelt it. */
    private record Folder(StageRange.Point stage, Path run) { }

    private static Folder folder(Path dir) {
        RunLayout.StageFile at = RunLayout.stageFolder(dir);
        if (at == null) return null;
        StageRange.Point s = writer(at.round(), at.stage());
        Path spelt = dir.normalize();
        Path run = spelt.getParent() != null && spelt.getParent().getParent() != null ? spelt.getParent().getParent() : at.run(); // as spelt
        if (s == null || !s.stage().equals("report")
                && !Files.isRegularFile(RunLayout.stageDir(at.run(), s.round(), s.stage()).resolve("done.json"))) return null; // pred_train: t+1
        return new Folder(s, run);
    }

    /** explain, with stageIn: the finished stage whose file a message names (or null), and redo: the fix for "roundT/STAGE". */
    private static Exception explain(Exception e, Function<String, StageRange.Point> stageIn, Function<String, String> redo, String reportFix) {
        Throwable named = null, root = e;
        StageRange.Point stage = null;
        for (Throwable c = e; c != null; c = c.getCause()) {
            root = c;
            String m = c.getMessage();
            if (m == null) continue;
            if (m.contains("--from")) return e;
            StageRange.Point s = stageIn.apply(m);
            if (s != null) { named = c; stage = s; } // the innermost: the reader's own words, before callers' hints
            if (c.getCause() == c) break;
        }
        if (stage == null) return e;
        if (named instanceof FileSystemException && !(named instanceof NoSuchFileException)) return e;
        if (root instanceof RuntimeException && !(root instanceof IllegalArgumentException) && !(root instanceof UserError)
                && !(root instanceof conta.data.DataError)) return e; // FormatError is an IllegalArgumentException
        String problem = named instanceof NoSuchFileException ? named.getMessage() + " is missing"
                : named.getMessage().replace(conta.image.IndexPng.REEXPORT, "");
        return new UserError(problem + "; " + (stage.stage().equals("report")
                ? "it is the report's own copy: " + reportFix
                : "it is an output of round " + stage.round() + "'s " + stage.stage() + " stage, which is marked done: "
                        + redo.apply(RunLayout.at(stage.round(), stage.stage()))), e);
    }

    /** The stage (done, per isDone; or the report) that wrote a file of OUT that the message names, or null. */
    static StageRange.Point stageOf(String message, Path out, Predicate<StageRange.Point> isDone) {
        for (Path o : new Path[]{out, out.toAbsolutePath().normalize()}) {
            String prefix = o.toString().endsWith("/") ? o.toString() : o + "/";
            for (int after : at(message, prefix)) {
                Matcher m = IN_ROUND.matcher(message).region(after, message.length());
                if (!m.lookingAt()) continue;
                StageRange.Point s = writer(Integer.parseInt(m.group(1)), m.group(3) != null ? m.group(3) : m.group(2));
                if (s != null && (s.stage().equals("report") || isDone.test(s))) return s;
            }
        }
        return null;
    }

    /** Where a path starting with prefix continues in message (after the prefix), wherever it starts a path. */
    private static List<Integer> at(String message, String prefix) {
        List<Integer> r = new java.util.ArrayList<>();
        for (int i = message.indexOf(prefix); i >= 0; i = message.indexOf(prefix, i + 1))
            if (i == 0 || BEFORE_PATH.indexOf(message.charAt(i - 1)) >= 0) r.add(i + prefix.length()); // not OUT=run inside ".../myrun/"
        return r;
    }

    /** Which stage writes round t's folder (or file); "report" for the report's own predictions; null if none. */
    static StageRange.Point writer(int t, String folder) {
        if (folder.equals("pred_train")) return new StageRange.Point(t + 1, "confounders"); // the next round's confounder set predicts them
        if (folder.equals("report_pred")) return new StageRange.Point(t, "report");
        for (String s : StageRange.STAGES) if (StageRange.folders(s).contains(folder)) return new StageRange.Point(t, s);
        return null;
    }
}
