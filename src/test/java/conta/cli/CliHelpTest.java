package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** --help on every command and subcommand exits 0 with its usage; --version exits 0. */
class CliHelpTest {
    record Run(int code, String out, String err) { }

    static Run run(String... argv) {
        PrintStream o = System.out, e = System.err;
        ByteArrayOutputStream bo = new ByteArrayOutputStream(), be = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bo, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(be, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(argv);
            return new Run(code, bo.toString(StandardCharsets.UTF_8), be.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(o);
            System.setErr(e);
        }
    }

    @Test
    void everyCommandAndSubcommandHasHelp() {
        for (String name : Main.commands().keySet())
            for (String[] argv : new String[][]{{name, "--help"}, {name, "-h"}}) {
                Run r = run(argv);
                assertEquals(0, r.code(), String.join(" ", argv) + " exits 0; stderr: " + r.err());
                assertTrue(r.out().startsWith("usage: conta " + name), String.join(" ", argv) + " prints its usage: " + r.out());
                assertTrue(r.out().contains(" --") && !r.out().startsWith("usage: conta " + name + " [flags]"),
                        String.join(" ", argv) + " names the command's flags, not the generic line: " + r.out());
            }
        for (String[] argv : new String[][]{{"model", "forward", "--help"}, {"model", "step", "--arch", "x", "--help"}, {"bench", "train", "--help"},
                {"weights", "convert", "--help"}, {"pipeline", "--data", "x", "--bogus", "--help"}, {"help", "model"}}) {
            Run r = run(argv);
            assertEquals(0, r.code(), String.join(" ", argv));
            assertTrue(r.out().contains("usage: conta " + (argv[0].equals("help") ? argv[1] : argv[0])), r.out());
        }
        assertTrue(run("model", "forward", "--help").out().contains("conta model step"), "model's usage covers both verbs");
    }

    @Test
    void versionAndTopLevelHelp() {
        Run v = run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().matches("conta \\S+ \\(Java 25.*\\)\\s*"), v.out());
        Run h = run("--help");
        assertEquals(0, h.code());
        assertTrue(h.out().contains("pipeline") && h.out().contains("--version"), h.out());
        assertEquals(2, run().code(), "no command is a usage error");
        assertEquals(2, run("model").code(), "a missing verb is a usage error (exit 2)");
    }

    /** A misspelt -Dconta.* property stops any command before it runs, with one line; --help-properties lists them. */
    @Test
    void aBadSystemPropertyStopsTheCommandWithOneLine() {
        Run h = run("--help-properties");
        assertEquals(0, h.code());
        assertTrue(h.out().contains("-Dconta.plan.winograd=true|false"), h.out());
        // properties nothing reads at class initialisation, so setting them for a moment changes no other test
        for (String[] kv : new String[][] {{"conta.plan.winnograd", "false", "-Dconta.plan.winnograd: no such conta property (did you mean -Dconta.plan.winograd?)"},
                {"conta.cuda.tf32", "yes", "-Dconta.cuda.tf32=yes: expected true or false"}}) {
            System.setProperty(kv[0], kv[1]);
            try {
                Run r = run("eval", "--pred", "/nonexistent", "--gt", "/nonexistent");
                assertEquals(2, r.code(), r.err());
                assertTrue(r.err().startsWith("conta: " + kv[2]), r.err());
                assertEquals(1, r.err().lines().count(), r.err());
            } finally {
                System.clearProperty(kv[0]);
            }
        }
    }
}
