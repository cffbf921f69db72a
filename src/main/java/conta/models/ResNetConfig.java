package conta.models;

import java.util.Arrays;

/**
 * Everything that distinguishes the ResNets conta builds.
 *
 * @param bottleneck  bottleneck blocks (expansion 4) or basic blocks
 * @param blocks      blocks per stage (layer1..layer4)
 * @param width       stem width; stage widths are width x (1, 2, 4, 8)
 * @param strides     stride of each stage (stem stride 4 is fixed); IRNet's output stride 16 is (1, 2, 2, 1)
 * @param dilations   dilation of every 3x3 conv of each stage (DeepLab style: the whole stage)
 * @param strideOn1x1 MSRA/Caffe variant: the stage stride sits on the first 1x1 conv
 * @param convBias    every convolution has a bias (MSRA/Caffe variant)
 * @param bnEps       batch-norm epsilon (1e-5 torchvision, 1e-3 MSRA/Keras)
 * @param frozenBn    batch norm always uses running statistics
 * @param poolCeil    stem max-pool in ceil mode (DeepLab)
 * @param head        classifier head kind
 * @param classes     outputs of the head
 * @param headExtraIn extra channels concatenated to the last stage's features before the head (CONTA's context map)
 */
public record ResNetConfig(boolean bottleneck, int[] blocks, int width, int[] strides, int[] dilations,
                           boolean strideOn1x1, boolean convBias, float bnEps, boolean frozenBn, boolean poolCeil,
                           Head head, int classes, int headExtraIn) {

    public enum Head { FC, CAM, NONE }

    public int expansion() { return bottleneck ? 4 : 1; }

    public int stageOut(int stage) { return width * (1 << stage) * expansion(); }

    public int featureChannels() { return stageOut(3); }

    public int outputStride() {
        int s = 4;
        for (int v : strides) s *= v;
        return s;
    }

    public static ResNetConfig torchvision(boolean bottleneck, int... blocks) {
        return new ResNetConfig(bottleneck, blocks, 64, new int[]{1, 2, 2, 2}, new int[]{1, 1, 1, 1},
                false, false, 1e-5f, false, false, Head.FC, 1000, 0);
    }

    public ResNetConfig withWidth(int w) { return new ResNetConfig(bottleneck, blocks, w, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, headExtraIn); }

    public ResNetConfig withBlocks(int[] b) { return new ResNetConfig(bottleneck, b.clone(), width, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, headExtraIn); }

    public ResNetConfig withStrides(int[] s) { return new ResNetConfig(bottleneck, blocks, width, s.clone(), dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, headExtraIn); }

    public ResNetConfig withDilations(int[] d) { return new ResNetConfig(bottleneck, blocks, width, strides, d.clone(), strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, headExtraIn); }

    public ResNetConfig withMsra(boolean strideOn1x1, boolean convBias, float eps) { return new ResNetConfig(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, eps, frozenBn, poolCeil, head, classes, headExtraIn); }

    public ResNetConfig withFrozenBn(boolean f) { return new ResNetConfig(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, bnEps, f, poolCeil, head, classes, headExtraIn); }

    public ResNetConfig withPoolCeil(boolean c) { return new ResNetConfig(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, c, head, classes, headExtraIn); }

    public ResNetConfig withHead(Head h, int classes) { return new ResNetConfig(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, h, classes, headExtraIn); }

    public ResNetConfig withHeadExtraIn(int extra) { return new ResNetConfig(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, extra); }

    @Override
    public String toString() {
        return (bottleneck ? "bottleneck" : "basic") + Arrays.toString(blocks) + " width " + width + " strides " + Arrays.toString(strides)
                + " dilations " + Arrays.toString(dilations) + (strideOn1x1 ? " msra" : "") + (frozenBn ? " frozen-bn" : "")
                + " head " + head + "(" + classes + (headExtraIn > 0 ? ", +" + headExtraIn + " context" : "") + ")";
    }
}
