package conta.nn;

import conta.autograd.F;
import conta.tensor.Backend;
import conta.tensor.Tensor;

/** nn.GroupNorm with torch names {@code weight} and {@code bias} (1 and 0 initially, as PyTorch). */
public final class GroupNorm extends Module {
    public final Tensor weight, bias;
    public final int groups;
    public final float eps;

    public GroupNorm(Backend b, int groups, int channels, float eps) {
        super(b);
        if (groups <= 0 || channels % groups != 0)
            throw new IllegalArgumentException(channels + " channels cannot be split into " + groups + " groups");
        this.groups = groups;
        this.eps = eps;
        weight = param("weight", channels);
        bias = param("bias", channels);
        backend.fill(weight, 1f);
    }

    public Tensor forward(Tensor x) { return F.groupNorm(x, groups, weight, bias, eps); }
}
