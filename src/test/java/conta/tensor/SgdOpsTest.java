package conta.tensor;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** sgdStep against RefOps over several steps (first step and later), with and without momentum / weight decay. */
class SgdOpsTest extends OpsTestBase {

    @ParameterizedTest(name = "lr={0} momentum={1} wd={2}")
    @CsvSource({"0.1, 0, 0", "0.05, 0.9, 0", "0.01, 0.9, 5e-4", "0.1, 0, 1e-2", "0.5, 0.5, 0.1"})
    void stepsMatchReference(float lr, float momentum, float wd) {
        Random rnd = new Random(1);
        int len = 240;
        double[] p = rand(rnd, len, -1, 1), buf = rand(rnd, len, -9, 9); // stale buffer must be ignored on step 1
        Tensor pt = t(p, 4, 60), bt = t(buf, 4, 60);
        for (int step = 0; step < 4; step++) {
            double[] g = rand(rnd, len, -1, 1);
            boolean first = step == 0;
            RefOps.sgdStep(p, g, buf, lr, momentum, wd, first);
            be.sgdStep(pt, t(g, 4, 60), bt, lr, momentum, wd, first);
            GradCheck.assertClose("param after step " + (step + 1), p, get(pt), FWD_TOL);
            if (momentum != 0) GradCheck.assertClose("momentum buffer after step " + (step + 1), buf, get(bt), FWD_TOL);
        }
    }
}
