package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.eval.GroundTruth;
import conta.image.Mask;
import conta.io.HostArray;
import conta.io.Npy;
import conta.synth.SynthGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `conta eval --cam`: --bg-threshold and --sweep are checked as the pipeline's cam.bg_threshold and cam.sweep are
 * (a number in [0, 1]; START < END in [0, 1], STEP > 0, at most 10,000 steps), each refusal naming the flag, before
 * the CAMs are read; good values score.
 */
class EvalArgsTest {
    @TempDir static Path tmp;
    static Path data, cams;

    /** A synthetic set and a CAM .npy per val image (a ramp over the foreground classes, the masks' size). */
    @BeforeAll
    static void make() throws Exception {
        data = tmp.resolve("synth");
        SynthGenerator.generate(data, new SynthGenerator.Config(3, 4, 2, 32, 0.8));
        cams = tmp.resolve("cams");
        Files.createDirectories(cams);
        GroundTruth gt = GroundTruth.open(data, null, "val", null);
        int c = gt.classes().size() - 1;
        for (String id : gt.ids()) {
            Mask m = gt.masks().apply(id);
            float[] v = new float[c * m.h() * m.w()];
            for (int i = 0; i < v.length; i++) v[i] = (i % 97) / 97f;
            Npy.write(cams.resolve(id + ".npy"), new HostArray(new int[]{c, m.h(), m.w()}, v));
        }
    }

    static ModelCommandErrorsTest.Result eval(String... extra) {
        String[] a = {"eval", "--cam", cams.toString(), "--gt", data.toString(), "--split", "val"};
        String[] all = java.util.Arrays.copyOf(a, a.length + extra.length);
        System.arraycopy(extra, 0, all, a.length, extra.length);
        return ModelCommandErrorsTest.run(all);
    }

    static void refused(ModelCommandErrorsTest.Result r, String... mustContain) {
        ErrorContractTest.userError(r, mustContain);
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(r.out().contains("mIoU"), "nothing scored: " + r.out());
    }

    @Test
    void goodValuesScore() {
        for (String[] ok : new String[][]{{}, {"--bg-threshold", "0.2"}, {"--bg-threshold", "0"}, {"--bg-threshold", "1"}, {"--sweep", "0.05:0.60:0.01"}}) {
            ModelCommandErrorsTest.Result r = eval(ok);
            assertEquals(0, r.code(), String.join(" ", ok) + ": " + r.err());
            assertTrue(r.out().contains("mIoU"), r.out());
        }
    }

    @Test
    void bgThresholdOutsideZeroOneOrNotANumberNamesTheFlag() {
        for (String v : new String[]{"NaN", "-1", "5", "Infinity"})
            refused(eval("--bg-threshold", v), "--bg-threshold '" + v + "'", "a number in [0, 1]");
        refused(eval("--bg-threshold", "abc"), "--bg-threshold 'abc'", "must be a number"); // was "threshold sweep 'abc' ... START:END:STEP"
    }

    @Test
    void sweepBeyondTheStepLimitOrOutOfRangeNamesTheFlag() {
        // was a NegativeArraySizeException: 10^13 thresholds
        refused(eval("--sweep", "0:1000000:0.0000001"), "--sweep '0:1000000:0.0000001'", "at most 10000 steps", "in [0, 1]");
        refused(eval("--sweep", "0:1:0.00001"), "--sweep", "at most 10000 steps"); // 100,000 steps in range
        for (String v : new String[]{"0:NaN:0.1", "0.6:0.05:0.01", "0:1:0", "0:1:-0.1", "-0.5:0.5:0.1", "0.1:0.5", "abc"})
            refused(eval("--sweep", v), "--sweep '" + v + "'", "START:END:STEP");
    }
}
