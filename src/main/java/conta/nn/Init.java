package conta.nn;

import conta.tensor.Tensor;
import java.util.SplittableRandom;

/** Seeded parameter initialisation following torchvision's ResNet defaults. */
public final class Init {
    private Init() { }

    /** Convs: Kaiming normal (fan_out, ReLU); BN: weight 1, bias 0; Linear: U(+-1/sqrt(in)) as nn.Linear. */
    public static void torchvision(Module m, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        walk(m, r);
    }

    private static void walk(Module m, SplittableRandom r) {
        switch (m) {
            case Conv2d c -> {
                int[] s = c.weight.shape();
                double std = Math.sqrt(2.0 / (s[0] * s[2] * s[3]));
                normal(c.weight, std, r);
                if (c.bias != null) c.backend().fill(c.bias, 0f);
            }
            case Linear l -> {
                double bound = 1.0 / Math.sqrt(l.weight.dim(1));
                uniform(l.weight, bound, r);
                if (l.bias != null) uniform(l.bias, bound, r);
            }
            case BatchNorm2d bn -> {
                bn.backend().fill(bn.weight, 1f);
                bn.backend().fill(bn.bias, 0f);
                bn.backend().fill(bn.runningMean, 0f);
                bn.backend().fill(bn.runningVar, 1f);
                for (Tensor t : new Tensor[]{bn.weight, bn.bias, bn.runningMean, bn.runningVar}) t.markModified();
            }
            default -> { }
        }
        for (Module c : m.children().values()) walk(c, r);
    }

    public static void normal(Tensor t, double std, SplittableRandom r) {
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * std);
        t.backend().upload(t, v);
        t.markModified();
    }

    public static void uniform(Tensor t, double bound, SplittableRandom r) {
        t.backend().upload(t, uniform((int) t.numel(), bound, r));
        t.markModified();
    }

    /** n draws of U(-bound, bound) from r, in the order {@link #uniform(Tensor, double, SplittableRandom)} fills a tensor. */
    public static float[] uniform(int n, double bound, SplittableRandom r) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        return v;
    }
}
