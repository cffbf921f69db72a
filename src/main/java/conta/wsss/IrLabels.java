package conta.wsss;

import conta.image.CamMaps;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.tensor.Backend;
import conta.wsss.crf.CrfParams;
import conta.wsss.crf.DenseCrf;
import conta.wsss.crf.Unary;

/**
 * IRNet's inter-pixel relation labels (step/cam_to_ir_label.py): argmax of the CAMs against a high background score
 * (confident foreground) and against a low one (confident background), each refined by the dense CRF from hard labels;
 * pixels foreground in the first map keep their class, pixels background in both become 0, the rest 255.
 */
public final class IrLabels {
    private IrLabels() { }

    public record Params(float fgThreshold, float bgThreshold, boolean crf, CrfParams crfParams, float gtProb) {
        public static Params irnet() { return new Params(0.30f, 0.05f, true, CrfParams.IRN_LABEL, DenseCrf.IRN_GT_PROB); }
    }

    /** The thresholded argmaxes run on the backend's WSSS ops ({@link conta.tensor.WsssOps#seeds}); the CRF on the host. */
    public static Mask compute(Backend b, RgbImage im, CamMaps cam, Params p) {
        int k = cam.keys().length;
        int[] index = new int[k];
        for (int c = 0; c < k; c++) index[c] = c + 1;
        byte[][] both;
        // images run in parallel (PseudoStage.irLabels); a device backend's stream serves one thread at a time, so its
        // short thresholding step takes turns while the CRFs, the bulk of the work, run side by side on the host
        if (b.name().equals("cpu")) both = Cams.labelsAt(b, index, cam.highRes(), cam.h(), cam.w(), p.fgThreshold(), p.bgThreshold());
        else synchronized (b) {
            both = Cams.labelsAt(b, index, cam.highRes(), cam.h(), cam.w(), p.fgThreshold(), p.bgThreshold());
        }
        int[] fg = refine(im, both[0], k, p), bg = refine(im, both[1], k, p);
        byte[] out = new byte[fg.length];
        for (int i = 0; i < fg.length; i++) {
            int f = fg[i] == 0 ? 0 : cam.keys()[fg[i] - 1], bk = bg[i] == 0 ? 0 : cam.keys()[bg[i] - 1];
            out[i] = (byte) (f != 0 ? f : bk == 0 ? 0 : 255);
        }
        return new Mask(cam.h(), cam.w(), out);
    }

    /** Index map (0 = background, k = keys[k-1]) of a thresholded argmax, CRF-refined when asked. */
    static int[] refine(RgbImage im, byte[] m, int k, Params p) {
        int[] lab = new int[m.length];
        for (int i = 0; i < m.length; i++) lab[i] = m[i] & 0xFF;
        if (!p.crf()) return lab;
        return DenseCrf.inferLabels(Unary.fromLabels(lab, k + 1, p.gtProb(), false), im, k + 1, p.crfParams());
    }
}
