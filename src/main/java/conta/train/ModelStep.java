package conta.train;

import conta.autograd.Tape;
import conta.models.Network;
import conta.optim.Sgd;
import conta.tensor.Tensor;

/** K SGD steps on one batch in training mode (the `conta model step` contract and its tests). */
public final class ModelStep {
    private ModelStep() { }

    /** Returns the loss of each step (before its update). */
    public static float[] run(Network net, Tensor input, float[] labels, int[] labelShape, Objective obj,
                              float lr, float momentum, float weightDecay, int steps) {
        net.module().train(true);
        float[] losses = new float[steps];
        try (Sgd opt = Sgd.single(net.module().trainableParameters(), momentum, weightDecay)) {
            for (int k = 0; k < steps; k++) {
                opt.zeroGrad();
                try (Tape tape = Tape.open(true)) {
                    Tensor loss = obj.loss(net.trainOutputs(input), labels, labelShape, null, 255);
                    losses[k] = loss.item();
                    if (!Float.isFinite(losses[k]))
                        throw new Diverged("loss became " + losses[k] + " at step " + (k + 1) + "; lower --lr");
                    tape.backward(loss);
                }
                opt.step(lr);
            }
            opt.zeroGrad();
        }
        return losses;
    }
}
