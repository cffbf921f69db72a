package conta.cli;

import conta.error.UserError;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;

/** Entry point of `./conta`: dispatches to subcommands found by name. */
public final class Main {
    private Main() { }

    /** Subcommands by name. Each lives in its own class; add yours here. */
    static Map<String, Command> commands() {
        Map<String, Command> m = new LinkedHashMap<>();
        for (String cls : new String[]{
                "conta.cli.ModelCommand", "conta.cli.WeightsCommand",
                "conta.cli.SynthCommand", "conta.cli.EvalCommand",
                "conta.cli.PipelineCommand", "conta.cli.DemoCommand", "conta.cli.CompareCommand",
                "conta.cli.BenchCommand", "conta.cli.PredictCommand", "conta.cli.ExportCommand",
                "conta.cli.OnnxExportCommand"}) {
            try {
                Command c = (Command) Class.forName(cls).getDeclaredConstructor().newInstance();
                m.put(c.name(), c);
            } catch (ClassNotFoundException e) {
                // not built yet
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot create " + cls, e);
            }
        }
        for (Command c : ServiceLoader.load(Command.class)) m.putIfAbsent(c.name(), c);
        return m;
    }

    /** The jar's Implementation-Version (Maven's project version), or "dev" when run from classes. */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    public static void main(String[] argv) {
        // whole lines at a time: the JVM's System.err writes every piece of a printf as it comes ("iter ", then "3: ..."),
        // System.out through a 128-byte buffer, so under `2>&1` (the launcher's filtered stderr arrives late) a line of
        // one could land inside a line of the other, which broke `... 2>&1 | bench/onednn_profile.py --after-iter K`.
        // Both reach the descriptor a whole line at a time; a progress bar redrawn with \r flushes itself.
        System.setOut(lines(java.io.FileDescriptor.out, System.out));
        System.setErr(lines(java.io.FileDescriptor.err, System.err));
        int code = run(argv);
        System.out.flush();
        System.err.flush();
        System.exit(code);
    }

    /**
     * A console stream that reaches the file descriptor a whole line at a time (and on flush, which a progress bar
     * redrawn with \r calls). PrintStream's autoflush would flush every piece a printf appends.
     */
    private static java.io.PrintStream lines(java.io.FileDescriptor fd, java.io.PrintStream was) {
        java.io.OutputStream line = new java.io.BufferedOutputStream(new java.io.FileOutputStream(fd), 1 << 16) {
            @Override public synchronized void write(int b) throws java.io.IOException {
                super.write(b);
                if (b == '\n') flush();
            }

            @Override public synchronized void write(byte[] b, int off, int len) throws java.io.IOException {
                super.write(b, off, len);
                for (int i = off; i < off + len; i++) if (b[i] == '\n') { flush(); return; }
            }
        };
        return new java.io.PrintStream(line, false, was.charset());
    }

    public static int run(String[] argv) {
        Map<String, Command> cmds = commands();
        if (argv.length > 0 && (argv[0].equals("--version") || argv[0].equals("version"))) {
            System.out.println("conta " + version() + " (Java " + Runtime.version() + ", " + System.getProperty("os.arch") + ")");
            return 0;
        }
        if (argv.length >= 2 && argv[0].equals("help") && cmds.containsKey(argv[1])) {
            System.out.println(cmds.get(argv[1]).usage());
            return 0;
        }
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            System.out.println("usage: conta COMMAND [flags]     (conta COMMAND --help for its flags; conta --version; conta --help-properties)\ncommands:");
            cmds.values().forEach(c -> System.out.printf("  %-10s %s%n", c.name(), c.summary()));
            return argv.length == 0 ? 2 : 0;
        }
        if (argv[0].equals("--help-properties")) {
            System.out.print(conta.io.SystemProps.help());
            return 0;
        }
        // before anything runs: a misspelt -Dconta.* name or value would otherwise run with the default unnoticed
        String badProperty = conta.io.SystemProps.problem();
        if (badProperty != null) {
            System.err.println("conta: " + badProperty);
            return 2;
        }
        Command c = cmds.get(argv[0]);
        if (c != null && java.util.Arrays.stream(argv, 1, argv.length).anyMatch(x -> x.equals("--help") || x.equals("-h"))) {
            System.out.println(c.usage()); // before any flag check, so `conta model forward --help` is help, not an error
            return 0;
        }
        if (c == null) {
            System.err.println("conta: unknown command '" + argv[0] + "' (known: " + String.join(", ", cmds.keySet()) + ")");
            return 2;
        }
        String[] rest = new String[argv.length - 1];
        System.arraycopy(argv, 1, rest, 0, rest.length);
        try {
            return c.run(new Args(rest));
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            return failure(c.name(), e);
        }
    }

    /**
     * A command's failure in one line and its exit code: out of memory (also thrown on a worker thread and rethrown
     * wrapped) is 3, the machine's limit rather than a bug or a bad value (though a smaller crop, batch or image is the
     * usual fix); everything else goes by {@link #report}.
     */
    static int failure(String command, Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause())
            if (t instanceof OutOfMemoryError oom) {
                System.err.println("conta " + command + ": out of memory (" + oom.getMessage() + "); use smaller images, crops or batches, "
                        + "or raise -Xmx via CONTA_JAVA_OPTS");
                return 3;
            }
        return report(command, e);
    }

    /**
     * The one error contract of every command: a problem the user can fix (a value, a path, a permission, a file
     * format, a device; see {@link Errors#userMessage}) prints one line naming the file or key and the fix and exits
     * 2; anything else is an internal error: its message and how to get the trace, exit 1.
     */
    static int report(String command, Throwable e) {
        if (System.getenv("CONTA_DEBUG") != null) e.printStackTrace();
        String user = Errors.userMessage(e);
        if (user != null) {
            System.err.println("conta " + command + ": " + user);
            return 2;
        }
        System.err.println("conta " + command + ": internal error: " + Errors.internalMessage(e)
                + " (a bug in conta; rerun with CONTA_DEBUG=1 for the trace and report it)");
        return 1;
    }
}
