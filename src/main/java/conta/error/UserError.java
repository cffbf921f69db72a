package conta.error;

/**
 * A problem the user caused and can fix (a path, a permission, a format, a device, a value): every command prints it
 * as one line naming the file or key and the fix, and exits with code 2. Lives below every other package so that
 * the engine (data, io, pipeline, api) can raise it without depending on the CLI.
 */
public class UserError extends RuntimeException {
    public UserError(String message) { super(message); }

    public UserError(String message, Throwable cause) { super(message, cause); }
}
