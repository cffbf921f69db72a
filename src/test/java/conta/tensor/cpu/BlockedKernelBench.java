package conta.tensor.cpu;

import conta.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * The per-channel passes between convolutions on plain NCHW and on nChw16c (f32, or bf16 with a fourth argument "bf16"):
 * frozen BN + ReLU, BN + ReLU and plain BN forward and backward, frozen BN backward, add + ReLU;
 * through CpuBackend as a training step calls them: ms per call, median of 30 after 10 warm-up calls.
 * Usage (bench/blocked_kernels.sh): BlockedKernelBench N C H [bf16].
 */
public final class BlockedKernelBench {
    public static void main(String[] a) {
        int n = Integer.parseInt(a[0]), c = Integer.parseInt(a[1]), h = Integer.parseInt(a[2]);
        CpuBackend b = new CpuBackend();
        SplittableRandom r = new SplittableRandom(1);
        float[] v = new float[n * c * h * h];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        float[] cv = new float[c];
        for (int i = 0; i < c; i++) cv[i] = (float) r.nextGaussian();
        Tensor xp = Tensor.of(b, v, n, c, h, h), dyp = Tensor.of(b, v, n, c, h, h);
        Tensor xb = Tensor.of(b, v, n, c, h, h), dyb = Tensor.of(b, v, n, c, h, h);
        boolean half = a.length > 3 && a[3].equals("bf16"); CpuBackend.storage(xb).toBlocked(Blocked.of(xb, half));
        CpuBackend.storage(dyb).toBlocked(Blocked.of(dyb, half));
        Tensor g = Tensor.of(b, cv, c), be = Tensor.of(b, cv, c), rm = Tensor.of(b, cv, c), rv = Tensor.of(b, cv, c), sm = b.empty(c), si = b.empty(c);
        Tensor dg = b.empty(c), db = b.empty(c);
        Tensor yp = b.empty(n, c, h, h), yb = b.empty(n, c, h, h), dxp = b.empty(n, c, h, h), dxb = b.empty(n, c, h, h);
        String[] names = {"affineRelu", "bnReluTrain", "bnReluBackward", "affineBackward", "addRelu", "bnTrain", "bnBackward"};
        for (int op = 0; op < names.length; op++) {
            for (int mode = 0; mode < 2; mode++) {
                boolean blk = mode == 1;
                Tensor x = blk ? xb : xp, dy = blk ? dyb : dyp, y = blk ? yb : yp, dx = blk ? dxb : dxp;
                double[] t = new double[30];
                for (int rep = 0; rep < 40; rep++) {
                    long t0 = System.nanoTime();
                    switch (op) {
                        case 0 -> b.channelAffineRelu(x, g, be, y);
                        case 1 -> b.batchNormReluTrain(x, g, be, rm, rv, 0.1f, 1e-5f, y, sm, si);
                        case 2 -> b.batchNormReluBackward(x, g, y, dy, sm, si, dx, dg, db);
                        case 3 -> b.channelAffineBackward(x, y, dy, g, dx, dg, db);
                        case 4 -> b.addRelu(x, dy, y);
                        case 5 -> b.batchNormTrain(x, g, be, rm, rv, 0.1f, 1e-5f, y, sm, si);
                        default -> b.batchNormBackward(x, g, dy, sm, si, dx, dg, db);
                    }
                    long t1 = System.nanoTime();
                    if (rep >= 10) t[rep - 10] = (t1 - t0) / 1e6;
                    if (blk && !Blocked.holds(y)) throw new AssertionError("not blocked");
                }
                java.util.Arrays.sort(t);
                System.out.printf("%-16s %-12s %7.3f ms%n", names[op], blk ? (half ? "blocked bf16" : "blocked f32") : "plain f32", t[15]);
            }
        }
    }
}
