package conta.train;

import conta.error.UserError;

/**
 * Training stopped on a NaN or infinite loss, or on a loss that ran away. A user problem (exit 2): the fix is the
 * stage's learning rate (its {@code *.lr} key, or --lr), which the message names with where a rerun resumes. When the
 * newest checkpoint already holds run-away weights, resuming from it cannot help: {@link #redoStage} says the stage
 * must start again, and the pipeline adds the --from that does it.
 */
public final class Diverged extends UserError {
    private final boolean redoStage;

    public Diverged(String message) { this(message, false); }

    public Diverged(String message, boolean redoStage) { this(message, redoStage, null); }

    private Diverged(String message, boolean redoStage, Throwable cause) {
        super(message, cause);
        this.redoStage = redoStage;
    }

    /** Whether the stage must be redone from its start (its checkpoints hold the run-away weights). */
    public boolean redoStage() { return redoStage; }

    /** The same stop with how to redo the stage, e.g. "rerun with --from round0/seg". */
    public Diverged withRedo(String how) { return new Diverged(getMessage() + " (" + how + ")", true, this); }
}
