package conta.image;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A label map drawn over its photo (each labelled pixel half its class colour, background untouched) with a legend
 * strip on the right naming the classes that occur, each beside its colour swatch.
 */
public final class Overlay {
    private Overlay() { }

    static final int ROW = 18, LEGEND_W = 170;

    /** @param palette RGB bytes of each class index (names.size() entries) */
    public static BufferedImage render(RgbImage im, Mask m, List<String> names, byte[] palette) {
        int h = im.h(), w = im.w();
        boolean[] present = new boolean[256];
        for (byte v : m.data()) present[v & 0xFF] = true;
        int rows = 0;
        for (int k = 0; k < 256; k++) if (present[k]) rows++;
        BufferedImage out = new BufferedImage(w + LEGEND_W, Math.max(h, 8 + ROW * rows), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int i = y * w + x, k = m.data()[i] & 0xFF;
                int r = im.rgb()[3 * i] & 0xFF, g = im.rgb()[3 * i + 1] & 0xFF, b = im.rgb()[3 * i + 2] & 0xFF;
                if (k != 0) {
                    int c = colour(k, palette);
                    r = (r + (c >> 16 & 0xFF)) / 2;
                    g = (g + (c >> 8 & 0xFF)) / 2;
                    b = (b + (c & 0xFF)) / 2;
                }
                out.setRGB(x, y, r << 16 | g << 8 | b);
            }
        Graphics2D gr = out.createGraphics();
        gr.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        gr.setColor(Color.WHITE);
        gr.fillRect(w, 0, LEGEND_W, out.getHeight());
        gr.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int y = 4;
        for (int k = 0; k < 256; k++) {
            if (!present[k]) continue;
            gr.setColor(new Color(colour(k, palette)));
            gr.fillRect(w + 6, y + 2, 14, 14);
            gr.setColor(Color.BLACK);
            gr.drawRect(w + 6, y + 2, 14, 14);
            gr.drawString(k < names.size() ? names.get(k) : k == 255 ? "ignore" : "class " + k, w + 26, y + 14);
            y += ROW;
        }
        gr.dispose();
        return out;
    }

    static int colour(int k, byte[] palette) {
        if (3 * k + 2 < palette.length) return (palette[3 * k] & 0xFF) << 16 | (palette[3 * k + 1] & 0xFF) << 8 | (palette[3 * k + 2] & 0xFF);
        return Palette.vocRgb(k);
    }
}
