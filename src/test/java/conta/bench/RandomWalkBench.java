package conta.bench;

import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import conta.wsss.irn.DenseWalk;
import conta.wsss.irn.RandomWalk;
import conta.wsss.irn.WalkFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Sparse vs dense random walk on one image's stride-4 grid (default 500x375 -> 125x94, 3 classes, IRNet settings).
 * Usage: RandomWalkBench sparse|dense [imageW imageH classes [squarings [control]]]. Run each mode in its own JVM:
 * peak memory is the process's VmHWM (resident high-water mark, JVM included). "dense" also runs the sparse walk
 * first (tiny), times each squaring with its share of subnormal entries, and after all 8 reports label agreement;
 * "control" then times one sgemm of the same size on normal random floats.
 */
public final class RandomWalkBench {
    public static void main(String[] a) throws Exception {
        String mode = a.length > 0 ? a[0] : "sparse";
        int iw = a.length > 1 ? Integer.parseInt(a[1]) : 500, ih = a.length > 2 ? Integer.parseInt(a[2]) : 375;
        int k = a.length > 3 ? Integer.parseInt(a[3]) : 3;
        int maxSquarings = a.length > 4 ? Integer.parseInt(a[4]) : 8;
        boolean control = a.length > 5 && a[5].equals("control");
        int h = (ih + 3) / 4, w = (iw + 3) / 4;
        Random rnd = new Random(42);
        float[] cams = WalkFixtures.cams(rnd, k, h, w), b = WalkFixtures.boundary(rnd, h, w);
        int[] ids = new int[k];
        for (int c = 0; c < k; c++) ids[c] = c + 1;
        RandomWalk rw = new RandomWalk(RandomWalk.Params.IRNET);
        System.out.printf("random walk bench: %s, image %dx%d, grid %dx%d = %d nodes, %d classes, %d threads%n",
                mode, iw, ih, w, h, h * w, k, Runtime.getRuntime().availableProcessors());
        try (Backend be = new CpuBackend()) {
            rw.propagate(cams, k, b, h, w); // warm-up (JIT)
            long rss0 = status("VmRSS");
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime(), t0 = System.nanoTime();
            float[] sparse = rw.propagate(cams, k, b, h, w);
            double ts = (System.nanoTime() - t0) / 1e9, cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
            System.out.printf("  sparse: %.3f s wall, %.3f s CPU, RSS before %d MB, peak %d MB%n", ts, cpu, rss0 >> 10, status("VmHWM") >> 10);
            if (!mode.equals("dense")) return;
            int n = h * w;
            t0 = System.nanoTime();
            Tensor t = DenseWalk.transition(be, rw.params(), b, h, w), t2 = be.empty(n, n);
            System.out.printf("  dense: T built in %.1f s (%d MB per matrix)%n", (System.nanoTime() - t0) / 1e9, (long) n * n * 4 >> 20);
            double total = 0;
            int done = 0;
            for (; done < Math.min(maxSquarings, rw.params().expTimes()); done++) {
                t0 = System.nanoTime();
                be.gemm(false, false, 1f, t, t, 0f, t2);
                double s = (System.nanoTime() - t0) / 1e9;
                total += s;
                Tensor tmp = t;
                t = t2;
                t2 = tmp;
                System.out.printf("    squaring %d: %.1f s (%.1f GFLOP/s), %.1f%% of entries subnormal%n", done + 1, s,
                        2.0 * n * n * n / s / 1e9, 100.0 * subnormalFraction(t));
            }
            System.out.printf("  dense: %d squarings %.1f s, peak %d MB%n", done, total, status("VmHWM") >> 10);
            if (control) { // the same sgemm on random normal floats: what the squarings would cost without subnormals
                float[] v = new float[n * n];
                for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
                be.upload(t2, v);
                t0 = System.nanoTime();
                be.gemm(false, false, 1f, t2, t2, 0f, t);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("  control sgemm %dx%d on normal random floats: %.1f s (%.1f GFLOP/s)%n", n, n, s, 2.0 * n * n * n / s / 1e9);
            } else if (done == rw.params().expTimes()) {
                float[] x = new float[k * n];
                for (int c = 0; c < k; c++) for (int i = 0; i < n; i++) x[c * n + i] = cams[c * n + i] * (1f - b[i]);
                float[] dense;
                try (Tensor xs = Tensor.of(be, x, k, n); Tensor out = be.empty(k, n)) {
                    be.gemm(false, false, 1f, xs, t, 0f, out);
                    dense = out.toArray();
                }
                float[] ps = WalkFixtures.scores(rw, be, sparse, k, h, w, ih, iw), pd = WalkFixtures.scores(rw, be, dense, k, h, w, ih, iw);
                byte[] ls = WalkFixtures.labels(ps, k + 1, ids, ih, iw), ld = WalkFixtures.labels(pd, k + 1, ids, ih, iw);
                long same = 0;
                double diff = 0;
                for (int i = 0; i < ls.length; i++) if (ls[i] == ld[i]) same++;
                for (int i = 0; i < ps.length; i++) diff = Math.max(diff, Math.abs(ps[i] - pd[i]));
                System.out.printf("  agreement: labels %.6f (%d of %d pixels), max |score diff| %.2e%n",
                        (double) same / ls.length, same, ls.length, diff);
            }
            t.close();
            t2.close();
        }
    }

    static double subnormalFraction(Tensor t) {
        float[] v = t.toArray();
        long c = 0;
        for (float f : v) if (f != 0f && Math.abs(f) < Float.MIN_NORMAL) c++;
        return (double) c / v.length;
    }

    /** A /proc/self/status field in kB (Linux). */
    static long status(String field) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status")))
            if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        return -1;
    }
}
