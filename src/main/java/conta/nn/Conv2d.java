package conta.nn;

import conta.autograd.F;
import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;

/**
 * 2-d convolution with torch names {@code weight} [out, in, kh, kw] and optional {@code bias}.
 *
 * <p>A conv may have {@link #contextIn} trailing input channels that carry CONTA's context map: its weight is
 * [out, in0 + k, kh, kw] and a non-strict {@link Module#loadState} also accepts the plain [out, in0, kh, kw] weight of a
 * network without context (pretrained weights), copying it to the first in0 input channels and zeroing the last k.
 */
public final class Conv2d extends Module {
    public final Tensor weight;
    public final Tensor bias;
    public final ConvSpec spec;
    /** Trailing input channels that carry a context map (0 = none). */
    public final int contextIn;

    public Conv2d(Backend b, int in, int out, int k, int stride, int pad, int dil, boolean bias) {
        this(b, in, out, k, stride, pad, dil, bias, 0);
    }

    /** in counts the context channels too: the weight is [out, in, k, k], its last contextIn input channels are M's. */
    public Conv2d(Backend b, int in, int out, int k, int stride, int pad, int dil, boolean bias, int contextIn) {
        super(b);
        if (contextIn < 0 || contextIn >= in) throw new IllegalArgumentException("context channels " + contextIn + " of a conv with " + in + " inputs");
        this.contextIn = contextIn;
        this.spec = ConvSpec.of(k, stride, pad, dil);
        this.weight = param("weight", out, in, k, k);
        this.bias = bias ? param("bias", out) : null;
    }

    public Tensor forward(Tensor x) { return F.conv2d(x, weight, bias, spec); }

    public int outChannels() { return weight.dim(0); }

    public int inChannels() { return weight.dim(1); }
}
