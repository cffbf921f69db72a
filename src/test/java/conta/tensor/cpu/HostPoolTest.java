package conta.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Freed tensor memory comes back for the next tensor of the same byte size; small blocks and other sizes do not. */
class HostPoolTest {
    private static long address(Tensor t) { return CpuBackend.seg(t).address(); }

    @Test
    void sameSizeReusesTheFreedBlock() {
        try (CpuBackend be = new CpuBackend()) {
            HostPool.trim();
            Tensor a = be.empty(3, 1000, 7);
            long at = address(a);
            a.close();
            assertEquals(3 * 1000 * 7 * 4L + 64, HostPool.cachedBytes(), "the bytes and room for a 64-byte boundary");
            Tensor other = be.empty(5, 1000, 7); // another size: fresh memory, the cached block stays
            assertNotEquals(at, address(other));
            Tensor b = be.empty(21000); // same bytes, other shape
            assertEquals(at, address(b));
            assertEquals(0, HostPool.cachedBytes());
            be.fill(b, 2.5f);
            assertEquals(2.5f * 21000, be.sum(b), 1e-3);
            b.close();
            other.close();
            Tensor small = be.empty(100); // under HostPool.MIN_BYTES: straight back to free()
            small.close();
            assertEquals((3 + 5) * 1000 * 7 * 4L + 2 * 64, HostPool.cachedBytes());
            HostPool.trim();
            assertEquals(0, HostPool.cachedBytes());
        }
    }

    @Test
    void cacheStaysUnderItsCap() {
        try (CpuBackend be = new CpuBackend()) {
            HostPool.trim();
            long block = 64L << 20; // 64 MB blocks of growing size: none reusable, all cached until the cap
            for (int i = 0; i < 40; i++) be.empty((int) (block / 4) + i * 16).close();
            assertTrue(HostPool.cachedBytes() <= HostPool.CAP, HostPool.cachedBytes() + " > " + HostPool.CAP);
            HostPool.trim();
        }
    }
}
