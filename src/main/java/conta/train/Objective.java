package conta.train;

import conta.autograd.F;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import java.util.List;

/** The training losses, applied to every output a network trains on and summed (DeepLab's multi-scale recipe). */
public enum Objective {
    MULTILABEL_SOFT_MARGIN("multilabel-soft-margin"), BCE("bce"), CE("ce");

    public final String cliName;

    Objective(String cliName) { this.cliName = cliName; }

    public static Objective parse(String s) {
        for (Objective o : values()) if (o.cliName.equals(s)) return o;
        throw new IllegalArgumentException("unknown loss '" + s + "' (known: multilabel-soft-margin, bce, ce)");
    }

    /**
     * Sum over outputs of the loss. Multi-label targets are N x C; CE labels are N (classifiers) or N x H x W at the
     * first output's size, resized by nearest neighbour (PyTorch's rule) to each other output's size.
     */
    public Tensor loss(List<Tensor> outputs, float[] labels, int[] labelShape, Tensor classWeights, int ignoreIndex) {
        Tensor total = null;
        for (Tensor out : outputs) {
            Tensor l = single(out, labels, labelShape, classWeights, ignoreIndex);
            total = total == null ? l : F.add(total, l);
        }
        return total;
    }

    private Tensor single(Tensor out, float[] labels, int[] labelShape, Tensor classWeights, int ignoreIndex) {
        Backend b = out.backend();
        switch (this) {
            case MULTILABEL_SOFT_MARGIN, BCE -> {
                if (out.rank() != 2 || labels.length != out.numel())
                    throw new IllegalArgumentException(cliName + " needs N x C multi-hot labels for logits " + out.shapeString()
                            + ", got " + java.util.Arrays.toString(labelShape));
                Tensor t = conta.autograd.Tape.track(Tensor.of(b, labels, out.shape()));
                return this == BCE ? F.bceWithLogits(out, t) : F.multilabelSoftMarginLoss(out, t);
            }
            default -> {
                int n = out.dim(0);
                if (out.rank() == 2) {
                    if (labels.length != n) throw new IllegalArgumentException("ce needs N class indices for logits " + out.shapeString());
                    return F.crossEntropy(out, conta.autograd.Tape.track(Tensor.of(b, labels, n)), classWeights, ignoreIndex);
                }
                if (labelShape.length != 3 || labelShape[0] != n)
                    throw new IllegalArgumentException("ce needs N x H x W labels for score maps " + out.shapeString()
                            + ", got " + java.util.Arrays.toString(labelShape));
                float[] r = resizeNearest(labels, n, labelShape[1], labelShape[2], out.dim(2), out.dim(3));
                return F.crossEntropy(out, conta.autograd.Tape.track(Tensor.of(b, r, n, out.dim(2), out.dim(3))), classWeights, ignoreIndex);
            }
        }
    }

    /** n label maps h x w resized to oh x ow with PyTorch's F.interpolate(mode='nearest') (conta.image.MapResize). */
    public static float[] resizeNearest(float[] src, int n, int h, int w, int oh, int ow) {
        return h == oh && w == ow ? src : conta.image.MapResize.resize(src, n, h, w, oh, ow, conta.image.MapResize.Mode.NEAREST);
    }
}
