package conta.nn;

import conta.autograd.F;
import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;

/** 2-d convolution with torch names {@code weight} [out, in, kh, kw] and optional {@code bias}. */
public final class Conv2d extends Module {
    public final Tensor weight;
    public final Tensor bias;
    public final ConvSpec spec;

    public Conv2d(Backend b, int in, int out, int k, int stride, int pad, int dil, boolean bias) {
        super(b);
        this.spec = ConvSpec.of(k, stride, pad, dil);
        this.weight = param("weight", out, in, k, k);
        this.bias = bias ? param("bias", out) : null;
    }

    public Tensor forward(Tensor x) { return F.conv2d(x, weight, bias, spec); }

    public int outChannels() { return weight.dim(0); }

    public int inChannels() { return weight.dim(1); }
}
