package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudart.*;

import conta.tensor.Tensor;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;

/**
 * The WSSS kernels on a CUDA backend: CAM, max-normalisation, multi-scale accumulation, seeds, class-mean masks,
 * CONTA's attention (forward, backward), the random-walk step and confusion matrices. References: KernelRef (src/selftest),
 * the CPU backend's resize, and conta.eval.Confusion. Shapes as in kernels/*.cu.
 */
public final class CudaDomain {
    private final CudaBackend b;

    public CudaDomain(CudaBackend b) { this.b = b; }

    private static void need(boolean ok, String op, Tensor... ts) {
        if (!ok) throw new IllegalArgumentException(op + ": unexpected shapes " + CudaBackend.shapes(ts));
    }

    private static int plane(Tensor t) { return conta.tensor.Shapes.spatial(t); }

    /** cam [N,C,h,w] = relu(w [C,K] . feat [N,K,h,w]). */
    public void cam(Tensor feat, Tensor w, Tensor cam) {
        int n = feat.dim(0), k = feat.dim(1), c = w.dim(0), p = plane(feat);
        need(w.rank() == 2 && w.dim(1) == k && cam.dim(0) == n && cam.dim(1) == c && plane(cam) == p, "cam", feat, w, cam);
        b.enter();
        b.launch("cam_fwd", cam.numel(), "cam " + CudaBackend.shapes(feat, w), CudaBackend.a(feat), CudaBackend.a(w), CudaBackend.a(cam), n, k, c, (long) p);
        b.done("cam");
    }

    /** Each [h,w] plane divided by its max + eps, in place. */
    public void normaliseMax(Tensor cam, float eps) {
        b.enter();
        int planes = cam.dim(0) * cam.dim(1);
        b.kernels.launch("plane_max_normalise", planes, 256, 0, b.stream, "normaliseMax " + cam, CudaBackend.a(cam), (long) plane(cam), eps);
        b.done("normaliseMax");
    }

    /** acc += bilinear(cam) (one scale of the multi-scale CAM sum). */
    public void resizeAccumulate(Tensor cam, boolean alignCorners, Tensor acc) { b.resize(cam, alignCorners, acc, true, "resizeAccumulate"); }

    /** labels [N,h,w] from cam [N,C,h,w] and present [N,C]; see KernelRef.seeds. */
    public void seeds(Tensor cam, Tensor present, float fgThr, float bgThr, int ignore, Tensor labels) {
        int n = cam.dim(0), c = cam.dim(1), p = plane(cam);
        need(present.numel() == (long) n * c && labels.numel() == (long) n * p, "seeds", cam, present, labels);
        b.enter();
        b.launch("cam_seeds", labels.numel(), "seeds " + cam, CudaBackend.a(cam), CudaBackend.a(present), CudaBackend.a(labels), n, c, (long) p, fgThr, bgThr, ignore);
        b.done("seeds");
    }

    /** means [N,C,K] and counts [N,C] of features feat [N,K,h,w] over the pixels of each label in labels [N,h,w]. */
    public void classMeans(Tensor feat, Tensor labels, Tensor means, Tensor counts) {
        int n = feat.dim(0), k = feat.dim(1), p = plane(feat), c = counts.dim(1);
        need(labels.numel() == (long) n * p && means.numel() == (long) n * c * k && counts.numel() == (long) n * c, "classMeans", feat, labels, means, counts);
        b.enter();
        b.launch("class_means", means.numel(), "classMeans " + feat, CudaBackend.a(feat), CudaBackend.a(labels), CudaBackend.a(means), CudaBackend.a(counts), n, k, c, (long) p);
        b.done("classMeans");
    }

    /** a [N,C], m [N,K] from q [N,D], kz [C,D], z [C,K], prior [C]. */
    public void contaAttentionForward(Tensor q, Tensor kz, Tensor z, Tensor prior, Tensor a, Tensor m) {
        int n = q.dim(0), d = q.dim(1), c = kz.dim(0), k = z.dim(1);
        need(kz.dim(1) == d && z.dim(0) == c && prior.numel() == c && a.numel() == (long) n * c && m.numel() == (long) n * k, "contaAttention", q, kz, z, prior, a, m);
        b.enter();
        b.kernels.launch("conta_attn_fwd", n, 256, c * 4, b.stream, "contaAttentionForward " + CudaBackend.shapes(q, kz, z), CudaBackend.a(q),
                CudaBackend.a(kz), CudaBackend.a(z), CudaBackend.a(prior), CudaBackend.a(a), CudaBackend.a(m), n, c, d, k, (float) (1 / Math.sqrt(d)));
        b.done("contaAttentionForward");
    }

    /** dq [N,D] and dkz [C,D] (overwritten) from dm [N,K]; a from the forward. */
    public void contaAttentionBackward(Tensor q, Tensor kz, Tensor z, Tensor prior, Tensor a, Tensor dm, Tensor dq, Tensor dkz) {
        int n = q.dim(0), d = q.dim(1), c = kz.dim(0), k = z.dim(1);
        need(dm.numel() == (long) n * k && dq.sameShape(q) && dkz.sameShape(kz), "contaAttentionBackward", q, kz, dm, dq, dkz);
        b.enter();
        String op = "contaAttentionBackward " + CudaBackend.shapes(q, kz, z);
        float inv = (float) (1 / Math.sqrt(d));
        try (Tensor ds = b.empty(n, c)) {
            b.kernels.launch("conta_attn_bwd_q", n, 256, 2 * c * 4, b.stream, op, CudaBackend.a(kz), CudaBackend.a(z), CudaBackend.a(prior),
                    CudaBackend.a(a), CudaBackend.a(dm), CudaBackend.a(ds), CudaBackend.a(dq), n, c, d, k, inv);
            b.launch("conta_attn_bwd_k", (long) c * d, op, CudaBackend.a(q), CudaBackend.a(ds), CudaBackend.a(dkz), n, c, d, inv);
        }
        b.done(op);
    }

    private Tensor offsets(int[] dy, int[] dx) {
        if (dy.length != dx.length || dy.length == 0) throw new IllegalArgumentException("random walk: " + dy.length + " dy vs " + dx.length + " dx offsets");
        int[] both = new int[2 * dy.length];
        System.arraycopy(dy, 0, both, 0, dy.length);
        System.arraycopy(dx, 0, both, dy.length, dx.length);
        Tensor t = b.empty(both.length); // ints stored in a float-sized buffer
        try (IntPointer host = new IntPointer(both)) {
            CudaRuntime.check(cudaMemcpyAsync(CudaBackend.ptr(t), host, both.length * 4L, cudaMemcpyHostToDevice, b.stream), "cudaMemcpyAsync", "random walk offsets");
            CudaRuntime.check(cudaStreamSynchronize(b.stream), "cudaStreamSynchronize", "random walk offsets");
        }
        return t;
    }

    /** d [N,h,w]: column sums of A^beta for aff [N,O,h,w]. */
    public void walkColumnSums(Tensor aff, int[] dy, int[] dx, float beta, Tensor d) {
        int n = aff.dim(0), o = aff.dim(1), h = aff.dim(2), w = aff.dim(3);
        need(o == dy.length && d.numel() == (long) n * h * w, "walkColumnSums", aff, d);
        b.enter();
        try (Tensor offs = offsets(dy, dx)) {
            b.launch("walk_colsum", d.numel(), "walkColumnSums " + aff, CudaBackend.a(aff), CudaBackend.a(offs), CudaBackend.a(d), n, o, h, w, beta);
        }
        b.done("walkColumnSums");
    }

    /** out [N,C,h,w] = one column-normalised random-walk step of v [N,C,h,w]. */
    public void walkStep(Tensor v, Tensor aff, int[] dy, int[] dx, Tensor d, float beta, Tensor out) {
        int n = v.dim(0), c = v.dim(1), o = aff.dim(1), h = aff.dim(2), w = aff.dim(3);
        need(o == dy.length && v.dim(2) == h && v.dim(3) == w && out.sameShape(v) && d.numel() == (long) n * h * w, "walkStep", v, aff, d, out);
        b.enter();
        try (Tensor offs = offsets(dy, dx)) {
            b.launch("walk_step", out.numel(), "walkStep " + v, CudaBackend.a(v), CudaBackend.a(aff), CudaBackend.a(offs), CudaBackend.a(d),
                    CudaBackend.a(out), n, c, o, h, w, beta);
        }
        b.done("walkStep");
    }

    /** k x k counts (rows = ground truth) of one batch, with conta.eval.Confusion's rules for 255. */
    public long[] confusion(Tensor gt, Tensor pred, int k) {
        conta.tensor.Shapes.sameShape("confusion", gt, pred);
        b.enter();
        String op = "confusion " + gt;
        try (Tensor mat = b.empty(2 * k * k); Tensor flag = b.empty(2)) { // k*k uint64 counts in a float buffer of twice the length
            b.fill(mat, 0f);
            b.fill(flag, 0f);
            b.launch("confusion_acc", gt.numel(), op, CudaBackend.a(gt), CudaBackend.a(pred), CudaBackend.a(mat), gt.numel(), k,
                    CudaBackend.a(flag), CudaBackend.addr(flag) + 4);
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
