package conta.models;

import conta.autograd.F;
import conta.nn.BatchNorm2d;
import conta.nn.Container;
import conta.nn.Conv2d;
import conta.nn.Module;
import conta.tensor.Backend;
import conta.tensor.Tensor;

/** A residual block (basic or bottleneck) with torchvision names conv1/bn1/.../downsample.0/downsample.1. */
public final class Block extends Module {
    private final Conv2d conv1, conv2, conv3, down;
    private final BatchNorm2d bn1, bn2, bn3, downBn;

    Block(Backend b, ResNetConfig c, int in, int planes, int stride, int dil) {
        super(b);
        int out = planes * c.expansion();
        float eps = c.bnEps();
        if (c.bottleneck()) {
            int s1 = c.strideOn1x1() ? stride : 1, s2 = c.strideOn1x1() ? 1 : stride;
            conv1 = child("conv1", new Conv2d(b, in, planes, 1, s1, 0, 1, c.convBias()));
            bn1 = child("bn1", new BatchNorm2d(b, planes, eps, 0.1f, c.frozenBn()));
            conv2 = child("conv2", new Conv2d(b, planes, planes, 3, s2, dil, dil, c.convBias()));
            bn2 = child("bn2", new BatchNorm2d(b, planes, eps, 0.1f, c.frozenBn()));
            conv3 = child("conv3", new Conv2d(b, planes, out, 1, 1, 0, 1, c.convBias()));
            bn3 = child("bn3", new BatchNorm2d(b, out, eps, 0.1f, c.frozenBn()));
        } else {
            conv1 = child("conv1", new Conv2d(b, in, planes, 3, stride, dil, dil, c.convBias()));
            bn1 = child("bn1", new BatchNorm2d(b, planes, eps, 0.1f, c.frozenBn()));
            conv2 = child("conv2", new Conv2d(b, planes, planes, 3, 1, dil, dil, c.convBias()));
            bn2 = child("bn2", new BatchNorm2d(b, planes, eps, 0.1f, c.frozenBn()));
            conv3 = null;
            bn3 = null;
        }
        if (stride != 1 || in != out) {
            Container seq = child("downsample", new Container(b));
            down = seq.add("0", new Conv2d(b, in, out, 1, stride, 0, 1, c.convBias()));
            downBn = seq.add("1", new BatchNorm2d(b, out, eps, 0.1f, c.frozenBn()));
        } else {
            down = null;
            downBn = null;
        }
    }

    public Tensor forward(Tensor x) {
        Tensor y = F.relu(bn1.forward(conv1.forward(x)));
        if (conv3 != null) {
            y = F.relu(bn2.forward(conv2.forward(y)));
            y = bn3.forward(conv3.forward(y));
        } else {
            y = bn2.forward(conv2.forward(y));
        }
        Tensor id = down == null ? x : downBn.forward(down.forward(x));
        return F.relu(F.add(y, id));
    }
}
