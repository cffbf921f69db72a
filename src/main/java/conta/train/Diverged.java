package conta.train;

import conta.error.UserError;

/**
 * Training stopped on a NaN or infinite loss. A user problem (exit 2): the fix is the stage's learning rate (its
 * {@code *.lr} key, or --lr), which the message names with where a rerun resumes.
 */
public final class Diverged extends UserError {
    public Diverged(String message) { super(message); }
}
