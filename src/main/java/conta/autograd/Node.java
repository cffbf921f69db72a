package conta.autograd;

import conta.tensor.GradFn;
import conta.tensor.Tensor;

/** One recorded op: its output and the closure that turns the output's gradient into input gradients. */
public record Node(String op, Tensor output, Backward backward) implements GradFn {
    @FunctionalInterface
    public interface Backward {
        /** Called with d(loss)/d(output); must add into the inputs' gradients via {@link Tape#accumulate}/{@link Tape#gradBuffer}. */
        void run(Tensor gradOut);
    }
}
