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
                "conta.cli.BenchCommand", "conta.cli.OnnxExportCommand"}) {
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

    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    public static int run(String[] argv) {
        Map<String, Command> cmds = commands();
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("help")) {
            System.out.println("usage: conta COMMAND [flags]\ncommands:");
            cmds.values().forEach(c -> System.out.printf("  %-10s %s%n", c.name(), c.summary()));
            return argv.length == 0 ? 2 : 0;
        }
        Command c = cmds.get(argv[0]);
        if (c == null) {
            System.err.println("conta: unknown command '" + argv[0] + "' (known: " + String.join(", ", cmds.keySet()) + ")");
            return 2;
        }
        String[] rest = new String[argv.length - 1];
        System.arraycopy(argv, 1, rest, 0, rest.length);
        try {
            return c.run(new Args(rest));
        } catch (UserError | conta.data.DataError e) { // a data problem is a user error too: one line, exit code 2
            System.err.println("conta " + c.name() + ": " + e.getMessage());
            return 2;
        } catch (OutOfMemoryError e) {
            System.err.println("conta " + c.name() + ": out of memory (" + e.getMessage() + "); use smaller images/batch or raise -Xmx via CONTA_JAVA_OPTS");
            return 3;
        } catch (Exception e) {
            System.err.println("conta " + c.name() + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
            if (System.getenv("CONTA_DEBUG") != null) e.printStackTrace();
            return 1;
        }
    }
}
