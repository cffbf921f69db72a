package conta.image;

/** An 8-bit RGB image, rows top to bottom, pixels interleaved R,G,B (HWC). */
public record RgbImage(int h, int w, byte[] rgb) {
    public RgbImage {
        if (h <= 0 || w <= 0 || rgb.length != 3 * h * w)
            throw new IllegalArgumentException("RgbImage " + w + "x" + h + " needs " + 3L * h * w + " bytes, got " + rgb.length);
    }

    /** Channel c (0=R) of pixel (y, x) as 0..255. */
    public int at(int y, int x, int c) { return rgb[3 * (y * w + x) + c] & 0xFF; }
}
