package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.config.Config;
import conta.synth.SynthGenerator;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CONTA run retrains the classifier and DeepLab in every round from the same cls.weights / seg.weights; the warning
 * that a backbone starts from random weights is about the config, so run.log has it once per run, not once per round
 * (a 3-round demo-conta log had each of the two warnings 4 times).
 */
class RunLogWarningsOnceTest {
    @TempDir static Path tmp;

    @Test
    void aWeightsWarningIsPrintedOncePerRunNotOncePerRound() throws Exception {
        Path data = tmp.resolve("synth"), out = tmp.resolve("conta");
        SynthGenerator.generate(data, new SynthGenerator.Config(5, 16, 6, 64, 0.8));
        Config c = ReportHtmlBrowserTest.quick(); // cls.weights=none, seg.weights=none
        c.applySets(List.of("method=conta", "conta.rounds=1", "conta.confounder_source=pseudo"));
        try (CpuBackend b = new CpuBackend()) {
            Methods.run(c, data, out, b);
        }
        List<String> log = Files.readAllLines(out.resolve(RunLog.FILE));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("round 1 classifier")), "the run trained a second round");
        for (String key : new String[]{"cls.weights", "seg.weights"})
            assertEquals(1, log.stream().filter(l -> l.startsWith("warning: " + key + "=none")).count(), key + " warning lines in run.log:\n" + String.join("\n", log));
    }
}
