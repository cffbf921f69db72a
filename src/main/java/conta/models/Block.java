package conta.models;

import conta.autograd.F;
import conta.nn.BatchNorm2d;
import conta.nn.Container;
import conta.nn.Conv2d;
import conta.nn.Module;
import conta.tensor.Backend;
import conta.tensor.Tensor;

/**
 * A residual block (basic or bottleneck) with torchvision names conv1/bn1/.../downsample.0/downsample.1.
 *
 * <p>The first block of a stage where CONTA's context M joins takes [x, M] (in + k channels): conv1 and, if the block
 * has one, the downsample conv get k extra input channels ({@link Conv2d#contextIn}). Whether a downsample exists is
 * decided on the plain in/out channels, as without context; a block with an identity shortcut keeps it on x alone (the
 * first in channels), so M enters only through conv1 and the block has the same parameters as the plain one, plus the
 * k input channels of conv1.
 */
public final class Block extends Module {
    private final Conv2d conv1, conv2, conv3, down;
    private final BatchNorm2d bn1, bn2, bn3, downBn;
    private final int in, contextIn;

    Block(Backend b, ResNetConfig c, int in, int planes, int stride, int dil) { this(b, c, in, planes, stride, dil, 0); }

    /** contextIn: channels of M appended to the block's input (0 = none). */
    Block(Backend b, ResNetConfig c, int in, int planes, int stride, int dil, int contextIn) {
        super(b);
        this.in = in;
        this.contextIn = contextIn;
        int cin = in + contextIn;
        int out = planes * c.expansion();
        float eps = c.bnEps();
        if (c.bottleneck()) {
            int s1 = c.strideOn1x1() ? stride : 1, s2 = c.strideOn1x1() ? 1 : stride;
            conv1 = child("conv1", new Conv2d(b, cin, planes, 1, s1, 0, 1, c.convBias(), contextIn));
            bn1 = child("bn1", new BatchNorm2d(b, planes, eps, 0.1f, c.frozenBn()));
            conv2 = child("conv2", new Conv2d(b, planes, planes, 3, s2, dil, dil, c.convBias()));
            bn2 = child("bn2", new BatchNorm2d(b, planes, eps, 0.1f, c.frozenBn()));
            conv3 = child("conv3", new Conv2d(b, planes, out, 1, 1, 0, 1, c.convBias()));
            bn3 = child("bn3", new BatchNorm2d(b, out, eps, 0.1f, c.frozenBn()));
        } else {
            conv1 = child("conv1", new Conv2d(b, cin, planes, 3, stride, dil, dil, c.convBias(), contextIn));
            bn1 = child("bn1", new BatchNorm2d(b, planes, eps, 0.1f, c.frozenBn()));
            conv2 = child("conv2", new Conv2d(b, planes, planes, 3, 1, dil, dil, c.convBias()));
            bn2 = child("bn2", new BatchNorm2d(b, planes, eps, 0.1f, c.frozenBn()));
            conv3 = null;
            bn3 = null;
        }
        if (stride != 1 || in != out) {
            Container seq = child("downsample", new Container(b));
            down = seq.add("0", new Conv2d(b, cin, out, 1, stride, 0, 1, c.convBias(), contextIn));
            downBn = seq.add("1", new BatchNorm2d(b, out, eps, 0.1f, c.frozenBn()));
        } else {
            down = null;
            downBn = null;
        }
    }

    /** The convs that read the context channels (conv1, downsample.0), empty without context. */
    java.util.List<Conv2d> contextConvs() {
        if (contextIn == 0) return java.util.List.of();
        return down == null ? java.util.List.of(conv1) : java.util.List.of(conv1, down);
    }

    public Tensor forward(Tensor x) {
        Tensor y = bn1.forwardRelu(conv1.forward(x));
        if (conv3 != null) {
            y = bn2.forwardRelu(conv2.forward(y));
            y = bn3.forward(conv3.forward(y));
        } else {
            y = bn2.forward(conv2.forward(y));
        }
        Tensor id = down != null ? downBn.forward(down.forward(x)) : contextIn > 0 ? F.sliceChannels(x, 0, in) : x;
        return F.addRelu(y, id);
    }
}
