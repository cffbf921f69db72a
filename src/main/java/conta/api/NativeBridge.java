package conta.api;

import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.RgbImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What native/src/conta.c calls through JNI: the C ABI over {@link ContaModel}. Every method catches every Throwable
 * and returns an error code (conta.h) with the message kept per thread for {@link #lastError}, so no Java exception
 * ever reaches the host process. Buffers are the caller's memory wrapped as direct ByteBuffers (no copy on the C side).
 */
public final class NativeBridge {
    private NativeBridge() { }

    private static final Map<Long, ContaModel> MODELS = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT = new AtomicLong(1);
    private static final ThreadLocal<String> ERROR = ThreadLocal.withInitial(() -> "");
    private static final ThreadLocal<RgbImage> LAST_READ = new ThreadLocal<>();

    public static String lastError() { return ERROR.get(); }

    /**
     * A C string's bytes (a path in the locale's encoding) as the string the JVM turns back into those bytes: decoded as
     * it encodes file names (sun.jnu.encoding). JNI's NewStringUTF reads modified UTF-8, which mangles 4-byte characters.
     */
    public static String text(byte[] b) {
        java.nio.charset.Charset cs;
        try {
            cs = java.nio.charset.Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (RuntimeException e) {
            cs = java.nio.charset.StandardCharsets.UTF_8;
        }
        try {
            return cs.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString(); // reports bytes new String would replace
        } catch (java.nio.charset.CharacterCodingException e) {
            String s = new String(b, cs); // U+FFFD for what is not valid: path() refuses this very string
            StringBuilder raw = new StringBuilder(); // the name as given: ASCII as it is, other bytes as \xNN
            for (byte x : b) raw.append(x >= 0x20 && x < 0x7F ? String.valueOf((char) x) : String.format("\\x%02X", x & 0xFF));
            LOSSY.set(new Lossy(s, raw.toString(), cs.name()));
            return s;
        }
    }

    /** The last string text() could decode only with replacements, on this thread (the host's calls come on its own). */
    private record Lossy(String decoded, String raw, String charset) { }

    private static final ThreadLocal<Lossy> LOSSY = new ThreadLocal<>();

    /** A string for the host (a class name, a message) as UTF-8; JNI's GetStringUTFChars would give modified UTF-8. */
    public static byte[] utf8(String s) { return s.getBytes(java.nio.charset.StandardCharsets.UTF_8); }

    /** A path from the host, or ARGUMENT where the JVM cannot name that file (a non-ASCII name under the C/POSIX locale). */
    private static Path path(String p) {
        Lossy l = LOSSY.get();
        if (l != null && l.decoded() == p) // this very string: bytes the JVM cannot name a file by (it would open another)
            throw new ContaException(ContaException.Code.ARGUMENT, "the path " + l.raw() + " is not valid " + l.charset()
                    + ", the encoding this JVM names files in (sun.jnu.encoding, from LANG/LC_ALL/LC_CTYPE), so conta cannot open or write it: "
                    + (l.charset().equals("UTF-8") ? "rename the file, or start the host in a locale whose encoding the name is in"
                    : "start the host with a UTF-8 locale, e.g. LANG=C.UTF-8, or rename the file"));
        try {
            return Path.of(p);
        } catch (java.nio.file.InvalidPathException e) {
            throw new ContaException(ContaException.Code.ARGUMENT, "the path " + p + " cannot be a file name in this process: the JVM encodes file names as "
                    + System.getProperty("sun.jnu.encoding") + " (the locale of LANG/LC_ALL/LC_CTYPE); start the host with a UTF-8 locale, e.g. LANG=C.UTF-8", e);
        }
    }

    private static int fail(Throwable t) {
        if (t instanceof ContaException c) {
            ERROR.set(c.getMessage());
            return c.code().value;
        }
        ERROR.set(t instanceof OutOfMemoryError ? "out of memory: " + t.getMessage() : "internal error: " + t);
        return ContaException.Code.INTERNAL.value;
    }

    /** A handle (> 0) to the opened model, or minus an error code. */
    public static long open(String path, String device) { return open(path, device, "fp32"); }

    /** The same with the plans' precision (fp32, bf16, auto; null = fp32). */
    public static long open(String path, String device, String precision) {
        try {
            if (path == null) throw new ContaException(ContaException.Code.ARGUMENT, "no bundle path");
            ContaModel m = ContaModel.open(path(path), device == null ? "cpu" : device, precision == null ? "fp32" : precision);
            long h = NEXT.getAndIncrement();
            MODELS.put(h, m);
            return h;
        } catch (Throwable t) {
            return -fail(t);
        }
    }

    private static ContaModel model(long h) {
        ContaModel m = MODELS.get(h);
        if (m == null) throw new ContaException(ContaException.Code.ARGUMENT, "invalid or closed model handle " + h);
        return m;
    }

    /** 0, or an error code. */
    public static int segment(long h, ByteBuffer rgb, int w, int hgt, ByteBuffer out) {
        try {
            ContaModel m = model(h);
            if (rgb == null || out == null) throw new ContaException(ContaException.Code.ARGUMENT, "null image or output buffer");
            if (w <= 0 || hgt <= 0) throw new ContaException(ContaException.Code.ARGUMENT, "image size " + w + "x" + hgt + " must be positive");
            ContaModel.checkDims(w, hgt);
            if ((long) out.capacity() != (long) w * hgt)
                throw new ContaException(ContaException.Code.ARGUMENT, "the label buffer holds " + out.capacity() + " bytes; a " + w + "x" + hgt
                        + " label map needs " + (long) w * hgt);
            if ((long) rgb.capacity() != 3L * w * hgt)
                throw new ContaException(ContaException.Code.ARGUMENT, "the image buffer holds " + rgb.capacity() + " bytes; RGB8 " + w + "x" + hgt + " needs " + 3L * w * hgt);
            byte[][] a = m.bridgeArrays(w * hgt); // pixels and labels, reused from earlier calls (see SegStage.predict)
            try {
                rgb.duplicate().get(a[0]);
                out.duplicate().put(m.segment(a[0], w, hgt, a[1]));
            } finally {
                m.giveBack(a);
            }
            return 0;
        } catch (Throwable t) {
            return fail(t);
        }
    }

    /** 0, or an error code; out holds camClasses() * w * h floats. */
    public static int cams(long h, ByteBuffer rgb, int w, int hgt, ByteBuffer out) {
        return floats(h, rgb, w, hgt, out, "CAM", " of " + w + "x" + hgt, m -> m.camClasses() == 0 ? -1 : (long) m.camClasses() * w * hgt, ContaModel::cams);
    }

    /** 0, or an error code; out holds camClasses() floats, the class probabilities (ContaModel.classScores). */
    public static int classScores(long h, ByteBuffer rgb, int w, int hgt, ByteBuffer out) {
        return floats(h, rgb, w, hgt, out, "scores", "", m -> m.kind().equals("cls") ? m.camClasses() : -1, ContaModel::classScores);
    }

    private interface FloatCall { float[] apply(ContaModel m, byte[] rgb, int w, int h, float[] out); }

    /**
     * A call from an RGB8 image to floats in out: the image checks of every call, then out's length (need: its floats
     * for the model, -1 where the call itself refuses the model's kind; what and per name them in the message).
     */
    private static int floats(long h, ByteBuffer rgb, int w, int hgt, ByteBuffer out, String what, String per,
                              java.util.function.ToLongFunction<ContaModel> need, FloatCall call) {
        try {
            ContaModel m = model(h);
            if (rgb == null || out == null) throw new ContaException(ContaException.Code.ARGUMENT, "null image or output buffer");
            if (w <= 0 || hgt <= 0) throw new ContaException(ContaException.Code.ARGUMENT, "image size " + w + "x" + hgt + " must be positive");
            if ((long) rgb.capacity() != 3L * w * hgt)
                throw new ContaException(ContaException.Code.ARGUMENT, "the image buffer holds " + rgb.capacity() + " bytes; RGB8 " + w + "x" + hgt + " needs " + 3L * w * hgt);
            ContaModel.checkDims(w, hgt);
            long n = need.applyAsLong(m);
            if (n >= 0 && out.capacity() != n * 4)
                throw new ContaException(ContaException.Code.ARGUMENT, "the " + what + " buffer holds " + out.capacity() / 4 + " floats; " + m.camClasses()
                        + " classes" + per + " need " + n);
            byte[] px = new byte[rgb.capacity()];
            rgb.duplicate().get(px);
            out.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().put(call.apply(m, px, w, hgt, null));
            return 0;
        } catch (Throwable t) {
            return fail(t);
        }
    }

    /** Classes of the label map (with background) for seg, CAM planes for cls; minus an error code on failure. */
    public static int classes(long h, boolean cams) {
        try {
            ContaModel m = model(h);
            return cams ? m.camClasses() : m.classNames().size();
        } catch (Throwable t) {
            return -fail(t);
        }
    }

    /** Name of class k (background = 0), or null with the error set. */
    public static String className(long h, int k) {
        try {
            var names = model(h).classNames();
            if (k < 0 || k >= names.size()) throw new ContaException(ContaException.Code.ARGUMENT, "class " + k + " out of 0.." + (names.size() - 1));
            return names.get(k);
        } catch (Throwable t) {
            fail(t);
            return null;
        }
    }

    public static int close(long h) {
        try {
            ContaModel m = MODELS.remove(h);
            if (m == null) throw new ContaException(ContaException.Code.ARGUMENT, "invalid or closed model handle " + h);
            m.close();
            return 0;
        } catch (Throwable t) {
            return fail(t);
        }
    }

    /**
     * Reads an image file; its size is {width, height} (the pixels follow with {@link #takeImage}), or {minus the error
     * code} with the error set.
     */
    public static int[] readImage(String path) {
        try {
            RgbImage im = ContaModel.read(path(path));
            LAST_READ.set(im);
            return new int[]{im.w(), im.h()};
        } catch (Throwable t) {
            return new int[]{-fail(t)};
        }
    }

    /** Copies the pixels of this thread's last read image into out (3*w*h bytes). */
    public static int takeImage(ByteBuffer out) {
        try {
            RgbImage im = LAST_READ.get();
            if (im == null) throw new ContaException(ContaException.Code.ARGUMENT, "no image was read on this thread");
            if (out.capacity() != im.rgb().length) throw new ContaException(ContaException.Code.ARGUMENT, "pixel buffer of " + out.capacity() + " bytes for " + im.rgb().length);
            out.duplicate().put(im.rgb());
            LAST_READ.remove();
            return 0;
        } catch (Throwable t) {
            return fail(t);
        }
    }

    /** Writes a label map as a VOC-palette PNG. */
    public static int writeLabels(String path, ByteBuffer labels, int w, int h) {
        try {
            if (w <= 0 || h <= 0 || labels.capacity() != (long) w * h)
                throw new ContaException(ContaException.Code.ARGUMENT, "label buffer of " + labels.capacity() + " bytes for " + w + "x" + h);
            byte[] b = new byte[w * h];
            labels.duplicate().get(b);
            IndexPng.write(path(path), new Mask(h, w, b));
            return 0;
        } catch (java.io.IOException e) { // a FileSystemException's message may be its file alone: the reason follows it
            String why = e instanceof java.nio.file.NoSuchFileException f ? f.getFile() + " does not exist and cannot be made"
                    : e instanceof java.nio.file.AccessDeniedException f ? "permission denied on " + f.getFile()
                    : e instanceof java.nio.file.FileAlreadyExistsException f ? f.getFile() + " is a file, not a folder"
                    : e instanceof java.nio.file.FileSystemException f && f.getReason() == null ? f.getFile() + ": " + e.getClass().getSimpleName() : e.getMessage();
            ERROR.set("cannot write " + path + ": " + why);
            return ContaException.Code.ARGUMENT.value;
        } catch (conta.error.UserError e) { // the writer's refusal of the path (a folder): the caller's argument
            ERROR.set(e.getMessage());
            return ContaException.Code.ARGUMENT.value;
        } catch (Throwable t) {
            return fail(t);
        }
    }
}
