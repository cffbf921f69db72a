package conta.image;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * Photo decoding, encoding and resizing through OpenCV (JavaCPP preset). EXIF orientation is ignored, as PIL does,
 * so that images stay aligned with their masks. Truncated files are refused rather than decoded half-grey.
 */
public final class ImageCodec {
    private ImageCodec() { }

    /** Interpolation for {@link #resize}: bilinear, bicubic, area (anti-aliased shrink), nearest (for labels). */
    public enum Interp {
        LINEAR(opencv_imgproc.INTER_LINEAR), CUBIC(opencv_imgproc.INTER_CUBIC), AREA(opencv_imgproc.INTER_AREA),
        NEAREST(opencv_imgproc.INTER_NEAREST);
        final int cv;

        Interp(int cv) { this.cv = cv; }
    }

    /** Width and height read from the file header (no pixel decoding); used to check datasets quickly. */
    public record Dims(int w, int h) { }

    /**
     * The largest image decoded, in pixels and a side: its RGB bytes must fit one Java array (3 x 512 Mpx) and OpenCV
     * refuses more than 2^30 pixels or 2^20 a side (CV_IO_MAX_IMAGE_PIXELS / _WIDTH / _HEIGHT) with an assertion.
     */
    public static final long MAX_PIXELS = 1L << 29;
    public static final int MAX_SIDE = 1 << 20;

    /** The image files conta reads (datasets and conta predict alike), by extension in any case. */
    public static final java.util.List<String> EXTENSIONS = java.util.List.of("jpg", "jpeg", "png", "bmp");

    /** Whether a file name ends in one of {@link #EXTENSIONS}, in any case. */
    public static boolean hasImageExtension(String fileName) {
        int dot = fileName.lastIndexOf('.');
        return dot >= 0 && EXTENSIONS.contains(fileName.substring(dot + 1).toLowerCase(java.util.Locale.ROOT));
    }

    public static RgbImage read(Path file) throws IOException { return read(file, null); }

    /**
     * A caller's own size limits (a model's smallest and largest image), applied to the size in the file's header
     * before anything is decoded (an image past them costs no decode), and to the decoded image.
     */
    public interface SizeCheck {
        void check(int w, int h) throws IOException;
    }

    /** The image of a file, refused by check (when not null) from its header's size before it is decoded. */
    public static RgbImage read(Path file, SizeCheck check) throws IOException {
        byte[] b = bytes(file);
        try {
            return decode(b, check);
        } catch (IOException e) {
            throw new IOException("image " + file + ": " + e.getMessage(), e);
        }
    }

    /** The file's bytes; a missing file is one line naming it. */
    private static byte[] bytes(Path file) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IOException("image " + file + " does not exist");
        }
    }

    public static RgbImage decode(byte[] b) throws IOException { return decode(b, null); }

    /** The same, refused by check (when not null) from the header's size before decoding, and by the decoded size. */
    public static RgbImage decode(byte[] b, SizeCheck check) throws IOException {
        checkComplete(b);
        long[] hd = headerSize(b);
        if (hd != null) {
            checkDecodable(hd[0], hd[1]);
            if (check != null) check.check((int) hd[0], (int) hd[1]); // both within MAX_SIDE now
        }
        RgbImage im = decodeAny(b);
        if (check != null) check.check(im.w(), im.h());
        return im;
    }

    /** OpenCV's decoding of a complete file within MAX_PIXELS; its exceptions become IOExceptions naming the reason. */
    private static RgbImage decodeAny(byte[] b) throws IOException {
        try (PointerScope scope = new PointerScope();
             BytePointer bp = new BytePointer(b);
             Mat buf = new Mat(1, b.length, CV_8UC1, bp);
             Mat bgr = opencv_imgcodecs.imdecode(buf, opencv_imgcodecs.IMREAD_COLOR | opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION)) {
            if (bgr == null || bgr.empty()) throw new IOException("cannot decode (not a JPEG/PNG/BMP image OpenCV can read)");
            checkDecodable(bgr.cols(), bgr.rows());
            try (Mat rgb = new Mat()) {
                opencv_imgproc.cvtColor(bgr, rgb, opencv_imgproc.COLOR_BGR2RGB);
                return toRgb(rgb);
            }
        } catch (RuntimeException e) { // an OpenCV assertion on a malformed file: the file's problem, not conta's
            throw new IOException("cannot decode (" + openCvReason(e) + ")", e);
        }
    }

    /** Pixels in millions (10^6, as people read "megapixels"), one decimal where it matters. */
    public static String millions(long pixels) {
        double m = pixels / 1e6;
        return m >= 100 ? String.format(java.util.Locale.ROOT, "%.0f", m) : String.format(java.util.Locale.ROOT, "%.1f", m);
    }

    /** Refuses a size beyond {@link #MAX_PIXELS} / {@link #MAX_SIDE}, naming it and the limit. */
    static void checkDecodable(long w, long h) throws IOException {
        if (w > MAX_SIDE || h > MAX_SIDE || w * h > MAX_PIXELS)
            throw new IOException("it is " + w + "x" + h + " px (" + millions(w * h) + " million pixels), more than the " + millions(MAX_PIXELS)
                    + " million pixels or " + MAX_SIDE + " px a side an image may have; resize it first");
    }

    /** The first line of an OpenCV exception without its source location. */
    private static String openCvReason(RuntimeException e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip().lines().findFirst().orElse("");
        int at = m.indexOf("error: ");
        return "OpenCV: " + (at >= 0 ? m.substring(at + 7) : m);
    }

    /** Width and height (unsigned) from a PNG, JPEG or BMP header, or null for another format or an unreadable header. */
    private static long[] headerSize(byte[] b) {
        if (isPng(b)) return new long[]{Integer.toUnsignedLong(be32(b, 16)), Integer.toUnsignedLong(be32(b, 20))};
        if (isJpeg(b)) {
            try {
                Dims d = jpegDims(b);
                return new long[]{d.w(), d.h()};
            } catch (IOException e) {
                return null; // OpenCV says what is wrong with it
            }
        }
        if (isBmp(b) && le32(b, 14) >= 40) // a BITMAPINFOHEADER or later; a negative height: top-down rows
            return new long[]{Math.abs((long) le32(b, 18)), Math.abs((long) le32(b, 22))};
        return null;
    }

    /** Header-only size of a JPEG, PNG or BMP; also refuses truncated or corrupt files and sizes beyond {@link #MAX_PIXELS}. */
    public static Dims probe(Path file) throws IOException {
        byte[] b = bytes(file);
        try {
            checkComplete(b);
            if (isJpeg(b)) {
                Dims d = jpegDims(b);
                checkDecodable(d.w(), d.h());
                return d;
            }
            long[] hd = headerSize(b);
            if (hd != null) {
                checkDecodable(hd[0], hd[1]);
                return new Dims((int) hd[0], (int) hd[1]);
            }
            RgbImage im = decode(b);
            return new Dims(im.w(), im.h());
        } catch (IOException e) {
            throw new IOException("image " + file + ": " + e.getMessage(), e);
        }
    }

    /** Encodes as JPEG (quality 1..100); libjpeg is deterministic, so equal input gives equal bytes. */
    public static byte[] encodeJpeg(RgbImage im, int quality) { return encodeJpeg(im, quality, false); }

    /** The same, progressive (with optimised Huffman tables) when asked: the layout many web images have. */
    static byte[] encodeJpeg(RgbImage im, int quality, boolean progressive) {
        int[] p = progressive ? new int[]{opencv_imgcodecs.IMWRITE_JPEG_QUALITY, quality, opencv_imgcodecs.IMWRITE_JPEG_PROGRESSIVE, 1,
                opencv_imgcodecs.IMWRITE_JPEG_OPTIMIZE, 1} : new int[]{opencv_imgcodecs.IMWRITE_JPEG_QUALITY, quality};
        try (PointerScope scope = new PointerScope(); Mat rgb = toMat(im); Mat bgr = new Mat(); BytePointer out = new BytePointer();
             BytePointer ext = new BytePointer(".jpg");
             org.bytedeco.javacpp.IntPointer params = new org.bytedeco.javacpp.IntPointer(p)) {
            opencv_imgproc.cvtColor(rgb, bgr, opencv_imgproc.COLOR_RGB2BGR);
            if (!opencv_imgcodecs.imencode(ext, bgr, out, params)) throw new IllegalStateException("JPEG encoding failed");
            byte[] r = new byte[(int) out.limit()];
            out.get(r);
            return r;
        }
    }

    public static void writeJpeg(Path file, RgbImage im, int quality) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.write(file, encodeJpeg(im, quality));
    }

    public static RgbImage resize(RgbImage im, int h, int w, Interp interp) {
        if (h == im.h() && w == im.w()) return im;
        try (PointerScope scope = new PointerScope(); Mat src = toMat(im); Mat dst = new Mat(); Size sz = new Size(w, h)) {
            opencv_imgproc.resize(src, dst, sz, 0, 0, interp.cv);
            return toRgb(dst);
        }
    }

    /** Nearest-neighbour resize of a label map (labels must never be interpolated). */
    public static Mask resize(Mask m, int h, int w) {
        if (h == m.h() && w == m.w()) return m;
        byte[] out = new byte[h * w];
        int[] xs = new int[w];
        for (int x = 0; x < w; x++) xs[x] = Math.min(m.w() - 1, (int) ((x + 0.5) * m.w() / w));
        for (int y = 0; y < h; y++) {
            int sy = Math.min(m.h() - 1, (int) ((y + 0.5) * m.h() / h));
            for (int x = 0; x < w; x++) out[y * w + x] = m.data()[sy * m.w() + xs[x]];
        }
        return new Mask(h, w, out);
    }

    private static Mat toMat(RgbImage im) {
        Mat m = new Mat(im.h(), im.w(), CV_8UC3);
        m.data().put(im.rgb());
        return m;
    }

    private static RgbImage toRgb(Mat m) {
        Mat c = m.isContinuous() ? m : m.clone();
        byte[] out = new byte[c.rows() * c.cols() * 3];
        c.data().get(out);
        return new RgbImage(c.rows(), c.cols(), out);
    }

    static boolean isPng(byte[] b) { return b.length > 24 && (b[0] & 0xFF) == 137 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G'; }

    static boolean isBmp(byte[] b) { return b.length > 26 && b[0] == 'B' && b[1] == 'M'; }

    static boolean isJpeg(byte[] b) { return b.length > 4 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8; }

    /**
     * JPEG must end with EOI (FFD9, trailing padding allowed) and have intact scan data ({@link JpegScan}, about a
     * millisecond a photo: libjpeg would decode a corrupt scan into garbled blocks, with a warning on stderr that names no
     * file); PNG must end with an IEND chunk; an uncompressed BMP must hold the pixels its header promises.
     */
    static void checkComplete(byte[] b) throws IOException {
        if (b.length == 0) throw new IOException("empty file (0 bytes), not an image: copy or export it again");
        int tail = Math.max(0, b.length - 4096);
        if (isJpeg(b)) {
            for (int i = b.length - 2; i >= tail; i--)
                if ((b[i] & 0xFF) == 0xFF && (b[i + 1] & 0xFF) == 0xD9) {
                    String corrupt = JpegScan.check(b).problem();
                    if (corrupt != null) throw new IOException(corrupt + "; libjpeg would decode it with a warning that names no file (garbled"
                            + " blocks past a corrupt stretch): re-download or re-encode the file");
                    return;
                }
            throw new IOException("truncated JPEG (no end-of-image marker); re-download or re-encode the file");
        }
        if (isPng(b)) {
            for (int i = b.length - 4; i >= tail; i--)
                if (b[i] == 'I' && b[i + 1] == 'E' && b[i + 2] == 'N' && b[i + 3] == 'D') return;
            throw new IOException("truncated PNG (no IEND chunk); re-download or re-encode the file");
        }
        if (isBmp(b) && le32(b, 14) >= 40) { // uncompressed rows (BI_RGB, BI_BITFIELDS): the pixel array's size is known
            int compression = le32(b, 30), bits = (b[28] & 0xFF) | (b[29] & 0xFF) << 8;
            long w = Math.abs((long) le32(b, 18)), h = Math.abs((long) le32(b, 22));
            long need = Integer.toUnsignedLong(le32(b, 10)) + (bits * w + 31) / 32 * 4 * h;
            if ((compression == 0 || compression == 3) && bits > 0 && b.length < need)
                throw new IOException("truncated BMP (" + b.length + " bytes; its header needs " + need + "); re-download or re-encode the file");
        }
    }

    private static int be32(byte[] b, int o) {
        return (b[o] & 0xFF) << 24 | (b[o + 1] & 0xFF) << 16 | (b[o + 2] & 0xFF) << 8 | (b[o + 3] & 0xFF);
    }

    private static int le32(byte[] b, int o) {
        return (b[o + 3] & 0xFF) << 24 | (b[o + 2] & 0xFF) << 16 | (b[o + 1] & 0xFF) << 8 | (b[o] & 0xFF);
    }

    private static Dims jpegDims(byte[] b) throws IOException {
        int i = 2;
        while (i + 9 < b.length) {
            if ((b[i] & 0xFF) != 0xFF) { i++; continue; }
            int marker = b[i + 1] & 0xFF;
            if (marker == 0xFF) { i++; continue; }
            if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) { i += 2; continue; }
            int len = (b[i + 2] & 0xFF) << 8 | (b[i + 3] & 0xFF);
            boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (sof) return new Dims((b[i + 7] & 0xFF) << 8 | (b[i + 8] & 0xFF), (b[i + 5] & 0xFF) << 8 | (b[i + 6] & 0xFF));
            i += 2 + len;
        }
        throw new IOException("JPEG without a frame header (SOF)");
    }
}
