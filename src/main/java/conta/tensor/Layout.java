package conta.tensor;

/**
 * Memory order of a 4-d tensor as ops see it. Every op today takes NCHW; NHWC is reserved for the channels-last CUDA
 * mode. (The CPU backend may hold values in oneDNN's blocked layout between its own ops; that never shows here.)
 */
public enum Layout { NCHW, NHWC }
