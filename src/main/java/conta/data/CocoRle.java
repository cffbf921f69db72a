package conta.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * COCO run-length masks, bit-compatible with pycocotools' maskApi.c: counts alternate 0-runs and 1-runs over the
 * image in column-major (Fortran) order; polygons are rasterised with the same 5x upsampled boundary walk
 * ({@code rleFrPoly}), so pixel sets match pycocotools exactly.
 */
public final class CocoRle {
    private CocoRle() { }

    /** Decodes the compressed LEB128-like string form ({@code rleFrString}). */
    public static long[] fromString(String s) {
        List<Long> cnts = new ArrayList<>();
        int p = 0;
        while (p < s.length()) {
            long x = 0;
            int k = 0;
            boolean more = true;
            while (more) {
                if (p >= s.length()) throw new IllegalArgumentException("RLE string ends inside a number");
                int c = s.charAt(p) - 48;
                x |= (long) (c & 0x1f) << 5 * k;
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0) x |= -1L << 5 * k;
            }
            if (cnts.size() > 2) x += cnts.get(cnts.size() - 2);
            cnts.add(x);
        }
        return cnts.stream().mapToLong(Long::longValue).toArray();
    }

    /** Encodes counts as the compressed string ({@code rleToString}). */
    public static String toString(long[] cnts) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cnts.length; i++) {
            long x = cnts[i];
            if (i > 2) x -= cnts[i - 2];
            boolean more = true;
            while (more) {
                int c = (int) (x & 0x1f);
                x >>= 5;
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) c |= 0x20;
                b.append((char) (c + 48));
            }
        }
        return b.toString();
    }

    /** Counts of a 0/1 mask (row-major h×w in, column-major runs out). */
    public static long[] encode(boolean[] m, int h, int w) {
        List<Long> c = new ArrayList<>();
        boolean cur = false;
        long run = 0;
        for (int x = 0; x < w; x++)
            for (int y = 0; y < h; y++) {
                if (m[y * w + x] != cur) {
                    c.add(run);
                    run = 0;
                    cur = !cur;
                }
                run++;
            }
        c.add(run);
        return c.stream().mapToLong(Long::longValue).toArray();
    }

    /** Sets {@code out[y*w+x] = value} on the 1-runs of the counts (row-major output). */
    public static void paint(long[] cnts, int h, int w, byte[] out, byte value, boolean onlyWhereZero) {
        long total = (long) h * w, i = 0;
        for (int r = 0; r < cnts.length; r++) {
            long end = Math.min(total, i + cnts[r]);
            if ((r & 1) == 1)
                for (long j = i; j < end; j++) {
                    int idx = (int) ((j % h) * w + j / h);
                    if (!onlyWhereZero || out[idx] == 0) out[idx] = value;
                }
            i = end;
        }
    }

    /** Number of foreground pixels. */
    public static long area(long[] cnts) {
        long a = 0;
        for (int r = 1; r < cnts.length; r += 2) a += cnts[r];
        return a;
    }

    /** One polygon (x0,y0,x1,y1,...) to counts, exactly as pycocotools {@code rleFrPoly}. */
    public static long[] fromPolygon(double[] xy, int h, int w) {
        int k = xy.length / 2;
        if (k == 0) return new long[]{(long) h * w};
        final double scale = 5;
        int[] x = new int[k + 1], y = new int[k + 1];
        for (int j = 0; j < k; j++) x[j] = (int) (scale * xy[2 * j] + .5);
        x[k] = x[0];
        for (int j = 0; j < k; j++) y[j] = (int) (scale * xy[2 * j + 1] + .5);
        y[k] = y[0];
        int m = 0;
        for (int j = 0; j < k; j++) m += Math.max(Math.abs(x[j] - x[j + 1]), Math.abs(y[j] - y[j + 1])) + 1;
        int[] u = new int[m], v = new int[m];
        m = 0;
        for (int j = 0; j < k; j++) {
            int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
            int dx = Math.abs(xe - xs), dy = Math.abs(ys - ye);
            boolean flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
            if (flip) {
                int t = xs; xs = xe; xe = t;
                t = ys; ys = ye; ye = t;
            }
            double s = dx >= dy ? (double) (ye - ys) / dx : (double) (xe - xs) / dy;
            if (dx >= dy) for (int d = 0; d <= dx; d++) {
                int t = flip ? dx - d : d;
                u[m] = t + xs;
                v[m] = (int) (ys + s * t + .5);
                m++;
            } else for (int d = 0; d <= dy; d++) {
                int t = flip ? dy - d : d;
                v[m] = t + ys;
                u[m] = (int) (xs + s * t + .5);
                m++;
            }
        }
        // points where the boundary crosses a pixel column, downsampled to pixel rows
        int kk = m;
        long[] a = new long[kk + 1];
        int na = 0;
        for (int j = 1; j < kk; j++) {
            if (u[j] == u[j - 1]) continue;
            double xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
            xd = (xd + .5) / scale - .5;
            if (Math.floor(xd) != xd || xd < 0 || xd > w - 1) continue;
            double yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
            yd = (yd + .5) / scale - .5;
            if (yd < 0) yd = 0;
            else if (yd > h) yd = h;
            yd = Math.ceil(yd);
            a[na++] = (long) xd * h + (long) yd;
        }
        a[na++] = (long) h * w;
        Arrays.sort(a, 0, na);
        long p = 0;
        for (int j = 0; j < na; j++) {
            long t = a[j];
            a[j] -= p;
            p = t;
        }
        long[] b = new long[na];
        int j = 0, nb = 0;
        b[nb++] = a[j++];
        while (j < na) {
            if (a[j] > 0) b[nb++] = a[j++];
            else {
                j++;
                if (j < na) b[nb - 1] += a[j++];
            }
        }
        return Arrays.copyOf(b, nb);
    }

    /** Union of several polygons (one annotation), as pycocotools {@code merge}. */
    public static boolean[] polygonsToMask(List<double[]> polys, int h, int w) {
        boolean[] m = new boolean[h * w];
        byte[] tmp = new byte[h * w];
        for (double[] poly : polys) paint(fromPolygon(poly, h, w), h, w, tmp, (byte) 1, false);
        for (int i = 0; i < m.length; i++) m[i] = tmp[i] != 0;
        return m;
    }
}
