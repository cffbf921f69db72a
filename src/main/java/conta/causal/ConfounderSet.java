package conta.causal;

import conta.image.MapResize;
import conta.io.HostArray;
import conta.io.Npy;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.WsssOps;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * CONTA's confounder set C = {c_1..c_n}: c_i is the mean, over the training images that contain class i, of that
 * image's class-i map (encoded and resized to h x w by a {@link MaskEncoding}). The masks come from round t-1's
 * segmentation model, or from the pseudo-masks (both are label maps or score maps, so the source is the caller's choice).
 *
 * <p>Streaming: only the n x h x w running sums and per-class image counts are kept, never the masks: in double on the
 * heap (host mode), or in float32 on a backend whose WSSS ops build each image's class masks (device mode, the
 * pipeline's).
 *
 * <p>"Contains class i": the image's tags when given (an image tagged i whose prediction missed i adds a zero map,
 * which is what the mask really says); otherwise the prediction itself (class i wins the argmax somewhere).
 * A class that no image contains has c_i = 0 (listed by {@link #emptyClasses()} so callers can warn).
 */
public final class ConfounderSet implements AutoCloseable {
    private final MaskEncoding enc;
    private final double[] sum;
    private final int[] count;
    private int images;
    /** Device mode: the running sums live on this backend (float32) and the class masks are its WSSS ops. */
    private final Backend dev;
    private final Tensor devSums;

    /** Host mode: double sums on the heap (the reference; SOFT score maps and tests). */
    public ConfounderSet(MaskEncoding enc) {
        this.enc = enc;
        this.sum = new double[enc.classes() * enc.cells()];
        this.count = new int[enc.classes()];
        this.dev = null;
        this.devSums = null;
    }

    /**
     * Device mode: each label map's class masks ({@link WsssOps#classMasks}) and the running sums
     * ({@link WsssOps#accumulatePresent}) stay on the backend; only C comes back, once. Close it to free the sums.
     */
    public ConfounderSet(MaskEncoding enc, Backend b) {
        this.enc = enc;
        this.sum = null;
        this.count = new int[enc.classes()];
        this.dev = b;
        this.devSums = Tensor.zeros(b, enc.classes(), enc.height(), enc.width());
    }

    public MaskEncoding encoding() { return enc; }

    /** Adds one image's label map (H x W, row-major); tags (length n) may be null to use predicted presence. */
    public void add(int[] labels, int H, int W, boolean[] tags) {
        if (dev == null || enc.resize() == MapResize.Mode.BILINEAR) { // the ops resize masks by area or nearest only
            addClassMaps(enc.classMaps(labels, H, W), tags != null ? tags : enc.present(labels));
            return;
        }
        if (labels.length != (long) H * W) throw new IllegalArgumentException("label map has " + labels.length + " values, not " + H + " x " + W);
        boolean[] present = tags != null ? tags : enc.present(labels);
        checkPresence(present);
        float[] lf = new float[labels.length];
        for (int i = 0; i < lf.length; i++) lf[i] = labels[i];
        WsssOps ops = dev.wsss();
        try (Tensor l = Tensor.of(dev, lf, H, W); Tensor maps = dev.empty(enc.classes(), enc.height(), enc.width())) {
            ops.classMasks(l, enc.firstLabel(), enc.resize() == MapResize.Mode.AREA, maps);
            ops.accumulatePresent(maps, present, devSums);
        }
        counted(present);
    }

    private void checkPresence(boolean[] present) {
        if (present.length != enc.classes())
            throw new IllegalArgumentException("presence/tags have " + present.length + " entries, expected " + enc.classes() + " classes");
    }

    private void counted(boolean[] present) {
        for (int c = 0; c < present.length; c++) if (present[c]) count[c]++;
        images++;
    }

    /** Adds one image's C x H x W class scores; tags may be null to use predicted (argmax) presence. */
    public void add(HostArray scores, boolean[] tags) {
        addClassMaps(enc.classMaps(scores), tags != null ? tags : enc.present(scores));
    }

    /** Adds already encoded n x h x w class maps; only classes marked present are accumulated. */
    public void addClassMaps(float[] maps, boolean[] present) {
        int n = enc.classes(), hw = enc.cells();
        if (maps.length != n * hw) throw new IllegalArgumentException("class maps have " + maps.length + " values, expected " + n + " x " + enc.height() + " x " + enc.width());
        checkPresence(present);
        if (dev != null) {
            try (Tensor m = Tensor.of(dev, maps, n, enc.height(), enc.width())) {
                dev.wsss().accumulatePresent(m, present, devSums);
            }
            counted(present);
            return;
        }
        for (int c = 0; c < n; c++) {
            if (!present[c]) continue;
            count[c]++;
            for (int p = 0; p < hw; p++) sum[c * hw + p] += maps[c * hw + p];
        }
        images++;
    }

    public int images() { return images; }

    /** Images that contained each class. */
    public int[] counts() { return count.clone(); }

    /** Classes no image contained (their c_i is all zeros). */
    public int[] emptyClasses() { return IntStream.range(0, count.length).filter(c -> count[c] == 0).toArray(); }

    /** C as an n x h x w array. */
    public HostArray means() {
        int hw = enc.cells();
        float[] m = new float[enc.classes() * hw], s = dev != null ? devSums.toArray() : null;
        for (int c = 0; c < count.length; c++)
            if (count[c] > 0) for (int p = 0; p < hw; p++) m[c * hw + p] = (float) ((s != null ? s[c * hw + p] : sum[c * hw + p]) / count[c]);
        return new HostArray(new int[]{enc.classes(), enc.height(), enc.width()}, m);
    }

    @Override
    public void close() { if (devSums != null) devSums.close(); }

    /** Writes C as a float32 n x h x w .npy. */
    public void save(Path file) throws IOException { Npy.write(file, means()); }

    /** Reads C from .npy and checks it has the encoding's n x h x w shape. */
    public static HostArray load(Path file, MaskEncoding enc) throws IOException {
        HostArray a = Npy.read(file);
        int[] want = {enc.classes(), enc.height(), enc.width()};
        if (!Arrays.equals(a.shape(), want))
            throw new IllegalArgumentException(file + ": confounder set has shape " + a.shapeString() + ", expected "
                    + Arrays.toString(want) + " (classes x h x w)");
        return a;
    }
}
