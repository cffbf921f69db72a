package conta.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Watches one stage's training loss against its first step's (every stage's loss is a per-element mean of
 * log-losses: O(1) at the start, falling in a healthy run), and says where a rerun should go when training stops:
 * <ul>
 *   <li>a loss that ran away without becoming NaN: above {@link #RUNAWAY} x the reference for {@link #SUSTAINED}
 *       steps in a row (a bad stretch of batches is not enough) stops like a NaN;</li>
 *   <li>a checkpoint written at a loss above {@link #BLOWN} x the reference holds run-away weights: resuming from it
 *       cannot help, so the stage must start again ({@link Diverged#redoStage}).</li>
 * </ul>
 * The reference is the stage's first step's loss, at least {@link #FLOOR} (a near-zero first loss would make any
 * healthy value look like a run-away). It and the loss of each save travel in the checkpoint's metadata, so a run
 * resumed after a kill judges by the stage's first step, not by its own first (possibly already blown) one.
 */
final class LossWatch {
    static final double RUNAWAY = 1e4, BLOWN = 100, FLOOR = 1e-2;
    static final int SUSTAINED = 10;
    private static final String FIRST = "loss_first_step", AT_SAVE = "loss_at_save";

    private double first = Double.NaN, savedLoss = Double.NaN, last;
    private long lastStep;
    private int over;

    /** The watch of a stage resumed from a checkpoint with this metadata (none: a fresh start). */
    static LossWatch resumed(Map<String, String> checkpointMeta) {
        LossWatch w = new LossWatch();
        if (checkpointMeta != null) {
            w.first = number(checkpointMeta.get(FIRST));
            w.savedLoss = number(checkpointMeta.get(AT_SAVE));
        }
        return w;
    }

    /** The loss of a finished step (numbered from 1). */
    void observe(float loss, long step) {
        if (Double.isNaN(first)) first = loss;
        last = loss;
        lastStep = step;
        over = loss > RUNAWAY * reference() ? over + 1 : 0;
    }

    boolean ranAway() { return over >= SUSTAINED; }

    /**
     * A warning when training ended with the loss above {@link #RUNAWAY} x the reference but for fewer than
     * {@link #SUSTAINED} steps (a short stage, or a blow-up on its last steps): nothing stopped it, and its model is
     * probably useless. Null otherwise.
     */
    String endedRunAway(String label) {
        if (over == 0) return null;
        return label + ": the loss ended at " + fmt(last) + " (step " + lastStep + "), above " + fmt(RUNAWAY) + " x its first step's " + fmt(first)
                + " for its last " + over + " step" + (over == 1 ? "" : "s") + "; its model is probably useless: lower the learning rate (the stage's *.lr key) "
                + "and redo the stage (--from)";
    }

    /** Metadata for a checkpoint written after the step whose loss this was (and remembers that loss). */
    Map<String, String> atSave(float loss) {
        savedLoss = loss;
        Map<String, String> m = new LinkedHashMap<>();
        m.put(FIRST, Double.toString(first));
        m.put(AT_SAVE, Double.toString(savedLoss));
        return m;
    }

    /** The stop for a run-away loss, with where a rerun goes (saved: the newest checkpoint's step, <= 0 none). */
    Diverged runaway(String label, long saved) {
        return stop(label + ": the loss ran away: " + fmt(last) + " at step " + lastStep + ", above " + fmt(RUNAWAY) + " x its first step's "
                + fmt(first) + " for " + SUSTAINED + " steps in a row", saved);
    }

    /** The stop for a NaN/Inf loss at step (1-based) on the batch of ids. */
    Diverged nan(String label, float loss, long step, List<String> ids, long saved) {
        return stop(label + ": loss became " + loss + " at step " + step + " (images " + ids + ")", saved);
    }

    private Diverged stop(String what, long saved) {
        if (saved > 0 && savedLoss > BLOWN * reference())
            return new Diverged(what + "; the checkpoint of step " + saved + " was written at loss " + fmt(savedLoss) + " (the first step's: " + fmt(first)
                    + "), so resuming from it cannot help — lower the learning rate (the stage's *.lr key) and redo the stage from its start", true);
        return new Diverged(what + "; " + (saved > 0
                ? "the checkpoint of step " + saved + " is kept — lower the learning rate (the stage's *.lr key) and rerun to resume from it"
                : "no checkpoint was written before it, so a rerun starts this stage from the beginning — lower the learning rate (the stage's *.lr key) and rerun"));
    }

    private double reference() { return Double.isNaN(first) ? Double.NaN : Math.max(first, FLOOR); }

    private static double number(String s) {
        try {
            return s == null ? Double.NaN : Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN; // not ours to refuse: the checkpoint's tensors decide whether it is usable
        }
    }

    private static String fmt(double v) { return String.format(Locale.ROOT, "%.4g", v); }
}
