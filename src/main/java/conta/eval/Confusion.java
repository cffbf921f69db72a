package conta.eval;

/**
 * K×K confusion matrix, rows = ground truth, columns = prediction. Ground truth 255 is ignored; a predicted 255 counts
 * as background (IRNet's eval_sem_seg does the same). Metrics follow the VOC protocol: IoU_c = TP/(GT+Pred-TP), mIoU =
 * mean over classes whose IoU is defined (classes absent from both ground truth and prediction are left out).
 */
public final class Confusion {
    private final int k;
    private final long[] m;
    private long ignored; // ground-truth 255 pixels left out: a set of nothing else scores 100% (see Evaluator.ignoredOnly)

    public Confusion(int numClassesWithBg) {
        this.k = numClassesWithBg;
        this.m = new long[k * k];
    }

    public int size() { return k; }

    public long get(int gt, int pred) { return m[gt * k + pred]; }

    /** Adds one image; throws IllegalArgumentException naming the first out-of-range value. */
    public void add(byte[] gt, byte[] pred) {
        if (gt.length != pred.length) throw new IllegalArgumentException("prediction has " + pred.length + " pixels, ground truth " + gt.length);
        for (int i = 0; i < gt.length; i++) {
            int g = gt[i] & 0xFF;
            if (g == 255) { ignored++; continue; }
            int p = pred[i] & 0xFF;
            if (p == 255) p = 0;
            if (g >= k) throw new IllegalArgumentException("ground-truth value " + g + " but only " + k + " classes (0.." + (k - 1) + ")");
            if (p >= k) throw new IllegalArgumentException("predicted value " + p + " but only " + k + " classes (0.." + (k - 1) + ")");
            m[g * k + p]++;
        }
    }

    public void add(int gt, int pred, long count) { m[gt * k + pred] += count; }

    public void add(Confusion o) {
        for (int i = 0; i < m.length; i++) m[i] += o.m[i];
        ignored += o.ignored;
    }

    /** Counts n ground-truth pixels of value 255 (ignored, in no cell). */
    public void addIgnored(long n) { ignored += n; }

    /** Ground-truth pixels of value 255 seen (and left out of the matrix). */
    public long ignored() { return ignored; }

    /** Ground-truth pixels of a foreground class (1..k-1). */
    public long foregroundGt() {
        long s = 0;
        for (int c = 1; c < k; c++) s += gtTotal(c);
        return s;
    }

    public long gtTotal(int c) {
        long s = 0;
        for (int p = 0; p < k; p++) s += m[c * k + p];
        return s;
    }

    public long predTotal(int c) {
        long s = 0;
        for (int g = 0; g < k; g++) s += m[g * k + c];
        return s;
    }

    public long pixels() {
        long s = 0;
        for (long v : m) s += v;
        return s;
    }

    /** Per-class IoU; NaN where the class is in neither ground truth nor prediction. */
    public double[] iou() {
        double[] r = new double[k];
        for (int c = 0; c < k; c++) {
            long tp = get(c, c), u = gtTotal(c) + predTotal(c) - tp;
            r[c] = u == 0 ? Double.NaN : (double) tp / u;
        }
        return r;
    }

    /** TP / predicted; NaN where nothing was predicted as c. */
    public double[] precision() {
        double[] r = new double[k];
        for (int c = 0; c < k; c++) r[c] = predTotal(c) == 0 ? Double.NaN : (double) get(c, c) / predTotal(c);
        return r;
    }

    /** TP / ground truth; NaN where c is absent from the ground truth. */
    public double[] recall() {
        double[] r = new double[k];
        for (int c = 0; c < k; c++) r[c] = gtTotal(c) == 0 ? Double.NaN : (double) get(c, c) / gtTotal(c);
        return r;
    }

    public double miou() { return nanmean(iou()); }

    public double pixelAccuracy() {
        long tp = 0;
        for (int c = 0; c < k; c++) tp += get(c, c);
        long n = pixels();
        return n == 0 ? Double.NaN : (double) tp / n;
    }

    /** Background false positives as a share of the background union (IRNet's fp[0]): (pred_bg - TP_bg) / union_bg. */
    public double bgFalsePositive() {
        long tp = get(0, 0), u = gtTotal(0) + predTotal(0) - tp;
        return u == 0 ? Double.NaN : (double) (predTotal(0) - tp) / u;
    }

    /** Background false negatives as a share of the background union (IRNet's fn[0]): (gt_bg - TP_bg) / union_bg. */
    public double bgFalseNegative() {
        long tp = get(0, 0), u = gtTotal(0) + predTotal(0) - tp;
        return u == 0 ? Double.NaN : (double) (gtTotal(0) - tp) / u;
    }

    public long[][] matrix() {
        long[][] r = new long[k][k];
        for (int g = 0; g < k; g++) System.arraycopy(m, g * k, r[g], 0, k);
        return r;
    }

    static double nanmean(double[] v) {
        double s = 0;
        int n = 0;
        for (double d : v) if (!Double.isNaN(d)) { s += d; n++; }
        return n == 0 ? Double.NaN : s / n;
    }
}
