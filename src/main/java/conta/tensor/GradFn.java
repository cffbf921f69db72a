package conta.tensor;

/**
 * What produced a tensor under differentiation, seen from the tensor package: an opaque handle that the autograd layer
 * implements (conta.autograd.Node), so Tensor carries it without depending on autograd.
 */
public interface GradFn {
}
