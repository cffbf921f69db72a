package conta.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.TestBackends;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A residual add hands its gradient to both inputs as one buffer they hold together (Tape.passToBoth), where it copied
 * it for one of them; the first to be added to in place gets a buffer of its own (copy on write), and the memory is
 * freed when the last holder is.
 */
class SharedGradTest {
    /** Tensor.shareOwnership: both holders see the values; the memory goes when the second is closed, not the first. */
    @Test
    void sharedMemoryIsFreedByItsLastHolder() {
        try (Backend be = TestBackends.open()) {
            Tensor t = Tensor.of(be, new float[]{1, -2, 3, 4}, 2, 2);
            Tensor[] h = t.shareOwnership(2);
            Tensor.SharedStorage s0 = (Tensor.SharedStorage) h[0].storage();
            assertTrue(h[0].sharesMemory() && h[1].sharesMemory());
            h[0].close();
            assertTrue(h[0].isClosed());
            assertFalse(s0.owner.isFreed(), "the other holder still has it");
            assertFalse(h[1].sharesMemory(), "the last holder may write in place");
            assertEquals(java.util.List.of(1f, -2f, 3f, 4f), java.util.Arrays.asList(box(h[1].toArray())));
            h[1].close();
            assertTrue(s0.owner.isFreed(), "freed with its last holder");
            assertThrows(IllegalStateException.class, () -> Tensor.of(be, new float[4], 4).view(2, 2).shareOwnership(2));
            // the last holder left shares on (a block's output gradient that the next block's add shared, now the
            // input of this block's add): the memory moves to the new holders, freed with the last of them
            Tensor u = Tensor.of(be, new float[]{5, 6}, 2);
            Tensor[] first = u.shareOwnership(2);
            Tensor.SharedStorage su = (Tensor.SharedStorage) first[0].storage();
            assertThrows(IllegalStateException.class, () -> first[1].shareOwnership(2), "not while another holds it");
            first[0].close();
            assertTrue(first[1].ownsMemory());
            Tensor[] next = first[1].shareOwnership(2);
            assertFalse(su.owner.isFreed());
            first[1].close(); // handed over: closing it frees nothing
            assertFalse(su.owner.isFreed());
            next[0].close();
            assertEquals(java.util.List.of(5f, 6f), java.util.Arrays.asList(box(next[1].toArray())));
            next[1].close();
            assertTrue(su.owner.isFreed());
        }
    }

    private static Float[] box(float[] a) {
        Float[] b = new Float[a.length];
        for (int i = 0; i < a.length; i++) b[i] = a[i];
        return b;
    }

    /**
     * y = relu(x * w + x), loss = sum(r * y): the add's gradient goes to both x * w and x as one buffer, and the mul's
     * backward then adds its part into x's gradient while it still reads the shared one (the write must go to a buffer
     * of x's own). By hand, with m = [y > 0]: dL/dx = r m (w + 1), dL/dw = r m x.
     */
    @Test
    void aResidualAddsSharedGradientIsCopiedOnWrite() {
        int n = 64;
        Random rnd = new Random(5);
        float[] xv = new float[n], wv = new float[n], rv = new float[n];
        for (int i = 0; i < n; i++) {
            xv[i] = (float) (rnd.nextDouble() * 4 - 2);
            wv[i] = (float) (rnd.nextDouble() * 3 - 1.5);
            rv[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        try (Backend be = TestBackends.open(); Tape tape = Tape.open(true);
             Tensor x = Tensor.of(be, xv, 1, 1, 8, 8); Tensor w = Tensor.of(be, wv, 1, 1, 8, 8)) {
            x.requiresGrad = true;
            w.requiresGrad = true;
            Tensor y = F.addRelu(F.mul(x, w), x);
            Tensor loss = F.linear(F.reshape(y, 1, n), Tensor.of(be, rv, 1, n), null);
            tape.backward(loss);
            assertNull(y.grad);
            float[] dx = x.grad.toArray(), dw = w.grad.toArray();
            for (int i = 0; i < n; i++) {
                double pre = (double) xv[i] * wv[i] + xv[i], m = pre > 0 ? 1 : 0;
                assertEquals(rv[i] * m * (wv[i] + 1.0), dx[i], 1e-6, "dx " + i);
                assertEquals(rv[i] * m * xv[i], dw[i], 1e-6, "dw " + i);
            }
            assertFalse(x.grad.sharesMemory(), "x's gradient is its own after the write");
        }
    }

    /** Both inputs leaves with no further use: each keeps a holder of the one buffer, with the same values. */
    @Test
    void twoLeavesHoldOneGradient() {
        try (Backend be = TestBackends.open(); Tape tape = Tape.open(true);
             Tensor a = Tensor.of(be, new float[]{1, -3, 2, 0.5f}, 1, 1, 2, 2);
             Tensor c = Tensor.of(be, new float[]{1, 1, -4, 0.25f}, 1, 1, 2, 2)) {
            a.requiresGrad = true;
            c.requiresGrad = true;
            Tensor y = F.addRelu(a, c);
            tape.backward(F.linear(F.reshape(y, 1, 4), Tensor.of(be, new float[]{2, 3, 5, 7}, 1, 4), null));
            // y = relu(2, -2, -2, 0.75): gradient r * [y > 0] = 2, 0, 0, 7 to both
            for (Tensor t : new Tensor[]{a, c}) assertEquals(java.util.List.of(2f, 0f, 0f, 7f), java.util.Arrays.asList(box(t.grad.toArray())));
            assertTrue(a.grad.sharesMemory() && c.grad.sharesMemory());
        }
    }
}
