package conta.tensor;

/**
 * The weakly-supervised segmentation ops behind the device seam: everything the pipeline's CAM, seed, IR-label,
 * confounder, random-walk and evaluation stages compute on maps, so that on {@code --device cuda:0} they run where the
 * networks run. Obtained from {@link Backend#wsss()}: the CPU implementation ({@link HostWsss}) is the production Java
 * these stages used before the seam, the CUDA one ({@code conta.tensor.cuda.CudaWsss}) runs kernels/cam.cu, walk.cu,
 * resize.cu and confusion.cu, and the conformance tests hold the second to the first.
 *
 * <p>Tensors are float32, contiguous, on the ops' backend; label maps hold integer values as floats. Outputs are passed
 * in by the caller; "accumulate" ops add into them, the others overwrite.
 */
public interface WsssOps {
    /** cam[N,C,h,w] = relu(w . feat[N,K,h,w]): the classifier (w holds C x K values, e.g. a C x K x 1 x 1 conv weight) as a 1x1 convolution. */
    void cam(Tensor feat, Tensor w, Tensor cam);

    /**
     * Flip-merge and class selection: cam [2,C,h,w] holds an image's map and its mirror's; out[0,i] = cam[0,channels[i]]
     * + mirror_x(cam[1,channels[i]]) for the image's k classes (out is [1,k,h,w]).
     */
    void flipMergeSelect(Tensor cam, int[] channels, Tensor out);

    /**
     * acc[N,C,H,W] += bilinear(x[N,C,h,w] -> gridH x gridW, align_corners false) restricted to its top-left H x W (H <=
     * gridH, W <= gridW): one scale of the multi-scale CAM sum (the grid is the stride-4 grid, or the image rounded up to
     * the output stride and cropped back to the image).
     */
    void resizeCropAccumulate(Tensor x, int gridH, int gridW, Tensor acc);

    /**
     * Divides each run of `plane` consecutive values by (max(0, its maximum) + eps), as a multiplication by the rounded
     * reciprocal; a run whose divisor is 0 becomes 0. CAM normalisation (per class, eps 1e-5) and the walk's global
     * normalisation (the whole tensor, eps 0) are both this op.
     */
    void normaliseMax(Tensor x, long plane, float eps);

    /**
     * Index labels [N,h,w] from scores [N,k,h,w]: with m the first maximum over the k channels at channel i, label i + 1
     * if m > fgThreshold, 0 if m <= bgThreshold (or k = 0), else `ignore`. fgThreshold == bgThreshold is the argmax
     * against a constant background plane (seeds, IR labels, the walk's labels).
     */
    void seeds(Tensor scores, float fgThreshold, float bgThreshold, int ignore, Tensor labels);

    /**
     * CONTA's per-image class masks: maps[c] (maps is [n,h,w] or [1,n,h,w]) is the one-hot map of label value
     * firstLabel + c of labels [H,W], resized to h x w by area averaging (the fraction of each cell the class covers) or,
     * with area false, by nearest neighbour (PyTorch's interpolate modes).
     */
    void classMasks(Tensor labels, int firstLabel, boolean area, Tensor maps);

    /** sums[c] += maps[c] for each class c with present[c] (maps and sums: n planes of equal size): the confounder set's running sums. */
    void accumulatePresent(Tensor maps, boolean[] present, Tensor sums);

    /**
     * IRNet's sparse random walk: out [k,h,w] = (cams * (1 - boundary)) T^steps with T = A D^-1, A the affinity graph of
     * boundary [h,w] over the paths (weight (1 - max boundary on the path)^beta, below 1e-20 dropped, self-loop 1) and D
     * its column sums. Values below 1e-18 of the largest start value are flushed to 0 after each step.
     */
    void randomWalk(Tensor cams, Tensor boundary, WalkPaths paths, double beta, int steps, Tensor out);

    /**
     * k x k confusion counts (row = ground truth) of two label maps of equal size: ground truth 255 is skipped, a
     * predicted 255 counts as background, any other value outside [0, k) is an IllegalArgumentException naming it.
     */
    long[] confusion(Tensor gt, Tensor pred, int k);
}
