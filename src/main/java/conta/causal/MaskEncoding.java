package conta.causal;

import conta.image.MapResize;
import conta.io.HostArray;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import java.util.List;

/**
 * How a predicted segmentation of one image becomes (a) its n per-class maps at h x w, which {@link ConfounderSet}
 * averages into c_1..c_n, and (b) CONTA's query X_m, which {@link ContextAttention} projects with W1.
 *
 * <p><b>Classes.</b> The n classes are the foreground classes: label value (or score channel) {@code firstLabel + i} is
 * class i. With VOC's {@code firstLabel = 1}, background 0 and ignore 255 belong to no class, as in m_t.py, which drops
 * the background entry of its dictionary.
 *
 * <p><b>Values.</b> {@link Values#HARD} (default): one-hot maps of the argmax label map at the input resolution, then
 * resized (with {@link MapResize.Mode#AREA}, the default, a cell holds the fraction of it the class covers; with NEAREST
 * it stays binary). {@link Values#SOFT}: the class probability channels, resized. A label map has no probabilities, so
 * it is always encoded one-hot.
 *
 * <p><b>The shape of X_m (our interpretation).</b> The paper has W1, W2 in R^{d x hw} and writes (W1 X_m)ᵀ(W2 c_i), so
 * X_m must be one vector of length hw, like each c_i. {@link Query#FOREGROUND} (default): X_m is the class-summed
 * foreground map, sum_i of the class maps (= 1 - background in HARD mode), so q = W1 X_m is one query per image and M is
 * one map (k = 1 context channel). {@link Query#PER_CLASS}: each of the n class maps is its own query, giving n maps M_j
 * (k = n channels); this keeps which class is where, at n times the head's extra input.
 */
public record MaskEncoding(int classes, int firstLabel, int height, int width, Values values, MapResize.Mode resize, Query query) {
    public enum Values { HARD, SOFT }

    public enum Query { FOREGROUND, PER_CLASS }

    public MaskEncoding {
        if (classes <= 0 || firstLabel < 0 || height <= 0 || width <= 0)
            throw new IllegalArgumentException("MaskEncoding: classes, height, width must be positive and firstLabel >= 0, got "
                    + classes + ", " + height + ", " + width + ", " + firstLabel);
        if (values == null || resize == null || query == null) throw new IllegalArgumentException("MaskEncoding: null option");
    }

    /** Defaults: background at label 0, HARD values, AREA resize, FOREGROUND query. */
    public static MaskEncoding of(int classes, int height, int width) {
        return new MaskEncoding(classes, 1, height, width, Values.HARD, MapResize.Mode.AREA, Query.FOREGROUND);
    }

    /** The block-5 grid of a square training crop: every stride-2 step of a ResNet maps x to ceil(x / 2). */
    public static int grid(int crop, int outputStride) { return -Math.floorDiv(-crop, outputStride); }

    public MaskEncoding withFirstLabel(int f) { return new MaskEncoding(classes, f, height, width, values, resize, query); }

    public MaskEncoding withValues(Values v) { return new MaskEncoding(classes, firstLabel, height, width, v, resize, query); }

    public MaskEncoding withResize(MapResize.Mode r) { return new MaskEncoding(classes, firstLabel, height, width, values, r, query); }

    public MaskEncoding withQuery(Query q) { return new MaskEncoding(classes, firstLabel, height, width, values, resize, q); }

    public int cells() { return height * width; }

    /** Context channels k of X_m and M: 1 for FOREGROUND, n for PER_CLASS (the ResNet's contextChannels). */
    public int queryChannels() { return query == Query.FOREGROUND ? 1 : classes; }

    /** n x h x w one-hot class maps of an H x W label map (values outside the n classes count for none). */
    public float[] classMaps(int[] labels, int H, int W) {
        if (labels.length != (long) H * W) throw new IllegalArgumentException("label map has " + labels.length + " values, not " + H + " x " + W);
        float[] onehot = new float[classes * H * W];
        for (int p = 0; p < labels.length; p++) {
            int c = labels[p] - firstLabel;
            if (c >= 0 && c < classes) onehot[c * H * W + p] = 1f;
        }
        return MapResize.resize(onehot, classes, H, W, height, width, resize);
    }

    /** n x h x w class maps from C x H x W class scores (probabilities for SOFT; any monotone scores for HARD). */
    public float[] classMaps(HostArray scores) {
        int[] s = checkScores(scores);
        if (values == Values.HARD) return classMaps(argmax(scores), s[1], s[2]);
        int hw = s[1] * s[2];
        float[] fg = new float[classes * hw];
        System.arraycopy(scores.data(), firstLabel * hw, fg, 0, fg.length);
        return MapResize.resize(fg, classes, s[1], s[2], height, width, resize);
    }

    /** Classes with at least one pixel in the label map. */
    public boolean[] present(int[] labels) {
        boolean[] p = new boolean[classes];
        for (int v : labels) if (v - firstLabel >= 0 && v - firstLabel < classes) p[v - firstLabel] = true;
        return p;
    }

    /** Classes that win the argmax somewhere. */
    public boolean[] present(HostArray scores) {
        checkScores(scores);
        return present(argmax(scores));
    }

    /** The per-pixel argmax channel (the label map) of C x H x W scores; the first maximum wins ties. */
    public static int[] argmax(HostArray scores) {
        return conta.tensor.HostWsss.argmax(scores.data(), scores.shape()[0]);
    }

    /** X_m from the n x h x w class maps: k x h x w (k = {@link #queryChannels()}). */
    public float[] query(float[] classMaps) {
        int hw = cells();
        if (classMaps.length != classes * hw)
            throw new IllegalArgumentException("class maps have " + classMaps.length + " values, expected " + classes + " x " + height + " x " + width);
        if (query == Query.PER_CLASS) return classMaps.clone();
        float[] q = new float[hw];
        for (int p = 0; p < hw; p++) {
            double s = 0;
            for (int c = 0; c < classes; c++) s += classMaps[c * hw + p];
            q[p] = (float) s;
        }
        return q;
    }

    /** Stacks per-image queries into the N x k x h x w tensor {@link ContextAttention#forward} takes. */
    public Tensor batch(Backend b, List<float[]> queries) {
        int per = queryChannels() * cells();
        float[] all = new float[queries.size() * per];
        for (int i = 0; i < queries.size(); i++) {
            if (queries.get(i).length != per)
                throw new IllegalArgumentException("query " + i + " has " + queries.get(i).length + " values, expected " + per);
            System.arraycopy(queries.get(i), 0, all, i * per, per);
        }
        return Tensor.of(b, all, queries.size(), queryChannels(), height, width);
    }

    private int[] checkScores(HostArray scores) {
        int[] s = scores.shape();
        if (s.length != 3 || s[0] < firstLabel + classes)
            throw new IllegalArgumentException("class scores must be C x H x W with C >= " + (firstLabel + classes)
                    + " (first class at channel " + firstLabel + "), got " + scores.shapeString());
        return s;
    }
}
