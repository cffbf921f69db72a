package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.tensor.cpu.CpuBackend;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * conta bench --profile: calls counted per op, a slow op's time at least what it slept, the backend drained around
 * every op in device mode (and never in host mode), tensors made through it routed back through it, results unchanged.
 */
class OpTimingBackendTest {
    /** A CPU backend whose fill sleeps 5 ms and which counts synchronize calls. */
    private static Backend slowFill(CpuBackend cpu, AtomicInteger syncs) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (p, m, args) -> {
            if (m.getName().equals("synchronize")) syncs.incrementAndGet();
            if (m.getName().equals("fill")) Thread.sleep(5);
            try {
                return m.invoke(cpu, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    @Test
    void countsTimesAndRoutes() {
        for (boolean sync : new boolean[]{false, true}) {
            AtomicInteger syncs = new AtomicInteger();
            try (CpuBackend cpu = new CpuBackend()) {
                OpTimingBackend prof = new OpTimingBackend(slowFill(cpu, syncs), sync);
                Backend b = prof.backend;
                Tensor a = b.empty(2, 3), c = b.empty(2, 3);
                assertSame(b, a.backend(), "tensors it makes name it, so ops on them pass through it");
                b.fill(a, 1.5f);
                b.fill(c, 0f);
                b.fill(c, 2f);
                b.copy(a, 0, c, 3, 3);
                assertArrayEquals(new float[]{2, 2, 2, 1.5f, 1.5f, 1.5f}, c.toArray(), "results unchanged");
                List<OpTimingBackend.OpTime> ops = prof.ops();
                OpTimingBackend.OpTime fill = ops.stream().filter(t -> t.op().equals("fill")).findFirst().orElseThrow();
                assertEquals(3, fill.calls());
                assertTrue(fill.nanos() >= 15_000_000L, "three fills of >= 5 ms each: " + fill.nanos() + " ns");
                assertEquals("fill", ops.getFirst().op(), "the slowest first");
                assertEquals(1, ops.stream().filter(t -> t.op().equals("copy")).findFirst().orElseThrow().calls());
                assertEquals(2, ops.stream().filter(t -> t.op().equals("empty")).findFirst().orElseThrow().calls());
                // toArray downloads through the backend too: empty x2, fill x3, copy, download = 7 timed calls
                long timedCalls = ops.stream().mapToLong(OpTimingBackend.OpTime::calls).sum();
                assertEquals(7, timedCalls);
                assertEquals(sync ? 2 * timedCalls : 0, syncs.get(), "drained before and after each op only in device mode");
                String table = prof.table(1, 0.1);
                assertTrue(table.contains("| fill | 3.0 |"), table);
                assertTrue(table.lines().anyMatch(l -> l.startsWith("| all ops |")), table);
                prof.reset();
                assertTrue(prof.ops().isEmpty());
                a.close();
                c.close();
            }
        }
    }
}
