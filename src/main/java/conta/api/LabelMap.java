package conta.api;

/** A label map: the class index of each pixel (0 = background), row-major, width x height bytes. */
public record LabelMap(int width, int height, byte[] labels) {
    public LabelMap {
        if (labels.length != width * height) throw new IllegalArgumentException("labels hold " + labels.length + " bytes for " + width + "x" + height);
    }

    /** Class index at (x, y). */
    public int at(int x, int y) {
        if (x < 0 || y < 0 || x >= width || y >= height)
            throw new ContaException(ContaException.Code.ARGUMENT, "pixel (" + x + ", " + y + ") is outside the " + width + "x" + height + " label map");
        return labels[y * width + x] & 0xFF;
    }
}
