package conta.bench;

import conta.image.ImageCodec;
import conta.image.RgbImage;
import conta.wsss.crf.CrfParams;
import conta.wsss.crf.DenseCrf;
import conta.wsss.crf.Unary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Dense CRF time on one 500x375 VOC image: both presets, 21 and 3 labels, lattice set-up alone (0 iterations) and
 * with the presets' 10 iterations. Unaries are smooth random maps (their values do not change the work; the image
 * colours set the lattice size). Usage: DenseCrfBench [IMAGE_OR_VOC_DIR] [repeats].
 */
public final class DenseCrfBench {
    public static void main(String[] a) throws Exception {
        Path src = Path.of(a.length > 0 ? a[0] : "/work/shared/data/voc2012-sample");
        int repeats = a.length > 1 ? Integer.parseInt(a[1]) : 3;
        Path file = Files.isDirectory(src) ? first500x375(src.resolve("JPEGImages")) : src;
        RgbImage img = ImageCodec.read(file);
        System.out.printf("dense CRF bench: %s (%dx%d), %d cores, mean of %d runs after 1 warm-up%n",
                file.getFileName(), img.w(), img.h(), Runtime.getRuntime().availableProcessors(), repeats);
        for (int labels : new int[]{21, 3}) {
            float[] probs = smoothProbs(img.w(), img.h(), labels, new Random(1));
            int[] hard = DenseCrf.argmax(probs, labels);
            float[] uLab = Unary.fromLabels(hard, labels, DenseCrf.IRN_GT_PROB, false), uSoft = Unary.fromSoftmax(probs, labels);
            for (CrfParams p : List.of(CrfParams.IRN_LABEL, CrfParams.DEEPLAB)) {
                String name = p == CrfParams.IRN_LABEL ? "IRN_LABEL" : "DEEPLAB";
                float[] u = p == CrfParams.IRN_LABEL ? uLab : uSoft;
                CrfParams setup = new CrfParams(0, p.gaussSxy(), p.gaussCompat(), p.bilatSxy(), p.bilatSrgb(), p.bilatCompat());
                double[] t0 = time(() -> DenseCrf.inferProbs(u, img, labels, setup), repeats);
                double[] t10 = time(() -> DenseCrf.inferProbs(u, img, labels, p), repeats);
                System.out.printf("%-9s %2d labels: set-up %.3f s (cpu %.3f s), set-up + 10 iterations %.3f s (cpu %.3f s), %.0f ms/iteration%n",
                        name, labels, t0[0], t0[1], t10[0], t10[1], (t10[0] - t0[0]) * 100);
            }
        }
    }

    /** {wall seconds, process CPU seconds} per run; CPU time shows how much of the wall time other jobs took. */
    static double[] time(Runnable r, int repeats) {
        r.run();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long t = System.nanoTime(), c = os.getProcessCpuTime();
        for (int i = 0; i < repeats; i++) r.run();
        return new double[]{(System.nanoTime() - t) / 1e9 / repeats, (os.getProcessCpuTime() - c) / 1e9 / repeats};
    }

    static Path first500x375(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                ImageCodec.Dims d = ImageCodec.probe(p);
                if (d.w() == 500 && d.h() == 375) return p;
            }
        }
        throw new IllegalArgumentException("no 500x375 image in " + dir);
    }

    /** Softmax of a few random low-frequency waves per label, nLabels x H x W. */
    static float[] smoothProbs(int w, int h, int nLabels, Random r) {
        int n = w * h;
        float[] p = new float[nLabels * n];
        double[][] c = new double[nLabels][4];
        for (double[] row : c) for (int k = 0; k < 4; k++) row[k] = r.nextDouble() * 6;
        for (int i = 0; i < n; i++) {
            double x = (i % w) / (double) w, y = (i / w) / (double) h, s = 0;
            for (int l = 0; l < nLabels; l++) {
                double z = Math.exp(3 * Math.sin(c[l][0] * x + c[l][1]) * Math.cos(c[l][2] * y + c[l][3]));
                p[l * n + i] = (float) z;
                s += z;
            }
            for (int l = 0; l < nLabels; l++) p[l * n + i] /= (float) s;
        }
        return p;
    }
}
