package conta.cli;

/** One `./conta NAME ...` subcommand. */
public interface Command {
    String name();

    String summary();

    /** Runs with the arguments after the command name; returns the exit code. Throw {@link UserError} for user errors. */
    int run(Args args) throws Exception;
}
