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
 * @param contextChannels channels k of CONTA's context map M (0 = no context)
 * @param contextBlocks   where M joins, in CONTA's block numbering (1 = stem, 2..5 = layer1..layer4): M, resized to
 *                        the grid of block b's output, is concatenated to it; for b in 2..4 that feeds layer b, whose
 *                        first block's conv1 and downsample conv take k extra input channels; for b = 5 it feeds the
 *                        head. Sorted, distinct, each in 2..5; {5} by default.
 */
public record ResNetConfig(boolean bottleneck, int[] blocks, int width, int[] strides, int[] dilations,
                           boolean strideOn1x1, boolean convBias, float bnEps, boolean frozenBn, boolean poolCeil,
                           Head head, int classes, int contextChannels, int[] contextBlocks) {

    public enum Head { FC, CAM, NONE }

    /** The default context placement: block 5 only (CONTA's choice). */
    public static final int[] BLOCK5 = {5};

    public ResNetConfig {
        if (contextChannels < 0) throw new IllegalArgumentException("context channels must be >= 0, got " + contextChannels);
        contextBlocks = checkContextBlocks(contextBlocks == null ? BLOCK5 : contextBlocks);
    }

    /** The configuration before context blocks existed: context (if any) at block 5. */
    public ResNetConfig(boolean bottleneck, int[] blocks, int width, int[] strides, int[] dilations, boolean strideOn1x1, boolean convBias,
                        float bnEps, boolean frozenBn, boolean poolCeil, Head head, int classes, int headExtraIn) {
        this(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, headExtraIn, BLOCK5);
    }

    /** Sorted distinct copy of blocks, each in 2..5 (an error otherwise). */
    public static int[] checkContextBlocks(int[] b) {
        if (b.length == 0) throw new IllegalArgumentException("context blocks: at least one of 2, 3, 4, 5 is needed");
        int[] s = Arrays.stream(b).sorted().toArray();
        for (int i = 0; i < s.length; i++) {
            if (s[i] < 2 || s[i] > 5)
                throw new IllegalArgumentException("context block " + s[i] + " does not exist: CONTA's blocks 2..5 are layer1..layer4 (block 1, the stem, takes no context)");
            if (i > 0 && s[i] == s[i - 1]) throw new IllegalArgumentException("context block " + s[i] + " is listed twice");
        }
        return s;
    }

    /** True if M joins at CONTA block b (2..5) in a network that has a context. */
    public boolean contextAt(int block) {
        if (contextChannels == 0) return false;
        for (int b : contextBlocks) if (b == block) return true;
        return false;
    }

    /** Extra input channels of the head: k when M joins at block 5, else 0. */
    public int headExtraIn() { return contextAt(5) ? contextChannels : 0; }

    /**
     * Extra input channels of stage s's (0-based: layer s+1) first block: k when M joins at block s + 1 (= layer s,
     * whose output feeds layer s+1), else 0; always 0 for layer1 (block 1, the stem, takes no context).
     */
    public int stageExtraIn(int stage) { return stage >= 1 && contextAt(stage + 1) ? contextChannels : 0; }

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

    public ResNetConfig withWidth(int w) { return new ResNetConfig(bottleneck, blocks, w, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, contextChannels, contextBlocks); }

    public ResNetConfig withBlocks(int[] b) { return new ResNetConfig(bottleneck, b.clone(), width, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, contextChannels, contextBlocks); }

    public ResNetConfig withStrides(int[] s) { return new ResNetConfig(bottleneck, blocks, width, s.clone(), dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, contextChannels, contextBlocks); }

    public ResNetConfig withDilations(int[] d) { return new ResNetConfig(bottleneck, blocks, width, strides, d.clone(), strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, contextChannels, contextBlocks); }

    public ResNetConfig withMsra(boolean strideOn1x1, boolean convBias, float eps) { return new ResNetConfig(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, eps, frozenBn, poolCeil, head, classes, contextChannels, contextBlocks); }

    public ResNetConfig withFrozenBn(boolean f) { return new ResNetConfig(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, bnEps, f, poolCeil, head, classes, contextChannels, contextBlocks); }

    public ResNetConfig withPoolCeil(boolean c) { return new ResNetConfig(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, c, head, classes, contextChannels, contextBlocks); }

    public ResNetConfig withHead(Head h, int classes) { return new ResNetConfig(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, h, classes, contextChannels, contextBlocks); }

    /** k context channels at block 5 (the head), as before context blocks existed. */
    public ResNetConfig withHeadExtraIn(int extra) { return withContext(extra, BLOCK5); }

    /** k context channels joining at the given CONTA blocks (2..5). */
    public ResNetConfig withContext(int k, int... at) { return new ResNetConfig(bottleneck, blocks, width, strides, dilations, strideOn1x1, convBias, bnEps, frozenBn, poolCeil, head, classes, k, at); }

    @Override
    public String toString() {
        return (bottleneck ? "bottleneck" : "basic") + Arrays.toString(blocks) + " width " + width + " strides " + Arrays.toString(strides)
                + " dilations " + Arrays.toString(dilations) + (strideOn1x1 ? " msra" : "") + (frozenBn ? " frozen-bn" : "")
                + " head " + head + "(" + classes + (headExtraIn() > 0 ? ", +" + headExtraIn() + " context" : "") + ")"
                + (contextChannels > 0 && !Arrays.equals(contextBlocks, BLOCK5) ? " context " + contextChannels + " at blocks " + Arrays.toString(contextBlocks) : "");
    }
}
