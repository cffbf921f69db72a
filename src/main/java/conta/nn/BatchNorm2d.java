package conta.nn;

import conta.autograd.F;
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
        if (training && !frozen) return F.batchNormTrain(x, weight, bias, runningMean, runningVar, momentum, eps);
        return F.batchNormFrozen(x, weight, bias, runningMean, runningVar, eps);
    }

    /** relu(forward(x)) as one fused op. */
    public Tensor forwardRelu(Tensor x) {
        if (training && !frozen) return F.batchNormTrainRelu(x, weight, bias, runningMean, runningVar, momentum, eps);
        return F.batchNormFrozenRelu(x, weight, bias, runningMean, runningVar, eps);
    }
}
