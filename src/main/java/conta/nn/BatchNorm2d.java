package conta.nn;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.tensor.Backend;
import conta.tensor.Tensor;

/**
 * Batch norm with torch names. In training uses batch statistics and updates running ones; in eval, or always when
 * {@code frozen} (IRNet's FixedBatchNorm, DeepLab's freeze_bn), it uses the running statistics.
 */
public final class BatchNorm2d extends Module {
    public final Tensor weight, bias, runningMean, runningVar;
    public final float eps, momentum;
    public boolean frozen;

    public BatchNorm2d(Backend b, int c, float eps, float momentum, boolean frozen) {
        super(b);
        this.eps = eps;
        this.momentum = momentum;
        this.frozen = frozen;
        weight = param("weight", c);
        bias = param("bias", c);
        runningMean = buffer("running_mean", c);
        runningVar = buffer("running_var", c);
        backend.fill(weight, 1f);
        backend.fill(runningVar, 1f);
    }

    public Tensor forward(Tensor x) {
        if (training && !frozen) return train(F.batchNormTrain(x, weight, bias, runningMean, runningVar, momentum, eps));
        return F.batchNormFolded(x, weight, bias, runningMean, fold(), foldShift, foldInv, false);
    }

    /** relu(forward(x)) as one fused op. */
    public Tensor forwardRelu(Tensor x) {
        if (training && !frozen) return train(F.batchNormTrainRelu(x, weight, bias, runningMean, runningVar, momentum, eps));
        return F.batchNormFolded(x, weight, bias, runningMean, fold(), foldShift, foldInv, true);
    }

    // The frozen path's per-channel scale/shift (and 1/std for the gamma gradient), folded on the backend and kept while
    // weight, bias and the running statistics keep the versions they had then (an optimizer step, a state load or a
    // training-mode forward changes them): no per-forward kernel, and never a host round trip.
    private Tensor foldScale, foldShift, foldInv;
    private final long[] foldVersions = new long[4];

    private Tensor train(Tensor y) {
        runningMean.markModified(); // batchNormTrain updated the running statistics in place
        runningVar.markModified();
        return y;
    }

    private Tensor fold() {
        Tensor[] src = {weight, bias, runningMean, runningVar};
        boolean fresh = foldScale != null;
        for (int i = 0; i < 4 && fresh; i++) fresh = foldVersions[i] == src[i].version();
        if (fresh) return foldScale;
        dropFold();
        int c = weight.dim(0);
        foldScale = backend.empty(c);
        foldShift = backend.empty(c);
        foldInv = backend.empty(c);
        backend.batchNormFold(weight, bias, runningMean, runningVar, eps, foldScale, foldShift, foldInv);
        for (int i = 0; i < 4; i++) foldVersions[i] = src[i].version();
        return foldScale;
    }

    /** A stale fold may still be held by a recorded backward: the current tape frees it with its own tensors. */
    private void dropFold() {
        for (Tensor t : new Tensor[]{foldScale, foldShift, foldInv}) {
            if (t == null) continue;
            if (Tape.current() != null) Tape.track(t);
            else t.close();
        }
        foldScale = foldShift = foldInv = null;
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[]{foldScale, foldShift, foldInv}) if (t != null) t.close();
        foldScale = foldShift = foldInv = null;
        super.close();
    }
}
