package conta.tensor;

/** Shape checks and derived sizes that every backend needs in the same form (one copy, one wording of the errors). */
public final class Shapes {
    private Shapes() { }

    public static void sameShape(String op, Tensor a, Tensor b) {
        if (!a.sameShape(b)) throw new IllegalArgumentException(op + ": shapes differ " + a.shapeString() + " vs " + b.shapeString());
    }

    /** Product of the dimensions after the first two (H*W for NCHW; 1 for a 2-d tensor). */
    /** Checks y's shape against x and that scale / shift (shift may be null) hold one value per channel of x. */
    public static void channelAffine(String op, Tensor x, Tensor scale, Tensor shift, Tensor y) {
        sameShape(op, x, y);
        int c = x.dim(1);
        if (scale.numel() != c || (shift != null && shift.numel() != c))
            throw new IllegalArgumentException(op + ": " + x + " with scale " + scale + " shift " + shift);
    }

    public static int spatial(Tensor t) {
        int s = 1;
        for (int i = 2; i < t.rank(); i++) s *= t.dim(i);
        return s;
    }

    /** {m, n, k} of C = op(A) op(B) after checking that A, B, C are 2-d and fit together. */
    public static int[] gemmDims(boolean transA, boolean transB, Tensor a, Tensor b, Tensor c) {
        if (a.rank() != 2 || b.rank() != 2 || c.rank() != 2)
            throw new IllegalArgumentException("gemm needs 2-d tensors: " + a + " " + b + " " + c);
        int m = transA ? a.dim(1) : a.dim(0), k = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0), n = transB ? b.dim(0) : b.dim(1);
        if (k != kb || c.dim(0) != m || c.dim(1) != n)
            throw new IllegalArgumentException("gemm shapes: op(A)=" + m + "x" + k + " op(B)=" + kb + "x" + n + " C=" + c.shapeString());
        return new int[]{m, n, k};
    }
}
