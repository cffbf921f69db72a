package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * target/native/conta-spin: the GOMP_SPINCOUNT the launcher gives inference commands (and libconta.so sets), the rounds
 * of `pause` that spin 100 us on this CPU (native/src/spin.h; 20 us until session 32). A count chosen on AMD hosts (1000, ~20 ns a round) spun
 * half as long on Intel ones (~10 ns a round).
 */
class OpenMpSpinTest {
    private static final Path SPIN = Path.of("target/native/conta-spin");

    record Out(int rc, String out, String err) { }

    private static Out spin(String... args) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(SPIN), "no target/native/conta-spin (the build had no C compiler)");
        List<String> cmd = new java.util.ArrayList<>(List.of(SPIN.toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes()), err = new String(p.getErrorStream().readAllBytes());
        return new Out(p.waitFor(), out, err);
    }

    /** Hand-worked: 20 us at 9.7 ns a round is 20000 / 9.7 = 2061.9 -> 2062; at 20 ns, 1000; outside [250, 20000] clamped. */
    @Test
    void roundsAreTheSpinTimeOverOneRound() throws Exception {
        assertEquals(new Out(0, "2062\n", ""), spin("20", "--pause-ns", "9.7"));
        assertEquals(new Out(0, "1000\n", ""), spin("20", "--pause-ns", "20"));
        assertEquals(new Out(0, "3000\n", ""), spin("30", "--pause-ns", "10"));
        assertEquals(new Out(0, "20000\n", ""), spin("20", "--pause-ns", "0.5"));  // 40000: a measurement gone wrong
        assertEquals(new Out(0, "250\n", ""), spin("1", "--pause-ns", "100"));     // 10 rounds would cover nothing
    }

    /** The measured count is 100 us over the measured round (the two measured apart, so within the noise of each). */
    @Test
    void theMeasuredCountSpinsAHundredMicroseconds() throws Exception {
        Out ns = spin("--pause-ns"), rounds = spin();
        assertEquals(0, ns.rc(), ns.err());
        assertEquals(0, rounds.rc(), rounds.err());
        double pause = Double.parseDouble(ns.out().strip());
        long n = Long.parseLong(rounds.out().strip());
        assertTrue(pause > 0.5 && pause < 500, "ns per pause: " + pause);
        double expected = Math.max(250, Math.min(20000, 100000 / pause));
        assertTrue(Math.abs(n - expected) <= 0.35 * expected, n + " rounds, expected ~" + expected + " at " + pause + " ns a round");
    }

    @Test
    void badArgumentsAreRefusedWithUsage() throws Exception {
        for (String[] a : new String[][]{{"x"}, {"0"}, {"-5"}, {"20", "--pause-ns", "abc"}, {"20", "--pause-ns", "0"}, {"20", "extra"}}) {
            Out o = spin(a);
            assertEquals(2, o.rc(), String.join(" ", a));
            assertEquals("", o.out(), String.join(" ", a));
            assertEquals(1, o.err().lines().count(), o.err());
        }
    }
}
