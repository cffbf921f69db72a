package conta.tensor.cpu;

import org.junit.jupiter.api.BeforeAll;

/**
 * BlockedLayoutTest's tests with bf16 activations held in NHWC, as bf16 training holds them on AMX hosts
 * ({@link Blocked#NHWC_HALF}): the same kernels' NHWC paths (NhwcKernels, the strided pooling walks) against the same
 * plain references, and convolutions that read and write NHWC as they are, on any host.
 */
class BlockedLayoutNhwcTest extends BlockedLayoutTest {
    @BeforeAll
    static void holdNhwc() {
        b.close();
        b = new CpuBackend(CpuBackend.ConvImpl.DNNL, true);
    }
}
