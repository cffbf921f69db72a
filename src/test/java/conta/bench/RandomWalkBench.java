package conta.bench;

import conta.tensor.Backend;
import conta.tensor.cpu.CpuBackend;
import conta.wsss.irn.DenseWalk;
import conta.wsss.irn.RandomWalk;
import conta.wsss.irn.WalkFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Sparse vs dense random walk on one image's stride-4 grid (default 500x375 -> 125x94, 3 classes, IRNet settings).
 * Usage: RandomWalkBench sparse|dense [imageW imageH classes]. Run each mode in its own JVM: peak memory is the
 * process's VmHWM (resident high-water mark, JVM included), printed next to the RSS before the walk. "dense" also
 * runs the sparse walk first (tiny) and reports label agreement and the largest score difference.
 */
public final class RandomWalkBench {
    public static void main(String[] a) throws Exception {
        String mode = a.length > 0 ? a[0] : "sparse";
        int iw = a.length > 1 ? Integer.parseInt(a[1]) : 500, ih = a.length > 2 ? Integer.parseInt(a[2]) : 375;
        int k = a.length > 3 ? Integer.parseInt(a[3]) : 3;
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
            long t0 = System.nanoTime();
            float[] sparse = rw.propagate(cams, k, b, h, w);
            double ts = (System.nanoTime() - t0) / 1e9;
            System.out.printf("  sparse: %.3f s, RSS before %d MB, peak %d MB%n", ts, rss0 >> 10, status("VmHWM") >> 10);
            if (!mode.equals("dense")) return;
            t0 = System.nanoTime();
            float[] dense = DenseWalk.propagate(be, rw.params(), cams, k, b, h, w);
            double td = (System.nanoTime() - t0) / 1e9;
            System.out.printf("  dense:  %.1f s, peak %d MB (two %d MB matrices)%n", td, status("VmHWM") >> 10,
                    (long) h * w * h * w * 4 >> 20);
            float[] ps = rw.scores(be, sparse, k, h, w, ih, iw), pd = rw.scores(be, dense, k, h, w, ih, iw);
            byte[] ls = RandomWalk.labels(ps, k + 1, ids, ih, iw), ld = RandomWalk.labels(pd, k + 1, ids, ih, iw);
            long same = 0;
            double diff = 0;
            for (int i = 0; i < ls.length; i++) if (ls[i] == ld[i]) same++;
            for (int i = 0; i < ps.length; i++) diff = Math.max(diff, Math.abs(ps[i] - pd[i]));
            System.out.printf("  agreement: labels %.6f (%d of %d pixels), max |score diff| %.2e, speed-up %.0fx%n",
                    (double) same / ls.length, same, ls.length, diff, td / ts);
        }
    }

    /** A /proc/self/status field in kB (Linux). */
    static long status(String field) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status")))
            if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        return -1;
    }
}
