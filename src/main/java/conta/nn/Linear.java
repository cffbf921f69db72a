package conta.nn;

import conta.autograd.F;
import conta.tensor.Backend;
import conta.tensor.Tensor;

/** Fully connected layer, torch names {@code weight} [out, in] and {@code bias}. */
public final class Linear extends Module {
    public final Tensor weight, bias;

    public Linear(Backend b, int in, int out, boolean bias) {
        super(b);
        weight = param("weight", out, in);
        this.bias = bias ? param("bias", out) : null;
    }

    /** x: N x in (or N x in x 1 x 1). */
    public Tensor forward(Tensor x) {
        Tensor flat = x.rank() == 2 ? x : F.reshape(x, x.dim(0), (int) (x.numel() / x.dim(0)));
        return F.linear(flat, weight, bias);
    }
}
