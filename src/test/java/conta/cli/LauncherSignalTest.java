package conta.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ./conta launcher under Ctrl-C. The terminal sends SIGINT to the whole foreground process group: the JVM and the
 * perl filter that drops the JVM's incubator warning from stderr. The filter died at once, so the pipeline's
 * "interrupted: ... rerun the same command to resume" (its shutdown hook) went into a closed pipe and the user saw
 * nothing. Here the launcher runs a stand-in JDK whose java prints a line when interrupted, as the pipeline's hook does.
 */
class LauncherSignalTest {
    @TempDir Path tmp;

    @Test
    void ctrlCStillShowsWhatTheJvmPrintsOnItsWayOut() throws Exception {
        for (String tool : new String[]{"perl", "setsid", "kill"})
            Assumptions.assumeTrue(new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() == 0, tool + " is not installed");
        Path home = tmp.resolve("launcher"), jdk = tmp.resolve("jdk");
        Files.createDirectories(home.resolve("target"));
        Files.copy(Path.of("conta"), home.resolve("conta"));
        home.resolve("conta").toFile().setExecutable(true);
        Files.writeString(home.resolve("target/conta.jar"), ""); // no src/ beside it: the launcher does not build
        Files.createDirectories(jdk.resolve("bin"));
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"25.0.1\"\n");
        Path java = jdk.resolve("bin/java");
        Files.writeString(java, """
                #!/usr/bin/env perl
                $| = 1;
                $SIG{INT} = sub { print STDERR "\\ninterrupted: rerun the same command to resume\\n"; exit 130 };
                print STDERR "WARNING: Using incubator modules: jdk.incubator.vector\\n";
                print STDERR "running\\n";
                sleep 1 for 1 .. 60;
                exit 0;
                """);
        java.toFile().setExecutable(true);
        // a session of its own (a process group to signal, as a terminal does), with SIGINT at its default: a test JVM
        // started in the background may have inherited it ignored
        ProcessBuilder pb = new ProcessBuilder("setsid", "perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die", home.resolve("conta").toString(),
                "pipeline").redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", jdk.toString());
        pb.environment().remove("CONTA_SHOW_JVM_WARNINGS");
        Process p = pb.start();
        StringBuilder console = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                console.append(line).append('\n');
                if (line.equals("running")) // Ctrl-C: SIGINT to the process group
                    new ProcessBuilder("kill", "-INT", "--", "-" + p.pid()).inheritIO().start().waitFor();
            }
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), console.toString());
        assertTrue(console.toString().contains("running\n"), console.toString());
        assertTrue(!console.toString().contains("WARNING: Using incubator modules"), "the filter still drops the warning: " + console);
        assertTrue(console.toString().contains("\ninterrupted: rerun the same command to resume\n"), "the interrupt note reaches the console: " + console);
    }
}
