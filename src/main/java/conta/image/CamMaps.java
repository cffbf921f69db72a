package conta.image;

import conta.io.HostArray;
import conta.io.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CAMs of the image's classes: keys are class ids (1..C); stride4 is K x h4 x w4 with h4 = ceil(H/4); highRes is
 * K x H x W. The CAM file format (.npz) lives in conta.image so that eval and synth read it without the wsss layer.
 */
public record CamMaps(int[] keys, int h4, int w4, float[] stride4, int h, int w, float[] highRes) {
    /** Writes {keys, cam, high_res} as an .npz (keys as float32 class ids). */
    public void save(Path file) throws IOException { save(file, Map.of()); }

    /** The same with further arrays after them (conta predict: the classifier's class scores). */
    public void save(Path file, Map<String, HostArray> extra) throws IOException {
        Map<String, HostArray> m = new LinkedHashMap<>();
        float[] k = new float[keys.length];
        for (int i = 0; i < keys.length; i++) k[i] = keys[i];
        m.put("keys", new HostArray(new int[]{keys.length}, k));
        m.put("cam", new HostArray(new int[]{keys.length, h4, w4}, stride4));
        m.put("high_res", new HostArray(new int[]{keys.length, h, w}, highRes));
        m.putAll(extra);
        Npy.writeNpz(file, m);
    }

    public static CamMaps load(Path file) throws IOException {
        var a = Npy.readNpz(file);
        HostArray k = a.get("keys"), c = a.get("cam"), hr = a.get("high_res");
        if (k == null || c == null || hr == null) throw new IOException(file + " lacks keys/cam/high_res; delete it to recompute");
        int[] keys = new int[k.data().length];
        for (int i = 0; i < keys.length; i++) keys[i] = Math.round(k.data()[i]);
        return new CamMaps(keys, c.shape()[1], c.shape()[2], c.data(), hr.shape()[1], hr.shape()[2], hr.data());
    }

    /** All C classes at full size, zeros for absent ones (the CAM file convention of `conta eval --cam`). */
    public float[] denseHighRes(int numClasses) {
        float[] d = new float[numClasses * h * w];
        for (int i = 0; i < keys.length; i++) System.arraycopy(highRes, i * h * w, d, (keys[i] - 1) * h * w, h * w);
        return d;
    }

    /** The maps of the given classes only (each must be one of keys), in the given order. */
    public CamMaps only(int[] classes) {
        int hw = h * w, hw4 = h4 * w4;
        float[] s4 = new float[classes.length * hw4], hr = new float[classes.length * hw];
        for (int j = 0; j < classes.length; j++) {
            int i = keys.length - 1;
            while (i >= 0 && keys[i] != classes[j]) i--;
            if (i < 0) throw new IllegalArgumentException("class " + classes[j] + " has no CAM here");
            System.arraycopy(stride4, i * hw4, s4, j * hw4, hw4);
            System.arraycopy(highRes, i * hw, hr, j * hw, hw);
        }
        return new CamMaps(classes.clone(), h4, w4, s4, h, w, hr);
    }

    /** Argmax over [background = threshold, CAMs]; class ids, 0 = background. */
    public Mask seeds(double threshold) {
        return argmaxWithBackground(keys, highRes, h, w, (float) threshold);
    }

    /** Label map from per-class scores and a constant background plane (ties go to the lower index, as numpy argmax). */
    public static Mask argmaxWithBackground(int[] keys, float[] scores, int h, int w, float bg) {
        int hw = h * w;
        byte[] out = new byte[hw];
        for (int p = 0; p < hw; p++) {
            float best = bg;
            int arg = 0;
            for (int k = 0; k < keys.length; k++) {
                float v = scores[k * hw + p];
                if (v > best) { best = v; arg = keys[k]; }
            }
            out[p] = (byte) arg;
        }
        return new Mask(h, w, out);
    }
}
