package conta.image;

/** A label map: one unsigned byte per pixel (class index, 255 = ignore), row-major. */
public record Mask(int h, int w, byte[] data) {
    public static final int IGNORE = 255;

    public Mask {
        if (h <= 0 || w <= 0 || data.length != h * w)
            throw new IllegalArgumentException("Mask " + w + "x" + h + " needs " + (long) h * w + " bytes, got " + data.length);
    }

    public int at(int y, int x) { return data[y * w + x] & 0xFF; }

    /** Pixel counts per value 0..255. */
    public long[] histogram() {
        long[] c = new long[256];
        for (byte b : data) c[b & 0xFF]++;
        return c;
    }

    /** Sorted class indices present in 1..maxClass (background 0 and 255 left out). */
    public int[] classesPresent(int maxClass) {
        long[] hgram = histogram();
        return java.util.stream.IntStream.rangeClosed(1, Math.min(maxClass, 254)).filter(k -> hgram[k] > 0).toArray();
    }
}
