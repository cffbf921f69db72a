package conta.causal;

import conta.image.MapResize;
import conta.io.HostArray;
import conta.io.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * C²AM's global CAM G (n x S x S, S = 128 by default): the average over training images of their CAMs, each resized
 * bilinearly (align_corners=False) to S x S, summed over inference scales, divided per present class by (max + eps),
 * and zero for absent classes; absent-class zeros count in the average (c2am's make_square_cam + sum over images).
 * Inputs are the CAM net's ReLU'd maps, so the max is the positive peak. Streaming: one n x S x S double sum.
 */
public final class GlobalCam {
    public static final int DEFAULT_SIZE = 128;
    public static final double DEFAULT_EPS = 1e-5;

    private final int classes, size;
    private final double eps;
    private final double[] sum;
    private int images;

    public GlobalCam(int classes, int size, double eps) {
        if (classes <= 0 || size <= 0 || !(eps >= 0))
            throw new IllegalArgumentException("GlobalCam: classes and size must be positive and eps >= 0, got " + classes + ", " + size + ", " + eps);
        this.classes = classes;
        this.size = size;
        this.eps = eps;
        this.sum = new double[classes * size * size];
    }

    public GlobalCam(int classes) { this(classes, DEFAULT_SIZE, DEFAULT_EPS); }

    /** One image's n x H x W CAMs; present (length n) = its image-level labels. */
    public void add(HostArray cams, boolean[] present) { addScales(List.of(cams), present); }

    /** One image's CAMs at several inference scales (each n x H_s x W_s): resized to S x S, summed, then normalised. */
    public void addScales(List<HostArray> cams, boolean[] present) {
        if (present.length != classes) throw new IllegalArgumentException("labels have " + present.length + " entries, expected " + classes);
        if (cams.isEmpty()) throw new IllegalArgumentException("no CAMs given");
        int ss = size * size;
        double[] img = new double[classes * ss];
        for (HostArray cam : cams) {
            int[] s = cam.shape();
            if (s.length != 3 || s[0] != classes)
                throw new IllegalArgumentException("CAMs must be " + classes + " x H x W, got " + cam.shapeString());
            float[] r = MapResize.resize(cam.data(), classes, s[1], s[2], size, size, MapResize.Mode.BILINEAR);
            for (int i = 0; i < r.length; i++) img[i] += r[i];
        }
        for (int c = 0; c < classes; c++) {
            if (!present[c]) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (int p = 0; p < ss; p++) max = Math.max(max, img[c * ss + p]);
            for (int p = 0; p < ss; p++) sum[c * ss + p] += img[c * ss + p] / (max + eps);
        }
        images++;
    }

    public int images() { return images; }

    /** G = sum / images, n x S x S. */
    public HostArray mean() {
        if (images == 0) throw new IllegalStateException("global CAM of zero images");
        float[] g = new float[sum.length];
        for (int i = 0; i < g.length; i++) g[i] = (float) (sum[i] / images);
        return new HostArray(new int[]{classes, size, size}, g);
    }

    public void save(Path file) throws IOException { Npy.write(file, mean()); }

    /** Reads G and checks it is classes x H x W. */
    public static HostArray load(Path file, int classes) throws IOException {
        HostArray a = Npy.read(file);
        if (a.shape().length != 3 || a.shape()[0] != classes)
            throw new IllegalArgumentException(file + ": global CAM has shape " + a.shapeString() + ", expected " + classes + " x S x S");
        return a;
    }
}
