package conta.cli;

/** A user-facing error: printed as one line naming the problem, exit code 2. */
public class CliError extends RuntimeException {
    public CliError(String message) { super(message); }

    public CliError(String message, Throwable cause) { super(message, cause); }
}
