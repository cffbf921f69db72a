package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudart.*;

import conta.tensor.Shapes;
import conta.tensor.Tensor;
import conta.tensor.WalkPaths;
import conta.tensor.WsssOps;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;

/**
 * The WSSS ops on a CUDA backend, on conta's kernels (kernels/cam.cu, resize.cu, walk.cu, confusion.cu); the
 * conformance tests (DomainCases in the self-test, WsssConformanceTest) hold each op to the CPU implementation
 * {@link conta.tensor.HostWsss}. Everything stays on the backend's stream; the host sees only the confusion counts.
 */
public final class CudaWsss implements WsssOps {
    private final CudaBackend b;

    public CudaWsss(CudaBackend b) { this.b = b; }

    private static void need(boolean ok, String op, Tensor... ts) {
        if (!ok) throw new IllegalArgumentException(op + ": unexpected shapes " + CudaBackend.shapes(ts));
    }

    private static long a(Tensor t) { return CudaBackend.addr(t); }

    @Override
    public void cam(Tensor feat, Tensor w, Tensor cam) {
        int n = feat.dim(0), k = feat.dim(1), c = cam.dim(1);
        long p = Shapes.spatial(feat);
        need(feat.rank() == 4 && cam.rank() == 4 && w.numel() == (long) c * k && cam.dim(0) == n && Shapes.spatial(cam) == p, "cam", feat, w, cam);
        b.enter();
        b.launch("cam_fwd", cam.numel(), "cam " + CudaBackend.shapes(feat, w), a(feat), a(w), a(cam), n, k, c, p);
        b.done("cam");
    }

    @Override
    public void flipMergeSelect(Tensor cam, int[] channels, Tensor out) {
        int c = cam.dim(1), h = cam.dim(2), w = cam.dim(3), k = channels.length;
        need(cam.rank() == 4 && cam.dim(0) == 2 && out.numel() == (long) k * h * w, "flipMergeSelect", cam, out);
        b.enter();
        long plane = (long) h * w * 4;
        for (int i = 0; i < k; i++) {
            int ch = channels[i];
            if (ch < 0 || ch >= c) throw new IllegalArgumentException("flipMergeSelect: channel " + ch + " outside 0.." + (c - 1));
            b.launch("flip_add", (long) h * w, "flipMergeSelect " + cam, a(cam) + ch * plane, a(cam) + (c + ch) * plane, a(out) + i * plane, h, w);
        }
        b.done("flipMergeSelect");
    }

    @Override
    public void resizeCropAccumulate(Tensor x, int gridH, int gridW, Tensor acc) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), H = acc.dim(2), W = acc.dim(3);
        need(x.rank() == 4 && acc.rank() == 4 && acc.dim(0) == n && acc.dim(1) == c && H <= gridH && W <= gridW, "resizeCropAccumulate", x, acc);
        b.enter();
        b.launch("resize_crop_acc", acc.numel(), "resizeCropAccumulate " + CudaBackend.shapes(x, acc), a(x), a(acc), n * c, h, w, H, W,
                CudaChecks.resizeScale(h, gridH, false), CudaChecks.resizeScale(w, gridW, false));
        b.done("resizeCropAccumulate");
    }

    @Override
    public void normaliseMax(Tensor x, long plane, float eps) {
        need(plane > 0 && x.numel() % plane == 0, "normaliseMax", x);
        b.enter();
        b.kernels.launch("plane_max_normalise", Math.toIntExact(x.numel() / plane), 256, 0, b.stream, "normaliseMax " + x, a(x), plane, eps);
        b.done("normaliseMax");
    }

    @Override
    public void seeds(Tensor scores, float fgThreshold, float bgThreshold, int ignore, Tensor labels) {
        int n = scores.dim(0), k = scores.dim(1);
        long p = Shapes.spatial(scores);
        need(labels.numel() == n * p, "seeds", scores, labels);
        b.enter();
        b.launch("cam_seeds", labels.numel(), "seeds " + scores, k == 0 ? 0L : a(scores), a(labels), n, k, p, fgThreshold, bgThreshold, ignore);
        b.done("seeds");
    }

    @Override
    public void classMasks(Tensor labels, int firstLabel, boolean area, Tensor maps) {
        int H = labels.dim(labels.rank() - 2), W = labels.dim(labels.rank() - 1);
        int h = maps.dim(maps.rank() - 2), w = maps.dim(maps.rank() - 1), n = (int) (maps.numel() / ((long) h * w));
        need(labels.numel() == (long) H * W, "classMasks", labels, maps);
        b.enter();
        b.launch("class_masks", maps.numel(), "classMasks " + CudaBackend.shapes(labels, maps), a(labels), a(maps), H, W, n, h, w, firstLabel, area ? 1 : 0);
        b.done("classMasks");
    }

    @Override
    public void accumulatePresent(Tensor maps, boolean[] present, Tensor sums) {
        need(maps.numel() == sums.numel() && maps.numel() % Math.max(1, present.length) == 0, "accumulatePresent", maps, sums);
        long plane = maps.numel() / Math.max(1, present.length);
        b.enter();
        for (int c = 0; c < present.length; c++) // one add per present class on the planes' addresses: no upload of the flags
            if (present[c]) b.launch("add_scaled", plane, "accumulatePresent " + sums, a(sums) + c * plane * 4, 1f, a(maps) + c * plane * 4, 1f,
                    a(sums) + c * plane * 4, plane);
        b.done("accumulatePresent");
    }

    /** The paths as walk.cu reads them: dy[D], dx[D], start[D+1], pathY[..], pathX[..] (ints, uploaded once per call). */
    private Tensor offsets(WalkPaths paths) {
        int d = paths.directions(), total = 0;
        for (int[] p : paths.pathY()) total += p.length;
        int[] o = new int[3 * d + 1 + 2 * total];
        int at = 3 * d + 1;
        for (int i = 0; i < d; i++) {
            o[i] = paths.dy()[i];
            o[d + i] = paths.dx()[i];
            o[2 * d + i] = at - (3 * d + 1);
            System.arraycopy(paths.pathY()[i], 0, o, at, paths.pathY()[i].length);
            System.arraycopy(paths.pathX()[i], 0, o, at + total, paths.pathX()[i].length);
            at += paths.pathY()[i].length;
        }
        o[3 * d] = total;
        Tensor t = b.empty(o.length); // ints in a float-sized buffer
        b.staging.uploadInts(o, a(t), "random walk paths");
        return t;
    }

    @Override
    public void randomWalk(Tensor cams, Tensor boundary, WalkPaths paths, double beta, int steps, Tensor out) {
        int h = boundary.dim(boundary.rank() - 2), w = boundary.dim(boundary.rank() - 1);
        long hw = (long) h * w, k = cams.numel() / Math.max(1L, hw);
        need(boundary.numel() == hw && cams.numel() == k * hw && out.numel() == cams.numel(), "randomWalk", cams, boundary, out);
        if (k == 0) return;
        b.enter();
        String op = "randomWalk " + CudaBackend.shapes(cams, boundary);
        int dirs = paths.directions();
        try (Tensor offs = offsets(paths); Tensor weight = b.empty(dirs, h, w); Tensor degree = b.empty(h, w); Tensor floor = b.empty(1);
             Tensor other = b.empty((int) k, h, w)) {
            b.launch("walk_affinity", weight.numel(), op, a(boundary), a(offs), a(weight), h, w, dirs, beta);
            b.launch("walk_degree", hw, op, a(weight), a(offs), a(degree), h, w, dirs);
            // the start goes to whichever buffer makes the last step land in out
            Tensor first = steps % 2 == 0 ? out : other, second = first == out ? other : out;
            b.launch("walk_init", k * hw, op, a(cams), a(boundary), a(first), k, hw);
            b.kernels.launch("walk_floor", 1, 256, 0, b.stream, op, a(first), k * hw, a(floor));
            Tensor src = first, dst = second;
            for (int s = 0; s < steps; s++) {
                b.launch("walk_step", k * hw, op, a(src), a(weight), a(offs), a(degree), a(floor), a(dst), (int) k, h, w, dirs);
                Tensor t = src;
                src = dst;
                dst = t;
            }
        }
        b.done(op);
    }

    @Override
    public long[] confusion(Tensor gt, Tensor pred, int k) {
        Shapes.sameShape("confusion", gt, pred);
        b.enter();
        String op = "confusion " + gt;
        try (Tensor mat = b.empty(2 * k * k); Tensor flag = b.empty(2)) { // k*k uint64 counts in a float buffer of twice the length
            b.fill(mat, 0f);
            b.fill(flag, 0f);
            b.launch("confusion_acc", gt.numel(), op, a(gt), a(pred), a(mat), gt.numel(), k, a(flag), a(flag) + 4);
            long[] out = new long[k * k];
            try (LongPointer host = new LongPointer(out.length); IntPointer bad = new IntPointer(2)) {
                CudaRuntime.check(cudaMemcpyAsync(host, CudaBackend.ptr(mat), out.length * 8L, cudaMemcpyDeviceToHost, b.stream), "cudaMemcpyAsync", op);
                CudaRuntime.check(cudaMemcpyAsync(bad, CudaBackend.ptr(flag), 8, cudaMemcpyDeviceToHost, b.stream), "cudaMemcpyAsync", op);
                CudaRuntime.check(cudaStreamSynchronize(b.stream), "cudaStreamSynchronize", op);
                if (bad.get(0) != 0)
                    throw new IllegalArgumentException((bad.get(0) == 1 ? "ground-truth" : "predicted") + " value "
                            + (int) Float.intBitsToFloat(bad.get(1)) + " but only " + k + " classes (0.." + (k - 1) + ")");
                host.get(out);
            }
            return out;
        }
    }
}
