package conta.models;

import conta.nn.Module;
import conta.tensor.Tensor;
import java.util.List;

/** A model the CLI, trainer and tests can drive without knowing its kind. */
public interface Network extends AutoCloseable {
    /** The inference output (logits N x classes, or a score map N x classes x h x w). */
    Tensor forward(Tensor x);

    /** Outputs that a training loss is computed on (one for classifiers; several for multi-scale DeepLab). */
    List<Tensor> trainOutputs(Tensor x);

    default Module module() { return (Module) this; }

    @Override
    void close();
}
