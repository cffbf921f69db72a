package conta.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

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
        // the console is a file: Java's Process ends its stdout stream once the launched process exits (it drains what is
        // there and closes it), but the filter, a child of that process, writes the JVM's last lines after that exit
        Path console = tmp.resolve("console.txt");
        ProcessBuilder pb = new ProcessBuilder("setsid", "perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die", home.resolve("conta").toString(),
                "pipeline").redirectErrorStream(true).redirectOutput(console.toFile());
        pb.environment().put("JAVA_HOME", jdk.toString());
        pb.environment().remove("CONTA_SHOW_JVM_WARNINGS");
        Process p = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(console).contains("running\n") && System.nanoTime() < deadline) Thread.sleep(20);
        new ProcessBuilder("kill", "-INT", "--", "-" + p.pid()).inheritIO().start().waitFor(); // Ctrl-C: SIGINT to the process group
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), Files.readString(console));
        String note = "\ninterrupted: rerun the same command to resume\n";
        while (!Files.readString(console).contains(note) && System.nanoTime() < deadline) Thread.sleep(20); // the filter's last write
        String out = Files.readString(console);
        assertTrue(out.contains("running\n"), out);
        assertTrue(!out.contains("WARNING: Using incubator modules"), "the filter still drops the warning: " + out);
        assertTrue(out.contains(note), "the interrupt note reaches the console: " + out);
    }
}
