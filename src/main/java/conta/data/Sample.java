package conta.data;

/**
 * One training/eval example ready for the trainer: image as float CHW (3×h×w, normalised as the augmentation said),
 * mask as unsigned bytes h×w (class index, 255 = ignore) or null, labels = sorted foreground class indices (1..C).
 */
public record Sample(String id, float[] image, int h, int w, byte[] mask, int[] labels) {
    public Sample {
        if (image.length != 3 * h * w) throw new IllegalArgumentException("image of " + image.length + " floats is not 3x" + h + "x" + w);
        if (mask != null && mask.length != h * w) throw new IllegalArgumentException("mask of " + mask.length + " bytes is not " + h + "x" + w);
    }

    /** Multi-hot over the C foreground classes (index k-1 for class k), as the CAM classifier wants. */
    public float[] multiHot(int numClasses) {
        float[] v = new float[numClasses];
        for (int k : labels) v[k - 1] = 1f;
        return v;
    }
}
