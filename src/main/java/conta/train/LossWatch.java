package conta.train;

import java.util.List;

/**
 * Watches one training run's loss against its first step's (the weights as loaded or resumed: every stage's loss is
 * a per-element mean of log-losses, O(1) at the start and falling in a healthy run). Two things it tells:
 * <ul>
 *   <li>a loss that ran away without becoming NaN: above {@link #RUNAWAY} x the first step's for
 *       {@link #SUSTAINED} steps in a row (a batch-to-batch spike is not enough);</li>
 *   <li>whether the newest checkpoint was written while the loss was already running away (above {@link #BLOWN} x
 *       the first step's): then a NaN that follows cannot be fixed by resuming from it.</li>
 * </ul>
 */
final class LossWatch {
    static final double RUNAWAY = 1e4, BLOWN = 100;
    static final int SUSTAINED = 10;

    private double first = Double.NaN, savedLoss = Double.NaN, last;
    private long lastStep;
    private int over;

    /** The loss of a finished step (numbered from 1). */
    void observe(float loss, long step) {
        if (Double.isNaN(first)) first = loss;
        last = loss;
        lastStep = step;
        over = first > 0 && loss > RUNAWAY * first ? over + 1 : 0;
    }

    /** A checkpoint was written after the step whose loss this was. */
    void saved(float loss) { savedLoss = loss; }

    boolean ranAway() { return over >= SUSTAINED; }

    /** Whether the newest checkpoint of this run holds weights whose loss had already run away. */
    boolean savedRunaway() { return first > 0 && savedLoss > BLOWN * first; }

    String runawayMessage(String label) {
        return label + ": the loss ran away: " + fmt(last) + " at step " + lastStep + ", above " + fmt(RUNAWAY) + " x its first step's " + fmt(first)
                + " for " + SUSTAINED + " steps; the checkpoints hold the run-away weights, so lower the learning rate (the stage's *.lr key) and "
                + "redo the stage from its start";
    }

    String nanAfterRunawayMessage(String label, float loss, long step, List<String> ids, long saved) {
        return label + ": loss became " + loss + " at step " + step + " (images " + ids + ") after running away: the checkpoint of step " + saved
                + " was written at loss " + fmt(savedLoss) + " (its first step's: " + fmt(first) + "), so resuming from it cannot help; lower the "
                + "learning rate (the stage's *.lr key) and redo the stage from its start";
    }

    private static String fmt(double v) { return String.format(java.util.Locale.ROOT, "%.4g", v); }
}
