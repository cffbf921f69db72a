package conta.tensor;

/** Memory order of a 4-d tensor. Every op today takes NCHW; NHWC is reserved for the channels-last CUDA mode. */
public enum Layout { NCHW, NHWC }
