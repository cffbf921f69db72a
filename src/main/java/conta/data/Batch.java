package conta.data;

import java.util.List;

/**
 * n samples of equal size, ready to upload: images n×3×h×w floats, masks n×h×w unsigned bytes (null when no sample
 * has a mask; 255 for the ones without), labels n×C multi-hot floats (class k at column k-1).
 */
public record Batch(List<String> ids, float[] images, int n, int h, int w, byte[] masks, float[] labels, int numClasses) {
    static Batch of(List<Sample> ss, int numClasses) {
        if (ss.isEmpty()) return new Batch(List.of(), new float[0], 0, 0, 0, null, new float[0], numClasses);
        int h = ss.get(0).h(), w = ss.get(0).w(), n = ss.size(), px = h * w;
        for (Sample s : ss)
            if (s.h() != h || s.w() != w)
                throw new IllegalArgumentException("images " + ss.get(0).id() + " (" + w + "x" + h + ") and " + s.id() + " (" + s.w() + "x" + s.h()
                        + ") differ in size; set a crop size or use batch size 1");
        float[] im = new float[n * 3 * px];
        float[] lab = new float[n * numClasses];
        boolean anyMask = ss.stream().anyMatch(s -> s.mask() != null);
        byte[] ms = anyMask ? new byte[n * px] : null;
        for (int i = 0; i < n; i++) {
            Sample s = ss.get(i);
            System.arraycopy(s.image(), 0, im, i * 3 * px, 3 * px);
            for (int k : s.labels()) lab[i * numClasses + k - 1] = 1f;
            if (ms != null) {
                if (s.mask() != null) System.arraycopy(s.mask(), 0, ms, i * px, px);
                else java.util.Arrays.fill(ms, i * px, (i + 1) * px, (byte) 255);
            }
        }
        return new Batch(ss.stream().map(Sample::id).toList(), im, n, h, w, ms, lab, numClasses);
    }
}
