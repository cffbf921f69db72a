package conta.cli;

/** One `./conta NAME ...` subcommand. */
public interface Command {
    String name();

    String summary();

    /** The command's usage text, printed (exit 0) for --help / -h anywhere after the command name. */
    default String usage() { return "usage: conta " + name() + " [flags]\n  " + summary(); }

    /** Runs with the arguments after the command name; returns the exit code. Throw {@link UserError} for user errors. */
    int run(Args args) throws Exception;
}
