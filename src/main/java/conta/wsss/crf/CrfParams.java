package conta.wsss.crf;

/**
 * Dense CRF settings in pydensecrf's terms: {@code inference(iterations)}, {@code addPairwiseGaussian(sxy=gaussSxy,
 * compat=gaussCompat)} and {@code addPairwiseBilateral(sxy=bilatSxy, srgb=bilatSrgb, compat=bilatCompat)}.
 * Standard deviations are in pixels and in 0..255 colour units; a compat of 0 switches that kernel off.
 */
public record CrfParams(int iterations, float gaussSxy, float gaussCompat,
                        float bilatSxy, float bilatSrgb, float bilatCompat) {

    /** IRNet {@code crf_inference_label} (IR labels from CAMs; used with unary from labels, gt_prob 0.7). */
    public static final CrfParams IRN_LABEL = new CrfParams(10, 3, 3, 50, 5, 10);

    /** deeplab-pytorch post-processing: ITER_MAX 10, POS_W 3, POS_XY_STD 1, BI_W 4, BI_XY_STD 67, BI_RGB_STD 3. */
    public static final CrfParams DEEPLAB = new CrfParams(10, 1, 3, 67, 3, 4);

    public CrfParams {
        if (iterations < 0) throw new IllegalArgumentException("CRF iterations must be >= 0, got " + iterations);
        positive("gaussSxy", gaussSxy);
        positive("bilatSxy", bilatSxy);
        positive("bilatSrgb", bilatSrgb);
        if (!Float.isFinite(gaussCompat) || !Float.isFinite(bilatCompat))
            throw new IllegalArgumentException("CRF compat weights must be finite, got " + gaussCompat + " and " + bilatCompat);
    }

    private static void positive(String name, float v) {
        if (!(v > 0) || !Float.isFinite(v)) throw new IllegalArgumentException("CRF " + name + " must be a positive number, got " + v);
    }
}
