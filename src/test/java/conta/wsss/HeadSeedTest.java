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

    /** conta.head_init=matched: the widened head's feature columns are the baseline's, the context column its own. */
    @Test
    void matchedHeadStartsFromTheBaselinesFeatureWeights() {
        Config base = PipelineResumeTest.tiny();
        Config matched = base.copy();
        matched.set("conta.head_init", "matched");
        float[] plain = weights(base)[0];
        float[] joint, mine;
        int feat;
        try (CpuBackend b = new CpuBackend(); ResNet n = ClassifierStage.build(base, 4, 1, b)) { joint = n.camWeight().toArray(); feat = n.camWeight().dim(1) - 1; }
        try (CpuBackend b = new CpuBackend(); ResNet n = ClassifierStage.build(matched, 4, 1, b)) { mine = n.camWeight().toArray(); }
        assertEquals(4 * feat, plain.length);
        boolean jointDiffers = false;
        for (int o = 0; o < 4; o++) {
            for (int j = 0; j < feat; j++) {
                assertEquals(plain[o * feat + j], mine[o * (feat + 1) + j], "class " + o + ", feature " + j);
                if (plain[o * feat + j] != joint[o * (feat + 1) + j]) jointDiffers = true;
            }
            float ctx = mine[o * (feat + 1) + feat];
            assertTrue(ctx != 0 && Math.abs(ctx) <= 1 / Math.sqrt(feat + 1), "context column of class " + o + ": " + ctx);
        }
        assertTrue(jointDiffers, "the joint init (the default, as PyTorch) re-draws the feature columns");
    }

    private static int net(Config c) {
        try (CpuBackend b = new CpuBackend(); ResNet n = ClassifierStage.build(c, 4, 0, b)) { return n.camWeight().dim(1); }
    }
}
