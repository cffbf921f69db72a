package conta.tensor;

/** Argument checks of the layer helpers of {@link Backend} (batchNormFold, copyWindow), shared by the backends. */
public final class LayerShapes {
    private LayerShapes() { }

    /** Every tensor has C elements; returns C. Nulls are errors. */
    public static int perChannel(String op, Tensor... ts) {
        long c = ts[0].numel();
        for (Tensor t : ts)
            if (t.numel() != c) throw new IllegalArgumentException(op + ": per-channel tensors differ in size: " + describe(ts));
        return Math.toIntExact(c);
    }

    /** The window lies inside both tensors, which are rank 4 with the same N and C; returns the plane count N*C. */
    public static int window(String op, Tensor src, int srcTop, int srcLeft, Tensor dst, int dstTop, int dstLeft, int h, int w) {
        if (src.rank() != 4 || dst.rank() != 4 || src.dim(0) != dst.dim(0) || src.dim(1) != dst.dim(1) || h < 0 || w < 0
                || srcTop < 0 || srcLeft < 0 || dstTop < 0 || dstLeft < 0 || srcTop + h > src.dim(2) || srcLeft + w > src.dim(3)
                || dstTop + h > dst.dim(2) || dstLeft + w > dst.dim(3))
            throw new IllegalArgumentException(op + ": window " + h + "x" + w + " at (" + srcTop + "," + srcLeft + ") of " + src.shapeString()
                    + " -> (" + dstTop + "," + dstLeft + ") of " + dst.shapeString() + " does not fit");
        return Math.multiplyExact(src.dim(0), src.dim(1));
    }

    private static String describe(Tensor... ts) {
        StringBuilder sb = new StringBuilder();
        for (Tensor t : ts) sb.append(sb.isEmpty() ? "" : ", ").append(t.shapeString());
        return sb.toString();
    }
}
