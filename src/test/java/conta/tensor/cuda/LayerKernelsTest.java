package conta.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * kernels/layers.cu as nvcc built it: the entries CudaBackend launches for batchNormFold, batchNormFoldGammaGrad and
 * copyWindow, with the parameter kinds the launcher packs (p pointer or 64-bit, i int, f float). Skipped without nvcc;
 * the values are checked on a GPU by the conformance suite (LayerOpsTest with -Dconta.test.backend=cuda:0).
 */
class LayerKernelsTest {
    @Test
    void entriesAndParameterKinds() throws Exception {
        byte[] ptx = KernelFilesTest.resource("layers.compute_90.ptx");
        assumeTrue(ptx != null, "CUDA kernels were not built (no nvcc at build time)");
        Map<String, Ptx.Entry> es = Ptx.entries(new String(ptx, StandardCharsets.US_ASCII));
        Map<String, String> want = Map.of("bn_fold", "ppppfpppi", "bn_fold_dgamma", "pppppi", "copy_window", "piiiipiiiiiiii");
        for (var e : want.entrySet()) {
            assertNotNull(es.get(e.getKey()), e.getKey());
            assertEquals(e.getValue(), es.get(e.getKey()).kinds(), e.getKey());
        }
        assertNotNull(KernelFilesTest.resource("layers.sm_80.cubin"));
        assertNotNull(KernelFilesTest.resource("layers.sm_90.cubin"));
    }
}
