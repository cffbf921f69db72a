package conta.error;

/**
 * A file in a wrong or damaged format (a truncated safetensors, a Fortran-order .npy, a pickle that is not a state
 * dict): a user problem like {@link UserError}, so the CLI prints its one line (naming the file) and exits 2. It
 * extends IllegalArgumentException so that the readers' callers, which already catch that for bad input, keep working.
 */
public class FormatError extends IllegalArgumentException {
    public FormatError(String message) { super(message); }
}
