package conta.image;

import java.util.List;

/** The PASCAL VOC colormap (256 entries, bit-interleaved) and the 20 VOC class names. */
public final class Palette {
    private Palette() { }

    public static final List<String> VOC_CLASSES = List.of("background",
            "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
            "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor");

    private static final byte[] VOC = build();

    /** 768 bytes: R,G,B of indices 0..255 (index 255 is (224,224,192), the VOC border colour). */
    public static byte[] voc() { return VOC.clone(); }

    /** RGB of index k packed as 0xRRGGBB. */
    public static int vocRgb(int k) {
        return (VOC[3 * k] & 0xFF) << 16 | (VOC[3 * k + 1] & 0xFF) << 8 | (VOC[3 * k + 2] & 0xFF);
    }

    private static byte[] build() {
        byte[] p = new byte[768];
        for (int i = 0; i < 256; i++) {
            int r = 0, g = 0, b = 0, c = i;
            for (int j = 0; j < 8; j++) {
                r |= ((c) & 1) << (7 - j);
                g |= ((c >> 1) & 1) << (7 - j);
                b |= ((c >> 2) & 1) << (7 - j);
                c >>= 3;
            }
            p[3 * i] = (byte) r;
            p[3 * i + 1] = (byte) g;
            p[3 * i + 2] = (byte) b;
        }
        return p;
    }
}
