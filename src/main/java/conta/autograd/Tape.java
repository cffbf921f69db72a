package conta.autograd;

import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records the ops of one forward pass (when {@code grad} is on) and owns their intermediate tensors.
 * Closing the tape frees every tensor it owns, with their gradients; {@link #keep} hands a result to the caller.
 * Tapes nest per thread: {@link #open} makes a tape current until it is closed.
 *
 * <p>Gradient rule: parameter (leaf) gradients persist across tapes and accumulate until the optimizer clears them;
 * intermediate gradients die with the tape.
 */
public final class Tape implements AutoCloseable {
    private static final ThreadLocal<Tape> CURRENT = new ThreadLocal<>();

    private final boolean grad;
    private final Tape previous;
    private final Map<Tensor, Boolean> owned = new IdentityHashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private boolean closed;

    private Tape(boolean grad, Tape previous) {
        this.grad = grad;
        this.previous = previous;
    }

    /** Opens a tape that records backward closures (grad = true) or only owns memory (grad = false, inference). */
    public static Tape open(boolean grad) {
        Tape t = new Tape(grad, CURRENT.get());
        CURRENT.set(t);
        return t;
    }

    public static Tape current() { return CURRENT.get(); }

    /** Whether ops should record backward now. */
    public static boolean recording() {
        Tape t = CURRENT.get();
        return t != null && t.grad;
    }

    /** True if the tensor takes part in differentiation under the current tape. */
    public static boolean needs(Tensor t) {
        return t != null && recording() && (t.requiresGrad || t.gradFn != null);
    }

    /** Registers a new op output with the current tape (if any) so that it is freed when the tape closes. */
    public static Tensor track(Tensor t) {
        Tape tape = CURRENT.get();
        if (tape != null) tape.owned.put(t, Boolean.TRUE);
        return t;
    }

    /** Records a node whose output needs a gradient. */
    public static void record(String op, Tensor out, Node.Backward backward) {
        Tape tape = CURRENT.get();
        if (tape == null || !tape.grad) return;
        Node n = new Node(op, out, backward);
        out.gradFn = n;
        out.requiresGrad = true;
        tape.nodes.add(n);
    }

    /** Removes a tensor from this tape's care: the caller now owns it and must close it. */
    public Tensor keep(Tensor t) {
        owned.remove(t);
        return t;
    }

    /** Adds g into t.grad, taking ownership of g. */
    public static void accumulate(Tensor t, Tensor g) {
        if (t.grad == null) {
            t.grad = g;
        } else if (t.grad.sharesMemory()) { // another tensor's gradient too (passToBoth): the sum goes into g instead
            t.backend().addScaled(t.grad, 1f, g, 1f, g);
            t.grad.close();
            t.grad = g;
        } else {
            t.backend().addScaled(t.grad, 1f, g, 1f, t.grad);
            g.close();
        }
    }

    /**
     * t.grad += alpha * g without a temporary when t already has a gradient (a residual add's second branch); g stays
     * the caller's. Same rounding as scaling into a temporary and accumulating it.
     */
    public static void accumulateScaled(Tensor t, Tensor g, float alpha) {
        if (t.grad == null) {
            Tensor d = t.backend().empty(t.shape());
            t.backend().scale(g, alpha, d);
            t.grad = d;
        } else if (t.grad.sharesMemory()) { // another tensor's gradient too (passToBoth): the sum into a buffer of t's own
            Tensor d = t.backend().empty(t.shape());
            t.backend().addScaled(t.grad, 1f, g, alpha, d);
            t.grad.close();
            t.grad = d;
        } else {
            t.backend().addScaled(t.grad, 1f, g, alpha, t.grad);
        }
    }

    /**
     * Hands the gradient of op output {@code out} to both a and c, neither of which has one yet (a residual add's two
     * inputs): one buffer that both hold, instead of a copy for one of them. The first to be added to in place gets a
     * buffer of its own then (accumulate, accumulateScaled, gradBuffer, ownGrad check {@link Tensor#sharesMemory}); the
     * memory is freed when both gradients are. A ResNet-50 training step copied 16 such gradients (~9 ms of ~370 on
     * 2 cores, bench/RESULTS.md). Falls back to a copy where either has a gradient already or a is c.
     */
    public static void passToBoth(Tensor out, Tensor a, Tensor c) {
        if (a == c || a.grad != null || c.grad != null || out.grad == null || !out.grad.ownsMemory()) {
            accumulateScaled(a, out.grad, 1f);
            pass(out, c, 1f);
            return;
        }
        Tensor[] both = out.grad.shareOwnership(2);
        out.grad = null; // handed over: its node's clean-up must not free it
        a.grad = both[0];
        c.grad = both[1];
    }

    /** t.grad, made t's own first if another tensor holds its memory too (call it before writing to t.grad in place). */
    public static Tensor ownGrad(Tensor t) {
        if (t.grad != null && t.grad.sharesMemory()) {
            Tensor d = t.backend().empty(t.shape());
            t.backend().scale(t.grad, 1f, d); // a copy
            t.grad.close();
            t.grad = d;
        }
        return t.grad;
    }

    /**
     * Hands the gradient of op output {@code out} on to input {@code t} (times alpha): the buffer itself when t has
     * none yet and alpha is 1, saving a copy; call it last among the op's inputs, since out's gradient is gone after.
     */
    public static void pass(Tensor out, Tensor t, float alpha) {
        if (alpha == 1f && t.grad == null && out.grad != null && out.gradFn != null) {
            t.grad = out.grad;
            out.grad = null;
        } else {
            accumulateScaled(t, out.grad, alpha);
        }
    }

    /** t.grad, allocated as zeros if absent: for backward ops that accumulate in place. */
    public static Tensor gradBuffer(Tensor t) {
        if (t.grad == null) t.grad = Tensor.zeros(t.backend(), t.shape());
        return ownGrad(t);
    }

    /** Back-propagates from a scalar: d(loss)/d(loss) = 1. */
    public void backward(Tensor loss) {
        backward(loss, 1f);
    }

    public void backward(Tensor loss, float seed) {
        if (!grad) throw new IllegalStateException("backward on a tape opened without grad");
        if (loss.numel() != 1) throw new IllegalArgumentException("backward needs a scalar, got " + loss);
        Tensor g = loss.backend().empty(loss.shape()); // filled, not uploaded: the step's only host copies are the batch and the loss
        loss.backend().fill(g, seed);
        accumulate(loss, g);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            Tensor out = n.output();
            if (out.grad == null || out.isClosed()) continue;
            n.backward().run(out.grad);
            // An op output's gradient is spent once its node ran (PyTorch keeps no non-leaf grads either): freeing it
            // here lowers the peak memory (ResNet-50 batch-8 step 3.3 -> 2.0 GB with HostPool) and lets the next gradients
            // reuse the block.
            if (out.grad != null) {
                out.grad.close();
                out.grad = null;
            }
        }
        nodes.clear(); // one backward per recording, as PyTorch without retain_graph
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Tensor t : owned.keySet()) t.close();
        owned.clear();
        nodes.clear();
        if (CURRENT.get() == this) CURRENT.set(previous);
        else throw new IllegalStateException("tapes closed out of order");
    }
}
