package conta.api;

import conta.image.CamMaps;
import conta.error.UserError;
import conta.image.ImageCodec;
import conta.image.RgbImage;
import conta.tensor.Backend;
import conta.wsss.BundleModel;
import conta.wsss.Cams;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A trained conta model (a bundle from `conta export`, any model.safetensors the pipeline wrote, or a run folder) on
 * a device: label maps from a segmentation bundle, CAMs from a classifier bundle. Thread-safe: concurrent callers
 * share the weights and each call's intermediate tensors belong to its own thread; {@link #close} waits for calls in
 * flight. Results are deterministic: the same image gives the same bytes from any thread (the pipeline's own
 * prediction function runs underneath).
 *
 * <pre>{@code
 * try (ContaModel m = ContaModel.open(Path.of("seg.safetensors"), "cpu")) {
 *     m.warmUp();
 *     LabelMap map = m.segment(ImageIO.read(new File("cat.jpg")));
 *     System.out.println(m.classNames().get(map.at(10, 20)));
 * }
 * }</pre>
 */
public final class ContaModel implements AutoCloseable {
    private final BundleModel model;
    private final Backend backend;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile boolean closed;

    private ContaModel(BundleModel model, Backend backend) {
        this.model = model;
        this.backend = backend;
    }

    /**
     * Opens a bundle file (or a pipeline run folder: its last segmentation model) on a device: cpu, cuda:N or auto
     * (null: cpu, as in the C ABI).
     */
    public static ContaModel open(Path bundle, String device) { return open(bundle, device, "fp32"); }

    /**
     * The same with the arithmetic of the CPU's inference plans: "fp32", "bf16" (bfloat16 weights and activations,
     * f32 accumulation: about half fp32's latency on AVX512-BF16 / AMX CPUs, labels differ where two classes' scores
     * are within bf16 rounding) or "auto" (bf16 where the CPU has AMX).
     */
    public static ContaModel open(Path bundle, String device, String precision) {
        if (bundle == null) throw new ContaException(ContaException.Code.ARGUMENT, "no bundle path (null)");
        if (bundle.toString().isEmpty()) throw new ContaException(ContaException.Code.ARGUMENT, "the bundle path is empty"); // "" is the working folder
        if (!Files.exists(bundle)) throw new ContaException(ContaException.Code.NOT_FOUND, "model bundle " + bundle + " does not exist");
        conta.infer.Precision p;
        try {
            p = conta.infer.Precision.parse(precision == null ? "fp32" : precision.strip()).decide(); // auto: precision() tells, nothing printed
        } catch (UserError e) {
            throw new ContaException(ContaException.Code.ARGUMENT, "precision '" + precision + "' must be fp32, bf16 or auto", e);
        }
        String badProperty = conta.io.SystemProps.problem(); // as the command line: a misspelt -Dconta.* is not ignored
        if (badProperty != null) throw new ContaException(ContaException.Code.ARGUMENT, badProperty);
        String dev = device == null ? "cpu" : device;
        String missing = missingLibrary();
        if (missing != null) // else a misleading "oneDNN unavailable" warning, then a NoClassDefFoundError from deep inside
            throw new ContaException(ContaException.Code.INTERNAL, "conta's libraries are not on the class path (" + missing + " is missing): put "
                    + "target/lib/* beside conta-engine.jar, e.g. -cp \"app.jar:target/conta-engine.jar:target/lib/*\", as docs/api.md says");
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) // else a NoClassDefFoundError naming a class
            throw new ContaException(ContaException.Code.DEVICE, "device '" + dev + "': conta's CPU code needs the Vector API: start the JVM with "
                    + "--add-modules jdk.incubator.vector (and --enable-native-access=ALL-UNNAMED for oneDNN), as docs/api.md says");
        Backend b;
        try {
            b = conta.tensor.Backends.select(dev);
        } catch (RuntimeException | LinkageError e) {
            // the backends word their errors for the command line; here the argument is the device string
            throw new ContaException(ContaException.Code.DEVICE, "device '" + dev + "': " + e.getMessage().replace("use --device", "open it with device"), e);
        }
        try {
            BundleModel m = BundleModel.open(bundle, "seg", null, b, p);
            if (!m.segments() && !m.bundle.stage().equals("cls")) {
                m.close();
                throw new UserError(bundle + " holds a " + m.bundle.stage() + " model (the boundary branch); the API runs segmentation (seg) and"
                        + " classifier (cls) bundles: conta export --stage seg|cls");
            }
            return new ContaModel(m, b);
        } catch (UserError e) {
            b.close();
            if (interrupted(e)) // the read stopped at the caller's interrupt: the file is not "damaged"
                throw new ContaException(ContaException.Code.INTERNAL, "interrupted while reading " + bundle + ": the calling thread's interrupt status"
                        + " is set (it stays set; the file was not read to its end); open it from a thread that is not interrupted", e);
            throw new ContaException(ContaException.Code.MODEL, e.getMessage(), e);
        } catch (RuntimeException e) {
            b.close();
            throw new ContaException(ContaException.Code.INTERNAL, "cannot open " + bundle + ": " + e, e);
        } catch (StackOverflowError e) { // a description nested past any file conta writes (the JSON reader caps its depth)
            b.close();
            throw new ContaException(ContaException.Code.MODEL, bundle + " cannot be opened (nested too deeply); it is not a bundle conta wrote: export it again", e);
        } catch (OutOfMemoryError e) { // descriptions are size-checked before building, so this is the process's memory;
            b.close();                 // the device's memory goes back with b
            throw new ContaException(ContaException.Code.INTERNAL, "out of memory opening " + bundle + " (" + e.getMessage()
                    + "); give the JVM more (-Xmx, in CONTA_JVM_OPTS for the C ABI)", e);
        }
    }

    /** The first of the JavaCPP libraries conta needs that the class path lacks, or null. */
    private static String missingLibrary() {
        for (String c : new String[]{"org.bytedeco.javacpp.Pointer", "org.bytedeco.opencv.global.opencv_imgcodecs"}) {
            try {
                Class.forName(c, false, ContaModel.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                return c;
            }
        }
        return null;
    }

    /** On the CPU. */
    public static ContaModel open(Path bundle) { return open(bundle, "cpu"); }

    /** Whether a read failed because its thread was interrupted (FileChannel closes itself then). */
    private static boolean interrupted(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause())
            if (t instanceof java.nio.channels.ClosedByInterruptException) return true;
        return false;
    }

    /** "fp32" or "bf16": the arithmetic the model runs with ("auto" resolved at open). */
    public String precision() { return model.precision().name().toLowerCase(java.util.Locale.ROOT); }

    /** "seg" (label maps) or "cls" (CAMs). */
    public String kind() { return model.bundle.stage(); }

    /** Class names, background first (unmodifiable); a label map's value k is classNames().get(k). */
    public List<String> classNames() { return model.bundle.classNames(); }

    /** 0xRRGGBB colour of class k in the bundle's palette. */
    public int colour(int k) {
        byte[] p = model.bundle.palette();
        if (k < 0 || 3 * k + 2 >= p.length)
            throw new ContaException(ContaException.Code.ARGUMENT, "class " + k + " out of 0.." + (p.length / 3 - 1));
        return (p[3 * k] & 0xFF) << 16 | (p[3 * k + 1] & 0xFF) << 8 | (p[3 * k + 2] & 0xFF);
    }

    /** Number of CAM planes of a classifier (object classes, without background). */
    public int camClasses() { return model.bundle.stage().equals("cls") ? model.bundle.outputs() : 0; }

    /** Runs one small image through the network, so the first real call does not pay one-time set-up. */
    public void warmUp() {
        if (!model.segments()) requireClassifier("CAMs"); // a classifier warms up its CAMs
        RgbImage im = new RgbImage(64, 64, new byte[64 * 64 * 3]);
        call(() -> model.segments() ? model.segment(im, false) : model.cams(im));
    }

    /**
     * The C bridge's {pixels, labels} arrays for images of this many pixels: a pooled pair, or a new one. A few are
     * kept (giveBack) and go with the model, so a steady C call allocates nothing.
     */
    byte[][] bridgeArrays(int pixels) {
        byte[][] a = bridgeArrays.poll();
        return a != null && a[1].length == pixels ? a : new byte[][]{new byte[3 * pixels], new byte[pixels]};
    }

    void giveBack(byte[][] a) { if (bridgeArrays.size() < 8) bridgeArrays.push(a); }

    private final java.util.concurrent.ConcurrentLinkedDeque<byte[][]> bridgeArrays = new java.util.concurrent.ConcurrentLinkedDeque<>();

    /** Label map of an RGB8 image (interleaved R,G,B rows); out (width*height bytes) is filled and returned, or allocated when null. */
    public byte[] segment(byte[] rgb, int width, int height, byte[] out) {
        if (!model.segments()) throw new ContaException(ContaException.Code.KIND, "this is a " + kind() + " model; label maps need a segmentation (seg) bundle");
        RgbImage im = rgbImage(rgb, width, height);
        if (out != null && out.length != width * height)
            throw new ContaException(ContaException.Code.ARGUMENT, "the output holds " + out.length + " bytes; a " + width + "x" + height
                    + " label map needs " + (long) width * height);
        byte[] labels = call(() -> model.segment(im, false, out).data());
        if (out == null || labels == out) return labels;
        System.arraycopy(labels, 0, out, 0, labels.length);
        return out;
    }

    /** Label map of a decoded image of any type (grey, 16-bit, indexed, with alpha: converted to 8-bit RGB). */
    public LabelMap segment(BufferedImage image) {
        RgbImage im = fromBuffered(image);
        return new LabelMap(im.w(), im.h(), segment(im.rgb(), im.w(), im.h(), null));
    }

    /** Label map of encoded JPEG/PNG/BMP bytes. */
    public LabelMap segment(byte[] encoded) {
        RgbImage im = decode(encoded);
        return new LabelMap(im.w(), im.h(), segment(im.rgb(), im.w(), im.h(), null));
    }

    /**
     * CAMs of every class (classifier bundles): camClasses() planes of width*height floats in [0, 1], plane i for
     * class i + 1, the pipeline's multi-scale + flip CAMs; out is filled and returned, or allocated when null.
     */
    public float[] cams(byte[] rgb, int width, int height, float[] out) {
        requireClassifier("CAMs");
        RgbImage im = rgbImage(rgb, width, height);
        long need = (long) camClasses() * width * height;
        if (out != null && out.length != need)
            throw new ContaException(ContaException.Code.ARGUMENT, "the output holds " + out.length + " floats; " + camClasses() + " CAMs of "
                    + width + "x" + height + " need " + need);
        CamMaps m = call(() -> model.cams(im));
        if (out == null) return m.highRes();
        System.arraycopy(m.highRes(), 0, out, 0, m.highRes().length);
        return out;
    }

    public float[] cams(BufferedImage image) {
        RgbImage im = fromBuffered(image);
        return cams(im.rgb(), im.w(), im.h(), null);
    }

    /**
     * The classifier's probability of each class (classifier bundles): camClasses() floats, index i for class i + 1, the
     * sigmoid of its logits for the image at scale 1; a class is present where it is >= 0.5 (multi-label soft-margin
     * training). cams() normalises each class's map to its own maximum, so a class the image lacks has a full-strength
     * CAM too: these scores say which maps to read. out is filled and returned, or allocated when null.
     */
    public float[] classScores(byte[] rgb, int width, int height, float[] out) {
        requireClassifier("class scores");
        RgbImage im = rgbImage(rgb, width, height);
        if (out != null && out.length != camClasses())
            throw new ContaException(ContaException.Code.ARGUMENT, "the output holds " + out.length + " floats; the scores of " + camClasses() + " classes need " + camClasses());
        float[] p = call(() -> model.classProbabilities(im));
        if (out == null) return p;
        System.arraycopy(p, 0, out, 0, p.length);
        return out;
    }

    public float[] classScores(BufferedImage image) {
        RgbImage im = fromBuffered(image);
        return classScores(im.rgb(), im.w(), im.h(), null);
    }

    /** KIND for what (CAMs, class scores) of a segmentation model or of a CONTA classifier that needs its context map. */
    private void requireClassifier(String what) {
        if (!kind().equals("cls")) throw new ContaException(ContaException.Code.KIND, "this is a " + kind() + " model; " + what + " need a classifier (cls) bundle");
        if (model.bundle.needsContext())
            throw new ContaException(ContaException.Code.KIND, "this CONTA classifier needs its per-image context map (round >= 1); use round 0's or a C2AM classifier");
    }

    /** Decodes JPEG/PNG/BMP bytes to an RGB8 image, as the pipeline reads images (OpenCV; EXIF orientation ignored). */
    static RgbImage decode(byte[] encoded) {
        if (encoded == null) throw new ContaException(ContaException.Code.ARGUMENT, "no image data (null)");
        if (encoded.length == 0) throw new ContaException(ContaException.Code.IMAGE, "empty image data");
        try {
            return ImageCodec.decode(encoded, ContaModel::checkDims); // the limits from the header: past them, no decode
        } catch (ContaException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ContaException(ContaException.Code.IMAGE, "cannot decode the image: " + e.getMessage(), e);
        }
    }

    /** Reads an image file (JPEG/PNG/BMP) as RGB8. */
    static RgbImage read(Path file) {
        byte[] b;
        try {
            if (Files.isDirectory(file)) throw new ContaException(ContaException.Code.IMAGE, file + " is a folder, not an image file");
            b = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ContaException(Files.exists(file) ? ContaException.Code.IMAGE : ContaException.Code.NOT_FOUND,
                    Files.exists(file) ? "cannot read " + file + ": " + e.getMessage() : file + " does not exist", e);
        }
        try {
            return decode(b);
        } catch (ContaException e) {
            throw new ContaException(e.code(), file + ": " + e.getMessage(), e);
        }
    }

    static RgbImage rgbImage(byte[] rgb, int w, int h) {
        if (rgb == null) throw new ContaException(ContaException.Code.ARGUMENT, "no image data");
        if (w <= 0 || h <= 0 || (long) w * h * 3 != rgb.length)
            throw new ContaException(ContaException.Code.ARGUMENT, "an RGB8 image of " + w + "x" + h + " needs " + 3L * Math.max(w, 0) * Math.max(h, 0)
                    + " bytes, got " + rgb.length);
        checkDims(w, h);
        return new RgbImage(h, w, rgb);
    }

    /** The networks' image size limits (BundleModel.MIN_SIDE .. MAX_SIDE) as an IMAGE error. */
    static void checkDims(int w, int h) {
        try {
            BundleModel.checkSize(w, h, "the image");
        } catch (UserError e) {
            throw new ContaException(ContaException.Code.IMAGE, e.getMessage());
        }
    }

    /**
     * 8-bit RGB of any BufferedImage; grey rasters (with or without alpha, any ColorModel of a grey colour space) are
     * replicated (not colour-managed), 16-bit samples keep the high byte, as OpenCV reads them. getRGB would convert a
     * grey+alpha PNG's linear grey to sRGB (7 became 46) and round 16-bit RGB samples instead of taking their high byte.
     */
    static RgbImage fromBuffered(BufferedImage b) {
        if (b == null) throw new ContaException(ContaException.Code.ARGUMENT, "no image");
        int w = b.getWidth(), h = b.getHeight();
        checkDims(w, h);
        byte[] rgb = new byte[3 * w * h];
        java.awt.image.ColorModel cm = b.getColorModel();
        Raster r = b.getRaster();
        boolean component = cm instanceof java.awt.image.ComponentColorModel && r.getTransferType() != java.awt.image.DataBuffer.TYPE_FLOAT
                && r.getTransferType() != java.awt.image.DataBuffer.TYPE_DOUBLE;
        int bits = component ? r.getSampleModel().getSampleSize(0) : 0;
        boolean grey = b.getType() == BufferedImage.TYPE_BYTE_GRAY || b.getType() == BufferedImage.TYPE_USHORT_GRAY
                || (component && cm.getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY && (bits == 8 || bits == 16));
        boolean rgb16 = component && bits == 16 && cm.getColorSpace().isCS_sRGB() && r.getNumBands() >= 3;
        if (grey || rgb16) {
            int shift = r.getSampleModel().getSampleSize(0) - 8;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int i = 3 * (y * w + x);
                    for (int c = 0; c < 3; c++) rgb[i + c] = (byte) (r.getSample(x, y, grey ? 0 : c) >> shift);
                }
        } else {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                b.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int i = 3 * (y * w + x), p = row[x];
                    rgb[i] = (byte) (p >> 16);
                    rgb[i + 1] = (byte) (p >> 8);
                    rgb[i + 2] = (byte) p;
                }
            }
        }
        return new RgbImage(h, w, rgb);
    }

    private <T> T call(java.util.function.Supplier<T> f) {
        lock.readLock().lock();
        try {
            if (closed) throw new ContaException(ContaException.Code.ARGUMENT, "the model is closed");
            return f.get();
        } catch (ContaException e) {
            throw e;
        } catch (UserError e) {
            throw new ContaException(ContaException.Code.IMAGE, e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            throw new ContaException(ContaException.Code.INTERNAL, "out of memory: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new ContaException(ContaException.Code.INTERNAL, e.toString(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Frees the weights and the device; waits for calls in flight. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            model.close();
            backend.close();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
