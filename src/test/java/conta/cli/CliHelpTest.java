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

    /**
     * Every flag a command accepts (the names its unknown-flag check lists: {@code a.unknown(List.of(...))} or a
     * constant list of them in the command's source) appears in that command's --help, so the usage cannot fall behind
     * the code (the docs probe found --seed/--rounds of demo, --rounds of compare and --device of model missing).
     */
    @Test
    void everyAcceptedFlagIsInTheHelp() throws Exception {
        java.util.regex.Pattern list = java.util.regex.Pattern.compile(
                "(?:unknown\\(|(?:KNOWN|FLAGS|ARCH_FLAGS|LATENCY_FLAGS|TRAIN_INFER_FLAGS|known)\\s*=\\s*)List\\.of\\(([^)]*)\\)");
        java.util.regex.Pattern literal = java.util.regex.Pattern.compile("\"([a-z0-9-]+)\"");
        java.util.List<String> missing = new java.util.ArrayList<>();
        int checked = 0;
        for (var e : Main.commands().entrySet()) {
            java.nio.file.Path src = java.nio.file.Path.of("src/main/java/conta/cli/" + e.getValue().getClass().getSimpleName() + ".java");
            if (!java.nio.file.Files.isRegularFile(src)) continue;
            String help = run(e.getKey(), "--help").out();
            var m = list.matcher(java.nio.file.Files.readString(src));
            while (m.find()) {
                var l = literal.matcher(m.group(1));
                while (l.find()) {
                    String f = l.group(1);
                    if (f.equals("help") || f.equals("help-config")) continue;
                    checked++;
                    if (!java.util.regex.Pattern.compile("--" + java.util.regex.Pattern.quote(f) + "(?![a-z0-9-])").matcher(help).find())
                        missing.add("conta " + e.getKey() + " --" + f);
                }
            }
        }
        assertTrue(checked > 50, "flags found in the sources: " + checked);
        assertTrue(missing.isEmpty(), "accepted but not in --help: " + missing);
    }
}
