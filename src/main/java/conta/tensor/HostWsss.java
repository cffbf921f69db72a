package conta.tensor;

import java.util.stream.IntStream;

/**
 * The CPU implementation of {@link WsssOps}: the Java the pipeline's stages ran before the seam (Cams, RandomWalk,
 * MaskEncoding's one-hot resize, Confusion), on host arrays. The 1x1-conv CAM and the resizes use the backend's own
 * conv2d/relu/resizeBilinear; everything else reads the tensors with download and writes them with upload, which on the
 * CPU backend are plain copies. It is also the fallback of any backend that has no device implementation.
 */
public final class HostWsss implements WsssOps {
    private final Backend b;

    public HostWsss(Backend b) { this.b = b; }

    private static void need(boolean ok, String op, Tensor... ts) {
        if (ok) return;
        StringBuilder sb = new StringBuilder();
        for (Tensor t : ts) sb.append(' ').append(t.shapeString());
        throw new IllegalArgumentException(op + ": unexpected shapes" + sb);
    }

    @Override
    public void cam(Tensor feat, Tensor w, Tensor cam) {
        int c = cam.dim(1), k = feat.dim(1);
        need(feat.rank() == 4 && cam.rank() == 4 && w.numel() == (long) c * k && cam.dim(0) == feat.dim(0)
                && cam.dim(2) == feat.dim(2) && cam.dim(3) == feat.dim(3), "cam", feat, w, cam);
        Tensor w4 = w.rank() == 4 ? w : w.view(c, k, 1, 1);
        b.conv2d(feat, w4, null, ConvSpec.of(1, 1, 0, 1), cam);
        b.relu(cam, cam);
    }

    @Override
    public void flipMergeSelect(Tensor cam, int[] channels, Tensor out) {
        int c = cam.dim(1), fh = cam.dim(2), fw = cam.dim(3), k = channels.length;
        need(cam.rank() == 4 && cam.dim(0) == 2 && out.numel() == (long) k * fh * fw && (out.rank() < 2 || out.dim(out.rank() - 1) == fw),
                "flipMergeSelect", cam, out);
        float[] both = cam.toArray(), o = new float[k * fh * fw];
        for (int i = 0; i < k; i++) {
            int ch = channels[i];
            if (ch < 0 || ch >= c) throw new IllegalArgumentException("flipMergeSelect: channel " + ch + " outside 0.." + (c - 1));
            for (int y = 0; y < fh; y++)
                for (int x = 0; x < fw; x++)
                    o[(i * fh + y) * fw + x] = both[(ch * fh + y) * fw + x] + both[((c + ch) * fh + y) * fw + (fw - 1 - x)];
        }
        b.upload(out, o);
    }

    @Override
    public void resizeCropAccumulate(Tensor x, int gridH, int gridW, Tensor acc) {
        int n = x.dim(0), c = x.dim(1), H = acc.dim(2), W = acc.dim(3);
        need(x.rank() == 4 && acc.rank() == 4 && acc.dim(0) == n && acc.dim(1) == c && H <= gridH && W <= gridW, "resizeCropAccumulate", x, acc);
        try (Tensor up = b.empty(n, c, gridH, gridW)) {
            b.resizeBilinear(x, false, up);
            if (H == gridH && W == gridW) {
                float[] a = acc.toArray(), u = up.toArray();
                for (int i = 0; i < a.length; i++) a[i] += u[i];
                b.upload(acc, a);
                return;
            }
            float[] a = acc.toArray(), u = up.toArray();
            for (int p = 0; p < n * c; p++)
                for (int y = 0; y < H; y++)
                    for (int xx = 0; xx < W; xx++) a[(p * H + y) * W + xx] += u[(p * gridH + y) * gridW + xx];
            b.upload(acc, a);
        }
    }

    @Override
    public void normaliseMax(Tensor x, long plane, float eps) {
        need(plane > 0 && x.numel() % plane == 0, "normaliseMax", x);
        float[] a = x.toArray();
        normaliseMax(a, (int) plane, eps);
        b.upload(x, a);
    }

    /** The host arithmetic of {@link WsssOps#normaliseMax} (kernels/cam.cu plane_max_normalise does the same steps). */
    static void normaliseMax(float[] a, int plane, float eps) {
        for (int p0 = 0; p0 < a.length; p0 += plane) {
            float m = 0;
            for (int p = p0; p < p0 + plane; p++) m = Math.max(m, a[p]);
            float d = m + eps, inv = d > 0 ? 1f / d : 0f;
            for (int p = p0; p < p0 + plane; p++) a[p] *= inv;
        }
    }

    @Override
    public void seeds(Tensor scores, float fgThreshold, float bgThreshold, int ignore, Tensor labels) {
        int n = scores.dim(0), k = scores.dim(1);
        long hw = Shapes.spatial(scores);
        need(labels.numel() == n * hw, "seeds", scores, labels);
        float[] s = k == 0 ? new float[0] : scores.toArray(), out = new float[Math.toIntExact(n * hw)];
        int p = (int) hw;
        for (int img = 0; img < n; img++)
            for (int q = 0; q < p; q++) {
                int best = -1;
                float m = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    float v = s[(img * k + c) * p + q];
                    if (best < 0 || v > m) { best = c; m = v; }
                }
                out[img * p + q] = best >= 0 && m > fgThreshold ? best + 1 : best < 0 || m <= bgThreshold ? 0 : ignore;
            }
        b.upload(labels, out);
    }

    /**
     * The label map of K x h x w scores upsampled to oh x ow (bilinear, align_corners false): per output pixel the
     * first class with the largest interpolated score, the scores computed exactly as the CPU backend's resizeBilinear
     * computes them but never stored (K x oh x ow floats for a full-size map), rows in parallel.
     */
    public static byte[] upsampleArgmax(float[] x, int k, int h, int w, int oh, int ow) { return upsampleArgmax(x, k, h, w, oh, ow, null); }

    /** The same, written into `into` when it holds exactly oh * ow bytes (else into a new array), and returned. */
    public static byte[] upsampleArgmax(float[] x, int k, int h, int w, int oh, int ow, byte[] into) {
        if (k < 1 || k > 256 || x.length != (long) k * h * w) throw new IllegalArgumentException(x.length + " scores are not " + k + " x " + h + " x " + w + " (1..256 classes)");
        BilinearTaps ty = BilinearTaps.of(h, oh, false), tx = BilinearTaps.of(w, ow, false);
        byte[] out = into != null && into.length == oh * ow ? into : new byte[oh * ow];
        int plane = h * w;
        IntStream.range(0, oh).parallel().forEach(oy -> {
            int r0 = ty.i0()[oy] * w, r1 = ty.i1()[oy] * w;
            float a0 = ty.w0()[oy], a1 = ty.w1()[oy];
            for (int ox = 0; ox < ow; ox++) {
                int c0 = tx.i0()[ox], c1 = tx.i1()[ox];
                float b0 = tx.w0()[ox], b1 = tx.w1()[ox];
                int best = 0;
                float top = Float.NEGATIVE_INFINITY;
                for (int c = 0, o = 0; c < k; c++, o += plane) {
                    float v = a0 * (b0 * x[o + r0 + c0] + b1 * x[o + r0 + c1]) + a1 * (b0 * x[o + r1 + c0] + b1 * x[o + r1 + c1]);
                    if (v > top || c == 0) { top = v; best = c; }
                }
                out[oy * ow + ox] = (byte) best;
            }
        });
        return out;
    }

    /**
     * The host argmax over k label-major planes of n values (q[c * n + i]), first maximum wins: the one argmax-to-labels
     * of full-size host score arrays (the CRF's output, CONTA's predicted masks; DeepLab's label maps come from
     * {@link #upsampleArgmax}, with the same first-maximum rule); on the device it is {@link #seeds} with -infinity
     * thresholds.
     */
    public static int[] argmax(float[] q, int k) {
        if (k < 1 || q.length % k != 0) throw new IllegalArgumentException(q.length + " values are not nLabels=" + k + " x N");
        int n = q.length / k;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < k; c++) if (q[c * n + i] > q[best * n + i]) best = c;
            out[i] = best;
        }
        return out;
    }

    @Override
    public void classMasks(Tensor labels, int firstLabel, boolean area, Tensor maps) {
        int H = labels.dim(labels.rank() - 2), W = labels.dim(labels.rank() - 1);
        int h = maps.dim(maps.rank() - 2), w = maps.dim(maps.rank() - 1), n = (int) (maps.numel() / ((long) h * w));
        need(labels.numel() == (long) H * W, "classMasks", labels, maps);
        float[] lab = labels.toArray(), out = new float[n * h * w];
        for (int c = 0; c < n; c++) {
            float want = firstLabel + c;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float v;
                    if (area) { // PyTorch's adaptive_avg_pool2d cell: rows floor(y*H/h) .. ceil((y+1)*H/h)-1
                        int y0 = Math.floorDiv(y * H, h), y1 = -Math.floorDiv(-(y + 1) * H, h);
                        int x0 = Math.floorDiv(x * W, w), x1 = -Math.floorDiv(-(x + 1) * W, w);
                        int count = 0;
                        for (int i = y0; i < y1; i++) for (int j = x0; j < x1; j++) if (lab[i * W + j] == want) count++;
                        v = (float) (count / ((double) (y1 - y0) * (x1 - x0)));
                    } else {
                        int sy = Math.min((int) Math.floor(y * (double) H / h), H - 1), sx = Math.min((int) Math.floor(x * (double) W / w), W - 1);
                        v = lab[sy * W + sx] == want ? 1f : 0f;
                    }
                    out[(c * h + y) * w + x] = v;
                }
        }
        b.upload(maps, out);
    }

    @Override
    public void accumulatePresent(Tensor maps, boolean[] present, Tensor sums) {
        need(maps.numel() == sums.numel() && maps.numel() % Math.max(1, present.length) == 0, "accumulatePresent", maps, sums);
        int plane = (int) (maps.numel() / Math.max(1, present.length));
        float[] m = maps.toArray(), s = sums.toArray();
        for (int c = 0; c < present.length; c++)
            if (present[c]) for (int p = c * plane; p < (c + 1) * plane; p++) s[p] += m[p];
        b.upload(sums, s);
    }

    @Override
    public void randomWalk(Tensor cams, Tensor boundary, WalkPaths paths, double beta, int steps, Tensor out) {
        int h = boundary.dim(boundary.rank() - 2), w = boundary.dim(boundary.rank() - 1), k = (int) (cams.numel() / Math.max(1L, (long) h * w));
        need(boundary.numel() == (long) h * w && cams.numel() == (long) k * h * w && out.numel() == cams.numel(), "randomWalk", cams, boundary, out);
        if (k == 0) return;
        b.upload(out, walk(cams.toArray(), k, boundary.toArray(), h, w, paths, beta, steps));
    }

    /**
     * The walk on host arrays (RandomWalk.propagate before the seam): T^steps applied as that many sparse mat-vecs on
     * the padded grid, rows split over the cores.
     */
    public static float[] walk(float[] cams, int k, float[] boundary, int h, int w, WalkPaths paths, double beta, long steps) {
        SparseAffinity g = new SparseAffinity(paths, boundary, h, w, beta);
        int pw = g.paddedWidth(), r = g.pad(), n = h * w;
        float[][] cur = new float[k][g.paddedSize()], next = new float[k][g.paddedSize()];
        for (int c = 0; c < k; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    cur[c][(y + r) * pw + x + r] = cams[c * n + y * w + x] * (1f - boundary[y * w + x]);
        float max = 0f;
        for (float[] c : cur) for (float v : c) max = Math.max(max, Math.abs(v));
        float floor = Math.max(Float.MIN_NORMAL, 1e-18f * max); // keeps products with weights >= 1e-20 normal
        int chunks = Math.min(h, 4 * Runtime.getRuntime().availableProcessors());
        for (long s = 0; s < steps; s++) {
            float[][] src = cur, dst = next;
            IntStream.range(0, chunks).parallel().forEach(t -> {
                int y0 = (int) ((long) h * t / chunks), y1 = (int) ((long) h * (t + 1) / chunks);
                for (int c = 0; c < src.length; c++) g.step(src[c], dst[c], y0, y1, floor);
            });
            cur = dst;
            next = src;
        }
        float[] out = new float[k * n];
        for (int c = 0; c < k; c++)
            for (int y = 0; y < h; y++) System.arraycopy(cur[c], (y + r) * pw + r, out, c * n + y * w, w);
        return out;
    }

    @Override
    public long[] confusion(Tensor gt, Tensor pred, int k) {
        Shapes.sameShape("confusion", gt, pred);
        float[] g = gt.toArray(), p = pred.toArray();
        long[] m = new long[k * k];
        for (int i = 0; i < g.length; i++) {
            int gv = (int) g[i];
            if (gv == 255) continue;
            int pv = (int) p[i];
            if (pv == 255) pv = 0;
            if (gv < 0 || gv >= k) throw new IllegalArgumentException("ground-truth value " + gv + " but only " + k + " classes (0.." + (k - 1) + ")");
            if (pv < 0 || pv >= k) throw new IllegalArgumentException("predicted value " + pv + " but only " + k + " classes (0.." + (k - 1) + ")");
            m[gv * k + pv]++;
        }
        return m;
    }
}
