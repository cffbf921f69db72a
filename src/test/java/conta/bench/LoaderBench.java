package conta.bench;

import conta.data.AugmentSpec;
import conta.data.Batch;
import conta.data.Dataset;
import conta.data.Datasets;
import conta.data.Loader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Loader throughput: JPEG decode + IRNet CAM augmentation (long side U[320,640], flip, normalise, random 512 crop)
 * through {@link Loader}, in images per second. Usage: LoaderBench [DATA_ROOT] [workers] [batch] [epochs].
 */
public final class LoaderBench {
    public static void main(String[] a) throws Exception {
        Path root = Path.of(a.length > 0 ? a[0] : (Files.isDirectory(Path.of("../shared/data")) ? "../shared/data" : "/work/shared/data"));
        int workers = a.length > 1 ? Integer.parseInt(a[1]) : Runtime.getRuntime().availableProcessors();
        int batch = a.length > 2 ? Integer.parseInt(a[2]) : 8;
        int epochs = a.length > 3 ? Integer.parseInt(a[3]) : 6;
        Dataset ds = Datasets.open(root.resolve("voc2012-sample"), false);
        List<String> ids = new ArrayList<>(ds.ids("trainval"));
        AugmentSpec spec = AugmentSpec.irnCam(512);
        System.out.printf("loader bench: %d VOC images, crop 512, batch %d, %d workers, %d cores, %d epochs (+1 warm-up)%n",
                ids.size(), batch, workers, Runtime.getRuntime().availableProcessors(), epochs);
        double best = 0, sum = 0;
        try (Loader l = new Loader(ds, ids, spec, new Loader.Options(batch, true, true, 1, workers, 2 * workers, false))) {
            for (int e = 0; e <= epochs; e++) {
                long t0 = System.nanoTime();
                int n = 0;
                for (Iterator<Batch> it = l.epoch(e); it.hasNext(); ) n += it.next().n();
                double ips = n / ((System.nanoTime() - t0) / 1e9);
                if (e == 0) { System.out.printf("  warm-up epoch: %.1f images/s%n", ips); continue; }
                System.out.printf("  epoch %d: %d images, %.1f images/s%n", e, n, ips);
                best = Math.max(best, ips);
                sum += ips;
            }
        }
        System.out.printf("mean %.1f images/s, best %.1f images/s%n", sum / epochs, best);
    }
}
