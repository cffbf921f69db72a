package conta.eval;

import conta.data.DataError;
import conta.error.FormatError;
import conta.image.CamMaps;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.io.HostArray;
import conta.tensor.Backend;
import conta.tensor.Backends;
import conta.tensor.Tensor;
import conta.tensor.WsssOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Scores pseudo-masks / segmentations (PNG label maps) and CAMs against a {@link GroundTruth}. A prediction missing for
 * a listed image is an error. CAM convention: {@code ID.npy}, float32 C×H×W over all C foreground classes in class
 * order (zeros for classes not in the image), at the ground-truth size; a constant background plane at threshold t is
 * prepended and the argmax taken, so a pixel is foreground when its best CAM value is strictly above t.
 */
public final class Evaluator {
    private Evaluator() { }

    /** Scores label maps on the CPU. */
    public static EvalResult masks(GroundTruth gt, Path predDir) {
        try (Backend cpu = Backends.select("cpu")) {
            return masks(gt, predDir, cpu);
        }
    }

    /**
     * Scores label maps with the backend's confusion op ({@link conta.tensor.WsssOps#confusion}); images in parallel on
     * the CPU, one after the other on a device (one stream).
     */
    public static EvalResult masks(GroundTruth gt, Path predDir, Backend b) {
        checkAllPresent(gt, predDir, ".png");
        int k = gt.classes().size();
        WsssOps ops = b.wsss();
        IntStream range = IntStream.range(0, gt.ids().size());
        Confusion total = (b.name().equals("cpu") ? range.parallel() : range).mapToObj(i -> {
            String id = gt.ids().get(i);
            Path p = predDir.resolve(id + ".png");
            Mask pred;
            try {
                pred = IndexPng.read(p);
            } catch (IOException e) {
                throw new DataError(id, p, e.getMessage(), e);
            }
            Mask g = gt.masks().apply(id);
            if (pred.h() != g.h() || pred.w() != g.w())
                throw new DataError(id, p, "prediction " + p + " is " + pred.w() + "x" + pred.h() + " but its ground truth is " + g.w() + "x" + g.h()
                        + "; write predictions at the original image size");
            Confusion c = new Confusion(k);
            c.addIgnored(count255(g.data())); // the device op skips them without counting
            try (Tensor tg = Tensor.of(b, unsigned(g.data()), g.h(), g.w()); Tensor tp = Tensor.of(b, unsigned(pred.data()), g.h(), g.w())) {
                long[] m = ops.confusion(tg, tp, k);
                for (int r = 0; r < k; r++) for (int q = 0; q < k; q++) if (m[r * k + q] != 0) c.add(r, q, m[r * k + q]);
            } catch (IllegalArgumentException e) {
                throw new DataError(id, p, p + " vs its ground truth: " + e.getMessage() + "; pass the right --classes file");
            }
            return c;
        }).reduce((a, c2) -> { a.add(c2); return a; }).orElseGet(() -> new Confusion(k));
        return new EvalResult("mask", gt.split(), gt.ids().size(), gt.classes(), total, null, List.of());
    }

    private static long count255(byte[] v) {
        long n = 0;
        for (byte b : v) if (b == (byte) 255) n++;
        return n;
    }

    /**
     * The warning for a scored split whose ground truth has no foreground pixel but 255s: binary masks saved as 0/255
     * (255 is VOC's "ignore"), which leave only background to score, so every mIoU is a meaningless 100%. Null otherwise.
     */
    public static String ignoredOnly(GroundTruth gt, Confusion c) {
        if (c == null || c.ignored() == 0 || c.foregroundGt() != 0) return null;
        return "warning: the ground-truth masks of split " + gt.split() + (gt.where() == null || gt.split().endsWith(" in " + gt.where()) ? "" : " in " + gt.where())
                + " hold no pixel of any foreground class, only background and 255 (" + c.ignored() + " pixels): 255 means \"ignore\""
                + " in VOC-style masks, so no object was scored and the mIoU means nothing; a binary mask must hold the class index"
                + " (1 for the first class), not 255";
    }

    private static float[] unsigned(byte[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = v[i] & 0xFF;
        return f;
    }

    /** Thresholds "a:b:step" (inclusive) or a single number. */
    public static double[] thresholds(String spec) {
        String[] p = spec.split(":");
        try {
            if (p.length == 1) return new double[]{Double.parseDouble(p[0])};
            if (p.length != 3) throw new NumberFormatException();
            double a = Double.parseDouble(p[0]), b = Double.parseDouble(p[1]), st = Double.parseDouble(p[2]);
            if (st <= 0 || b < a) throw new NumberFormatException();
            int n = (int) Math.floor((b - a) / st + 1e-9) + 1;
            double[] t = new double[n];
            for (int i = 0; i < n; i++) t[i] = Math.round((a + i * st) * 1e9) / 1e9;
            return t;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("threshold sweep '" + spec + "' should be START:END:STEP with STEP > 0, e.g. 0.05:0.60:0.01");
        }
    }

    /**
     * Scores CAMs at each threshold in one pass over the pixels. Files are ID.npy (C x H x W, all classes) or the
     * pipeline's ID.npz (keys + high_res of the present classes). The result carries the best threshold's confusion.
     */
    public static EvalResult cams(GroundTruth gt, Path camDir, double[] thresholds) {
        boolean npz = !Files.isRegularFile(camDir.resolve(gt.ids().isEmpty() ? "" : gt.ids().getFirst() + ".npy"))
                && !gt.ids().isEmpty() && Files.isRegularFile(camDir.resolve(gt.ids().getFirst() + ".npz"));
        checkAllPresent(gt, camDir, npz ? ".npz" : ".npy");
        double[] ts = thresholds.clone();
        Arrays.sort(ts);
        int k = gt.classes().size(), c = k - 1, nt = ts.length;
        float[] tf = new float[nt]; // compared in float32, as numpy does with a float32 background plane
        for (int j = 0; j < nt; j++) tf[j] = (float) ts[j];
        // counts[(g*k + p)*(nt+1) + b]: pixels with gt g, best class p, whose value exceeds exactly b thresholds
        long[] counts = IntStream.range(0, gt.ids().size()).parallel().mapToObj(i -> {
            String id = gt.ids().get(i);
            Path f = camDir.resolve(id + (npz ? ".npz" : ".npy"));
            HostArray cam;
            try {
                if (npz) { // the pipeline's files: keys + high_res of the present classes
                    CamMaps m = CamMaps.load(f);
                    cam = new HostArray(new int[]{c, m.h(), m.w()}, m.denseHighRes(c));
                } else cam = conta.io.Npy.read(f);
            } catch (IOException | RuntimeException e) {
                throw new DataError(id, f, e instanceof FormatError ? "CAM " + e.getMessage() : "CAM " + f + ": " + e.getMessage(), e); // a FormatError names f already
            }
            Mask g = gt.masks().apply(id);
            int[] s = cam.shape();
            if (s.length != 3 || s[0] != c || s[1] != g.h() || s[2] != g.w())
                throw new DataError(id, f, "CAM " + f + " has shape " + Arrays.toString(s) + " but must be [" + c + ", " + g.h() + ", " + g.w()
                        + "]: all " + c + " foreground classes (zeros for absent ones) at the ground-truth size");
            long[] cnt = new long[k * k * (nt + 1) + 1]; // the last: ground-truth 255 pixels
            float[] d = cam.data();
            int hw = g.h() * g.w();
            for (int px = 0; px < hw; px++) {
                int gv = g.data()[px] & 0xFF;
                if (gv == 255) { cnt[cnt.length - 1]++; continue; }
                if (gv >= k) throw new DataError(id, f, "ground truth of " + id + " holds class " + gv + " but only " + k + " classes are known; pass --classes");
                int best = 0;
                float bv = d[px];
                for (int ch = 1; ch < c; ch++) {
                    float v = d[ch * hw + px];
                    if (v > bv) { bv = v; best = ch; }
                }
                int b = 0;
                while (b < nt && bv > tf[b]) b++;
                cnt[(gv * k + best + 1) * (nt + 1) + b]++;
            }
            return cnt;
        }).reduce((a, b2) -> { for (int j = 0; j < a.length; j++) a[j] += b2[j]; return a; }).orElseGet(() -> new long[k * k * (nt + 1) + 1]);
        List<double[]> sweep = new ArrayList<>();
        Confusion best = null;
        double bestT = ts[0], bestM = -1;
        for (int j = 0; j < nt; j++) {
            Confusion conf = new Confusion(k);
            conf.addIgnored(counts[counts.length - 1]);
            for (int gv = 0; gv < k; gv++)
                for (int p = 1; p < k; p++)
                    for (int b = 0; b <= nt; b++) {
                        long n = counts[(gv * k + p) * (nt + 1) + b];
                        if (n != 0) conf.add(gv, b > j ? p : 0, n);
                    }
            double m = conf.miou();
            sweep.add(new double[]{ts[j], m});
            if (m > bestM) { bestM = m; bestT = ts[j]; best = conf; }
        }
        return new EvalResult("cam", gt.split(), gt.ids().size(), gt.classes(), best, bestT, sweep);
    }

    private static void checkAllPresent(GroundTruth gt, Path dir, String ext) {
        if (!Files.isDirectory(dir)) throw new DataError(null, dir, "prediction folder " + dir + " does not exist");
        List<String> missing = new ArrayList<>();
        for (String id : gt.ids()) if (!Files.isRegularFile(dir.resolve(id + ext))) missing.add(id);
        if (!missing.isEmpty())
            throw new DataError(missing.get(0), dir.resolve(missing.get(0) + ext), missing.size() + " of " + (gt.split().startsWith("all masks in ")
                    ? "the " + gt.ids().size() + " " + gt.split().substring(4) : gt.ids().size() + " images of split " + gt.split())
                    + " have no prediction in " + dir + " (first: " + dir.resolve(missing.get(0) + ext)
                    + "); predict every listed image or pass the --list that was predicted");
    }
}
