package conta.wsss;

import static org.junit.jupiter.api.Assertions.*;

import conta.config.Config;
import conta.models.ResNet;
import conta.pipeline.PipelineResumeTest;
import conta.tensor.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * cls.head_seed re-draws the irnet head init and nothing else: the control that tells a change of CONTA's head (its
 * extra input channels shift the head's random draws) from the context's content. -1 keeps the run's seed.
 */
class HeadSeedTest {
    private static float[][] weights(Config c) {
        try (CpuBackend b = new CpuBackend(); ResNet net = ClassifierStage.build(c, 4, 0, b)) {
            float[] head = net.camWeight().toArray();
            float[][] out = {head, null};
            net.visit("", (n, t, p) -> { if (p && out[1] == null && !n.startsWith("classifier")) out[1] = t.toArray(); });
            return out;
        }
    }

    @Test
    void headSeedRedrawsOnlyTheHead() {
        Config base = PipelineResumeTest.tiny();
        base.set("seed", "3");
        Config same = base.copy();
        same.set("cls.head_seed", "3");
        Config other = base.copy();
        other.set("cls.head_seed", "4");
        float[][] a = weights(base), s = weights(same), o = weights(other);
        assertArrayEquals(a[0], s[0], "head_seed = seed is the default draw");
        assertFalse(java.util.Arrays.equals(a[0], o[0]), "another head seed, another head");
        assertArrayEquals(a[1], o[1], "the backbone's first parameter does not change");
        float bound = (float) (1 / Math.sqrt(net(base)));
        for (float v : o[0]) assertTrue(Math.abs(v) <= bound, "U(+-1/sqrt(fan_in)): " + v);
    }

    private static int net(Config c) {
        try (CpuBackend b = new CpuBackend(); ResNet n = ClassifierStage.build(c, 4, 0, b)) { return n.camWeight().dim(1); }
    }
}
