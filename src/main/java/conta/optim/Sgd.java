package conta.optim;

import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * torch.optim.SGD (dampening 0, no Nesterov) over parameter groups with learning-rate multipliers and per-group
 * weight decay. Gradients accumulate in the parameters across backward calls until {@link #zeroGrad()}: several
 * micro-batches per step is gradient accumulation.
 */
public final class Sgd implements AutoCloseable {
    /** Parameters sharing a learning-rate multiplier (10x and 20x for new heads) and weight decay. */
    public record Group(String name, List<Tensor> params, float lrMult, float weightDecay) { }

    private final List<Group> groups;
    private final float momentum;
    private final Map<Tensor, Tensor> buffers = new IdentityHashMap<>();
    private long steps;

    public Sgd(List<Group> groups, float momentum) {
        this.groups = List.copyOf(groups);
        this.momentum = momentum;
    }

    public static Sgd single(List<Tensor> params, float momentum, float weightDecay) {
        return new Sgd(List.of(new Group("all", params, 1f, weightDecay)), momentum);
    }

    /** One update at base learning rate lr; parameters without a gradient are skipped, as in PyTorch. */
    public void step(float lr) {
        for (Group g : groups) {
            for (Tensor p : g.params()) {
                if (p.grad == null) continue;
                Tensor buf = null;
                boolean first = false;
                if (momentum != 0f) {
                    buf = buffers.get(p);
                    if (buf == null) {
                        buf = p.backend().empty(p.shape());
                        buffers.put(p, buf);
                        first = true;
                    }
                }
                p.backend().sgdStep(p, p.grad, buf, lr * g.lrMult(), momentum, g.weightDecay(), first);
                p.markModified();
            }
        }
        steps++;
    }

    /** Frees the gradients (PyTorch's zero_grad(set_to_none=True)). */
    public void zeroGrad() {
        for (Group g : groups)
            for (Tensor p : g.params())
                if (p.grad != null) {
                    p.grad.close();
                    p.grad = null;
                }
    }

    public long steps() { return steps; }

    public void setSteps(long s) { steps = s; }

    public List<Group> groups() { return groups; }

    /** Momentum buffers by parameter name, for checkpoints. */
    public Map<String, Tensor> momentumState() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Group g : groups)
            for (Tensor p : g.params()) {
                Tensor b = buffers.get(p);
                if (b != null) m.put(p.name + "#momentum", b);
            }
        return m;
    }

    /** Restores a momentum buffer (from a checkpoint) for the parameter. */
    public void setMomentum(Tensor p, float[] values) {
        Tensor b = buffers.computeIfAbsent(p, k -> k.backend().empty(k.shape()));
        b.backend().upload(b, values);
    }

    public List<Tensor> allParams() {
        List<Tensor> l = new ArrayList<>();
        groups.forEach(g -> l.addAll(g.params()));
        return l;
    }

    @Override
    public void close() {
        buffers.values().forEach(Tensor::close);
        buffers.clear();
    }
}
