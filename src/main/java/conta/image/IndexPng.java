package conta.image;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import javax.imageio.ImageIO;

/**
 * Label-map PNGs. Reading returns the raw indices of palette ("P") and 8-bit grey PNGs: OpenCV would expand a
 * palette into colours, so we decode ourselves (8-bit, non-interlaced: every VOC/SBD mask) and fall back to ImageIO
 * for other bit depths, interlacing, or RGB colour masks (mapped back through the VOC palette).
 * Writing produces an 8-bit indexed PNG with the 256-entry VOC palette, which PIL and ImageIO read as the same indices.
 */
public final class IndexPng {
    /** The fix a damaged mask's error gives: right for a dataset's masks; the pipeline drops it for its own outputs. */
    public static final String REEXPORT = " (re-export it as an 8-bit palette or grey PNG)";

    private IndexPng() { }

    private static final byte[] SIG = {(byte) 137, 80, 78, 71, 13, 10, 26, 10};

    public static void write(Path file, Mask m) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        byte[] b = encode(m);
        conta.io.AtomicWrite.write(file, b); // a kill never leaves half a PNG
    }

    /** PNG bytes of m, color type 3 with the VOC palette; deterministic for equal input. */
    public static byte[] encode(Mask m) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(m.h() * m.w() / 4 + 1024);
            out.write(SIG);
            ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(m.w()).putInt(m.h());
            ihdr.put((byte) 8).put((byte) 3).put((byte) 0).put((byte) 0).put((byte) 0);
            chunk(out, "IHDR", ihdr.array());
            chunk(out, "PLTE", Palette.voc());
            byte[] raw = new byte[m.h() * (m.w() + 1)];
            for (int y = 0; y < m.h(); y++) System.arraycopy(m.data(), y * m.w(), raw, y * (m.w() + 1) + 1, m.w());
            Deflater d = new Deflater(6);
            d.setInput(raw);
            d.finish();
            ByteArrayOutputStream z = new ByteArrayOutputStream(raw.length / 4 + 64);
            byte[] buf = new byte[65536];
            while (!d.finished()) z.write(buf, 0, d.deflate(buf));
            d.end();
            chunk(out, "IDAT", z.toByteArray());
            chunk(out, "IEND", new byte[0]);
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e); // in-memory streams do not fail
        }
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        d.writeInt(data.length);
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        d.write(t);
        d.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        d.writeInt((int) crc.getValue());
    }

    /** Reads a label PNG as raw indices; errors name the file. */
    public static Mask read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IOException("mask " + file + " does not exist");
        }
        try {
            return decode(bytes);
        } catch (IOException | RuntimeException e) {
            throw new IOException("mask " + file + ": " + e.getMessage() + REEXPORT, e);
        }
    }

    public static Mask decode(byte[] b) throws IOException {
        if (b.length < 8 || !java.util.Arrays.equals(b, 0, 8, SIG, 0, 8)) throw new IOException("not a PNG file");
        ByteBuffer bb = ByteBuffer.wrap(b);
        bb.position(8);
        int w = 0, h = 0, depth = 0, color = 0, interlace = 0;
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        boolean end = false;
        while (bb.remaining() >= 12) {
            int len = bb.getInt();
            byte[] t = new byte[4];
            bb.get(t);
            String type = new String(t, java.nio.charset.StandardCharsets.US_ASCII);
            if (len < 0 || len > bb.remaining() - 4) throw new IOException("truncated PNG (chunk " + type + " cut off)");
            int at = bb.position();
            switch (type) {
                case "IHDR" -> {
                    w = bb.getInt(at);
                    h = bb.getInt(at + 4);
                    depth = b[at + 8];
                    color = b[at + 9];
                    interlace = b[at + 12];
                }
                case "IDAT" -> idat.write(b, at, len);
                case "IEND" -> end = true;
                default -> { }
            }
            bb.position(at + len + 4);
            if (end) break;
        }
        if (!end) throw new IOException("truncated PNG (no IEND chunk)");
        if (w <= 0 || h <= 0) throw new IOException("PNG without a valid IHDR");
        if (depth != 8 || (color != 0 && color != 3) || interlace != 0) return viaImageIO(b);
        byte[] raw = new byte[h * (w + 1)];
        Inflater inf = new Inflater();
        inf.setInput(idat.toByteArray());
        try {
            int n = 0;
            while (n < raw.length) {
                int k = inf.inflate(raw, n, raw.length - n);
                if (k == 0 && (inf.finished() || inf.needsInput())) break;
                n += k;
            }
            if (n < raw.length) throw new IOException("truncated PNG (pixel data ends after " + n / (w + 1) + " of " + h + " rows)");
        } catch (DataFormatException e) {
            throw new IOException("corrupt PNG pixel data: " + e.getMessage());
        } finally {
            inf.end();
        }
        byte[] out = new byte[h * w];
        for (int y = 0; y < h; y++) {
            int o = y * (w + 1);
            int f = raw[o];
            for (int x = 0; x < w; x++) {
                int a = x > 0 ? out[y * w + x - 1] & 0xFF : 0;
                int up = y > 0 ? out[(y - 1) * w + x] & 0xFF : 0;
                int c = x > 0 && y > 0 ? out[(y - 1) * w + x - 1] & 0xFF : 0;
                int v = raw[o + 1 + x] & 0xFF;
                v += switch (f) {
                    case 0 -> 0;
                    case 1 -> a;
                    case 2 -> up;
                    case 3 -> (a + up) >> 1;
                    case 4 -> paeth(a, up, c);
                    default -> throw new IOException("bad PNG filter type " + f + " in row " + y);
                };
                out[y * w + x] = (byte) v;
            }
        }
        return new Mask(h, w, out);
    }

    private static int paeth(int a, int b, int c) {
        int p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /** Other PNG flavours: indices straight from the raster, or colours mapped back through the VOC palette. */
    private static Mask viaImageIO(byte[] b) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(b));
        if (img == null) throw new IOException("ImageIO cannot decode this PNG");
        int w = img.getWidth(), h = img.getHeight();
        byte[] out = new byte[h * w];
        Raster r = img.getRaster();
        if (img.getColorModel() instanceof IndexColorModel || r.getNumBands() == 1) {
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int v = r.getSample(x, y, 0);
                    if (v > 255) throw new IOException("label value " + v + " at (" + x + "," + y + ") exceeds 255");
                    out[y * w + x] = (byte) v;
                }
            return new Mask(h, w, out);
        }
        java.util.Map<Integer, Integer> inv = new java.util.HashMap<>();
        for (int k = 0; k < 256; k++) inv.putIfAbsent(Palette.vocRgb(k), k);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y) & 0xFFFFFF;
                Integer k = inv.get(rgb);
                if (k == null) throw new IOException(String.format("colour mask pixel (%d,%d) = #%06x is not a VOC palette colour", x, y, rgb));
                out[y * w + x] = (byte) (int) k;
            }
        return new Mask(h, w, out);
    }
}
